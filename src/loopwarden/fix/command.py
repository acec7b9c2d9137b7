"""``loopwarden fix [PATHS] [--key KEY ...] [--min-priority P] [--diff] [--unsafe-fixes]``."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopwarden.catalog import Catalog
    from loopwarden.config import Config
    from loopwarden.fix.codemod import Outcome
    from loopwarden.fix.sites import FixSite, Skip
    from loopwarden.static.findings import Finding
    from loopwarden.static.scan import ScanResult

EXIT_CLEAN, EXIT_LEFT, EXIT_ERROR = 0, 1, 2
MAX_PASSES = 3  # a fix can expose the next call site of the same finding (a helper called twice)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "fix",
        help="offload blocking calls found on the event loop (libcst codemods)",
        description=(
            "Edit the code so that each finding's blocking call runs off the event loop, at the first call on "
            "its chain that leaves async code. Safe fixes are applied; unsafe ones only with --unsafe-fixes; "
            "the rest are shown as hints. Then re-scan and say which findings are gone (by key)."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: the current directory)")
    parser.add_argument("--key", action="append", default=[], metavar="KEY", help="fix only the finding with this key (repeatable)")
    parser.add_argument("--min-priority", default=None, metavar="LEVEL", help="fix only findings at or above LEVEL (HIGH, MEDIUM, LOW)")
    parser.add_argument("--diff", action="store_true", help="print a unified diff of the fixes and write nothing")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply the fixes that may change behaviour")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file instead of the nearest pyproject.toml")


class UsageError(Exception):
    pass


def load_project(paths: list[str], config_path: str | None) -> tuple[Config, Catalog]:
    """The configuration governing the paths (``--config``, else the nearest pyproject.toml) and
    its catalogue."""
    from loopwarden.catalog import CatalogError, load_catalog
    from loopwarden.config import ConfigError, find_pyproject, load_config

    try:
        pyproject = Path(config_path) if config_path else find_pyproject(Path(paths[0]) if os.path.exists(paths[0]) else Path.cwd())
        config = load_config(pyproject)
        catalog = load_catalog(config.catalog, str(pyproject) if pyproject else "pyproject.toml")
    except (ConfigError, CatalogError) as exc:
        raise UsageError(str(exc)) from None
    return config, catalog


def scan_with(paths: list[str], config: Config, catalog: Catalog, min_priority: str | None = None, cwd: str | None = None) -> ScanResult:
    from loopwarden.static.scan import scan

    return scan(
        paths,
        catalog,
        excludes=config.exclude,
        respect_gitignore=config.respect_gitignore,
        max_file_size=config.max_file_size,
        jobs=os.cpu_count() or 1,
        min_priority=min_priority or "LOW",
        cwd=cwd,
    )


def lazy_symbols(catalog: Catalog) -> frozenset[str]:
    return frozenset(symbol for symbol, sink in catalog.sinks.items() if sink.lazy)


def scan_project(paths: list[str], config_path: str | None, min_priority: str | None = None) -> tuple[ScanResult, frozenset[str]]:
    """(ScanResult, lazy symbols) for the paths, with the project's configuration."""
    config, catalog = load_project(paths, config_path)
    return scan_with(paths, config, catalog, min_priority), lazy_symbols(catalog)


def _priority(value: str | None) -> str | None:
    if value is None:
        return None
    upper = value.upper()
    if upper not in ("HIGH", "MEDIUM", "LOW"):
        raise UsageError(f"--min-priority: expected one of HIGH, MEDIUM, LOW, got {value!r}")
    return upper


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except UsageError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


@dataclass
class FixRun:
    """What ``fix_findings`` did: each outcome with the keys it serves (every outcome of the first
    pass, the applied ones of later passes), the entry points left alone, the files' bytes before
    and after, the keys it meant to fix, and the last scan (after the fixes, when written)."""

    reported: list[tuple[Outcome, list[str]]]
    skips: list[Skip]
    originals: dict[str, bytes]
    current: dict[str, bytes]
    wanted: set[str]
    result: ScanResult
    selected: list[Finding]


def fix_findings(
    paths: list[str],
    config_path: str | None,
    result: ScanResult,
    selected: list[Finding],
    lazy: frozenset[str],
    *,
    unsafe: bool,
    write: bool,
    min_priority: str | None = None,
) -> FixRun:
    """Fix the ``selected`` findings of ``result``: plan, edit (written atomically when ``write``),
    and, when written, re-scan and fix again what a fix exposed (at most MAX_PASSES passes)."""
    from loopwarden.fix.codemod import apply
    from loopwarden.fix.sites import plan

    wanted = {f.key for f in selected}
    originals: dict[str, bytes] = {}
    current: dict[str, bytes] = {}
    reported: list[tuple[Outcome, list[str]]] = []
    skips: list[Skip] = []
    for number in range(MAX_PASSES if write else 1):
        sites, new_skips = plan(selected, lazy)
        if number == 0:
            skips = new_skips
            wanted = {key for keys in sites.values() for key in keys}  # keys with a site to fix
        by_file: dict[str, list[FixSite]] = {}
        for site in sorted(sites, key=lambda s: (s.path, s.line, s.column or 0, s.kind)):
            by_file.setdefault(site.path, []).append(site)
        changed = False
        for path, file_sites in by_file.items():
            try:
                source = current.get(path) or Path(path).read_bytes()
                new, outcomes = apply(source, file_sites, unsafe=unsafe)
            except Exception as exc:  # a file libcst cannot parse, or cannot read: one line, the rest goes on
                print(f"loopwarden: cannot fix {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
                continue
            originals.setdefault(path, source)
            reported.extend((o, sites[o.site]) for o in outcomes if number == 0 or o.applied)
            if new != source:
                current[path] = new
                changed = True
                if write:
                    _write_atomically(Path(path), new)
        if not write or not changed:
            break
        result, lazy = scan_project(paths, config_path, min_priority)
        selected = [f for f in result.findings if f.key in wanted]
    return FixRun(reported, skips, originals, current, wanted, result, selected)


def _run(args: argparse.Namespace) -> int:
    from loopwarden.fix.sites import DISPLAY, NOT_FIXED_SCOPES, UNSAFE

    paths = args.paths or ["."]
    min_priority = _priority(args.min_priority)
    result, lazy = scan_project(paths, args.config, min_priority)
    for skipped in result.skipped:
        print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    selected = [f for f in result.findings if not args.key or f.key in args.key]
    missing = [key for key in args.key if key not in {f.key for f in result.findings}]
    for key in missing:
        print(f"loopwarden: no finding with key {key}", file=sys.stderr)
    done = fix_findings(paths, args.config, result, selected, lazy, unsafe=args.unsafe_fixes, write=not args.diff, min_priority=min_priority)
    reported, skips, originals, current, wanted = done.reported, done.skips, done.originals, done.current, done.wanted
    result, selected = done.result, done.selected
    out = sys.stdout
    applied = unsafe_left = hints = 0
    for outcome, keys in reported:
        site = outcome.site
        if outcome.applied:
            applied += 1
            status = f"{'fix' if args.diff else 'fixed'} ({outcome.safety})"
        elif outcome.safety == UNSAFE:
            unsafe_left += 1
            status = "unsafe fix, not applied (use --unsafe-fixes)"
        else:
            hints += 1
            status = "display-only" if outcome.safety == DISPLAY else outcome.safety
        out_stream = sys.stderr if args.diff else out
        print(f"{site.path}:{site.line}: {site.kind}: {status}: {outcome.text}", file=out_stream)
        for key in keys:
            print(f"    {key}", file=out_stream)
    for skip in skips if args.key else ():  # named on request; otherwise counted in the summary
        print(f"{skip.path}:{skip.line}: not fixed: {skip.reason}: {skip.key}", file=sys.stderr if args.diff else out)
    if args.diff:
        for path in sorted(current):
            before = originals[path].decode("utf-8", "replace").splitlines(keepends=True)
            after = current[path].decode("utf-8", "replace").splitlines(keepends=True)
            out.writelines(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))
        print(
            f"{applied} fix(es) in {len(current)} file(s) would be applied; {unsafe_left} unsafe fix(es) need --unsafe-fixes; {hints} hint(s); nothing written",
            file=sys.stderr,
        )
        return EXIT_LEFT if current else EXIT_CLEAN
    remaining = sorted({f.key for f in selected} & wanted) if current else sorted(wanted)
    # keys still reported only from start-up, CLI or test code: fixed where they were served
    off_duty = {f.key for f in selected if f.entry_points and all(p.scope in NOT_FIXED_SCOPES for p in f.entry_points)}
    served = {f.key for f in selected if not all(p.scope in NOT_FIXED_SCOPES for p in f.entry_points)}
    startup_only = [key for key in remaining if key in off_duty and key not in served] if current else []
    remaining = [key for key in remaining if key not in startup_only]
    print(
        f"{applied} fix(es) applied in {len(current)} file(s); {unsafe_left} unsafe fix(es) need --unsafe-fixes; {hints} hint(s)",
        file=out,
    )
    gone = len(wanted) - len(remaining) - len(startup_only)
    alone = len({skip.key for skip in skips} - wanted)
    left = f"; {alone} finding key(s) left alone (reached only from start-up, CLI or test code)" if alone else ""
    print(f"re-scan: {gone} of {len(wanted)} finding key(s) no longer reported{left}", file=out)
    for key in remaining:
        print(f"    still reported: {key}", file=out)
    for key in startup_only:
        print(f"    still reported, from start-up, CLI or test code only: {key}", file=out)
    return EXIT_LEFT if remaining or result.skipped else EXIT_CLEAN


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace the file in one step, keeping its permissions (through symlinks)."""
    from loopwarden._files import replace_atomically

    replace_atomically(path, data)
