"""The gate's command-line and ini options, and which tests they gate."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import pytest

_STALL_MODES = ("warn", "fail")
SCOPES = ("project", "called-from-project")


@dataclass(frozen=True)
class Options:
    gate_all: bool
    disabled: bool
    paths: tuple[str, ...]
    modules: tuple[str, ...]
    stall_ms: float
    stall_fail: bool
    report_path: str | None
    scope: str = "project"

    @property
    def enabled_up_front(self) -> bool:
        """Gating known before collection (markers only show up after it)."""
        return not self.disabled and (self.gate_all or bool(self.paths))


@dataclass(frozen=True)
class Decision:
    gated: bool
    opted_out: bool = False  # wanted by the gate, but marked @pytest.mark.allow_blocking_io
    opt_out_reason: str | None = None  # None: a bare marker, accepted without a reason


def read_options(config: pytest.Config) -> Options:
    stall_mode = str(config.getini("loopwarden_stall")).strip().lower()
    if stall_mode not in _STALL_MODES:
        raise pytest.UsageError(f"loopwarden_stall = {stall_mode!r}: expected one of {', '.join(_STALL_MODES)}")
    raw_ms = str(config.getini("loopwarden_stall_ms")).strip()
    try:
        stall_ms = float(raw_ms)
    except ValueError:
        stall_ms = -1.0
    if stall_ms <= 0:
        raise pytest.UsageError(f"loopwarden_stall_ms = {raw_ms!r}: expected a positive number of milliseconds")
    scope = str(config.getini("loopwarden_scope")).strip().lower()
    if scope not in SCOPES:
        raise pytest.UsageError(f"loopwarden_scope = {scope!r}: expected one of {', '.join(SCOPES)}")
    return Options(
        gate_all=bool(config.getoption("loopwarden")),
        disabled=bool(config.getoption("no_loopwarden")),
        paths=tuple(config.getini("loopwarden_paths")),
        modules=tuple(config.getini("loopwarden_modules")),
        stall_ms=stall_ms,
        stall_fail=stall_mode == "fail",
        report_path=config.getoption("loopwarden_report"),
        scope=scope,
    )


def decide(item: pytest.Item, options: Options) -> Decision:
    """Whether the gate wants this test; the opt-out marker is read only when it does, so a
    project's own markers mean nothing to loopwarden until the gate is switched on."""
    if options.disabled:
        return Decision(False)
    wanted = (
        options.gate_all
        or item.get_closest_marker("loopwarden") is not None
        or matches_paths(item, options.paths, item.config.rootpath)
    )
    if not wanted:
        return Decision(False)
    marker = item.get_closest_marker("allow_blocking_io")
    if marker is not None:
        return Decision(False, True, opt_out_reason(marker))
    return Decision(True)


def opt_out_reason(marker: pytest.Mark) -> str | None:
    """``reason="..."`` or the first argument; a bare marker (the de-facto spelling in projects
    that gate with blockbuster by hand) is accepted and listed as having no reason."""
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else None)
    if not isinstance(reason, str) or not reason.strip():
        return None
    return reason.strip()


def matches_paths(item: pytest.Item, patterns: tuple[str, ...], rootpath: object) -> bool:
    if not patterns:
        return False
    try:
        relative = item.path.relative_to(rootpath).as_posix()  # type: ignore[arg-type]
    except ValueError:
        return False
    return any(_matches(relative, pattern) for pattern in patterns)


def _matches(relative: str, pattern: str) -> bool:
    pattern = pattern.strip()
    if fnmatch.fnmatch(relative, pattern):
        return True
    # "tests/blocking_io" (a directory) gates everything below it
    return fnmatch.fnmatch(relative, pattern.rstrip("/") + "/*")
