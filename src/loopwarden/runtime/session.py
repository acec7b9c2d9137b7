"""The gate's pytest session: which tests are gated, switching the gate around each of them,
turning hits and stalls into test outcomes, and the summary and JSON report.

Registered as a plugin object by ``loopwarden.runtime.plugin`` unless ``--no-loopwarden``.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from loopwarden.runtime.options import Decision, Options, decide
from loopwarden.runtime.records import REPORT_SCHEMA, GateFailure, Hit, OptOut, StaleAllowance, Stall
from loopwarden.runtime.rules import (
    AllowedFrame,
    ConfigError,
    Target,
    allowed_frame,
    read_pyproject,
    resolve,
    runtime_settings,
)

if TYPE_CHECKING:
    from loopwarden.runtime.expect import RaisesHook
    from loopwarden.runtime.gate import Gate
    from loopwarden.runtime.project import Project
    from loopwarden.runtime.watchdog import Watchdog

_DECISION_KEY = pytest.StashKey[Decision]()
_REPORT_ATTRIBUTE = "loopwarden"  # JSON-able data on TestReport: pytest-xdist ships it to the controller


class LoopwardenStallWarning(pytest.PytestWarning):
    """An event-loop stall during a gated test (``loopwarden_stall = warn``)."""


class GateSession:
    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.test_files: set[Path] = set()
        self._extra: tuple[Target, ...] | None = None
        self._allowed: tuple[AllowedFrame, ...] = ()
        self._allow_entries: tuple[tuple[str, AllowedFrame], ...] = ()
        self._allow_origin = ""
        self.allowances_used: set[tuple[str, str]] = set()
        self.opt_outs_matched: set[str] = set()  # opted-out tests that did block
        self._project: Project | None = None
        self._gate: Gate | None = None
        self._watchdog: Watchdog | None = None
        self._raises_hook: RaisesHook | None = None
        self._pending_hits: list[Hit] = []
        self._pending_stalls: list[Stall] = []
        # what the controller (or the only process) saw, for the summary and the report
        self.gated_nodeids: list[str] = []
        self.hits: list[Hit] = []
        self.expected_hits: list[Hit] = []
        self.stalls: list[Stall] = []
        self.opt_outs: list[OptOut] = []

    @property
    def gated_tests(self) -> int:
        return len(self.gated_nodeids)

    # -- configuration ---------------------------------------------------------------------
    @property
    def pyproject_path(self) -> Path:
        return self.config.rootpath / "pyproject.toml"

    def load_rules(self) -> None:
        """Read and resolve ``[tool.loopwarden.runtime]``: a bad entry stops the run here."""
        if self._extra is not None:
            return
        try:
            settings = runtime_settings(read_pyproject(self.pyproject_path), self.pyproject_path.name)
            where = f"{settings.origin} [tool.loopwarden.runtime]"
            self._extra = tuple(resolve(entry, f"{where} extra") for entry in settings.extra)
            self._allowed = tuple(allowed_frame(entry, f"{where} allow") for entry in settings.allow)
            self._allow_entries = tuple(zip(settings.allow, self._allowed, strict=True))
            self._allow_origin = where
        except ConfigError as error:
            raise pytest.UsageError(f"loopwarden: {error}") from None

    def _build_project(self) -> Project:
        from loopwarden.runtime.project import detect_project

        try:
            pyproject = read_pyproject(self.pyproject_path)
            return detect_project(self.config.rootpath, self.options.modules, pyproject, self.test_files)
        except ConfigError as error:
            raise pytest.UsageError(f"loopwarden: {error}") from None

    def _ensure_gate(self) -> Gate:
        if self._gate is None:
            from loopwarden.runtime.gate import Gate
            from loopwarden.runtime.watchdog import Watchdog

            self.load_rules()
            project = self._project or self._build_project()
            self._gate = Gate(project, extra=self._extra or (), allowed=self._allowed, scope=self.options.scope)
            gate = self._gate
            self._watchdog = Watchdog(
                project, self.options.stall_ms, lambda: (gate.test, gate.phase), gate.own_time, gate.busy
            )
        return self._gate

    # -- hooks: before the tests -------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.options.enabled_up_front:
            require_blockbuster()
            self.load_rules()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            item.stash[_DECISION_KEY] = decide(item, self.options)
        if any(item.stash[_DECISION_KEY].gated for item in items):
            require_blockbuster()
            self.load_rules()
            self.test_files.update(item.path for item in items)
            self._project = self._build_project()
            self._build_gate_now()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if self._project is not None and reporter is not None and not hasattr(self.config, "workerinput"):
            reporter.write_line(self._project.header(bool(self.options.modules)))

    def _build_gate_now(self) -> None:
        """Build the gate before the first test, so that a broken rule is a usage error, not
        an internal error in the middle of a test. (The built-in catalogue, which only names
        hits, is loaded on the first hit: a suite without hits never pays for it.)"""
        try:
            self._ensure_gate()
        except ConfigError as error:
            raise pytest.UsageError(f"loopwarden: {error}") from None

    # -- hooks: around each test -------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        decision = item.stash.get(_DECISION_KEY, None)
        if decision is None or not (decision.gated or (decision.opted_out and self._gate is not None)):
            return (yield)
        # an opted-out test runs with the gate observing: nothing raised, nothing failed, but
        # a marker on a test that never blocks is reported as stale
        with self._gating(item.nodeid, observe=not decision.gated):
            return (yield)

    @contextmanager
    def _gating(self, nodeid: str, observe: bool = False) -> Iterator[None]:
        gate = self._ensure_gate()
        assert self._watchdog is not None
        gate.observing, gate.observed = observe, 0
        gate.test, gate.phase = nodeid, "setup"
        gate.quiet_files.clear()
        gate.quiet_files.update(self._pytest_log_files())
        self._pending_hits, self._pending_stalls = [], []
        from loopwarden.runtime import expect

        if self._raises_hook is None:
            self._raises_hook = expect.RaisesHook(gate)
        try:
            if not observe:
                self._watchdog.start()
            self._raises_hook.install()
            expect.active_gate = gate
            gate.activate()
            yield
        finally:
            # Always restored: failures, errors, KeyboardInterrupt, pytest.exit.
            gate.deactivate()
            gate.observing = False
            expect.active_gate = None
            self._raises_hook.uninstall()
            self._watchdog.pause()
            gate.test = "<between tests>"

    def _pytest_log_files(self) -> set[int]:
        """pytest's own ``--log-file`` handler writes on whatever thread logs: not the project's."""
        logging_plugin = self.config.pluginmanager.get_plugin("logging-plugin")
        stream = getattr(getattr(logging_plugin, "log_file_handler", None), "stream", None)
        return {id(stream)} if stream is not None else set()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self._set_phase("setup")
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self._set_phase("call")
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        self._set_phase("teardown")
        return (yield)

    def _set_phase(self, phase: str) -> None:
        if self._gate is not None:
            self._gate.phase = phase

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        decision = item.stash.get(_DECISION_KEY, None)
        if decision is None or not (decision.gated or decision.opted_out):
            return report
        data: dict[str, Any] = {}
        if call.when == "setup":
            data["gated"] = decision.gated and not report.skipped  # a skipped test was not gated
            if decision.opted_out:
                data["opt_out"] = OptOut(item.nodeid, decision.opt_out_reason).to_json()
        elif call.when == "call" and report.skipped and not hasattr(report, "wasxfail"):
            data["skipped"] = True  # pytest.skip() inside the test: it was not gated either
        if self._gate is not None:
            if decision.opted_out and self._gate.observed:
                data["opt_out_matched"] = True
            if self._gate.allowances_used:
                data["allow_used"] = sorted(self._gate.allowances_used)
                self._gate.allowances_used.clear()
        if decision.gated:
            hits, stalls = self._surface(item, call, report)
            data["hits"] = [hit.to_json() for hit in hits]
            data["expected"] = [hit.to_json() for hit in self._gate.take_expected()] if self._gate else []
            data["stalls"] = [stall.to_json() for stall in stalls]
        setattr(report, _REPORT_ATTRIBUTE, data)
        return report

    def _surface(
        self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> tuple[list[Hit], list[Stall]]:
        """Turn the hits and stalls so far into this phase's outcome; returns those surfaced."""
        assert self._gate is not None and self._watchdog is not None
        self._pending_hits += self._gate.take_hits()
        new_stalls = self._watchdog.take_stalls()
        failing_new = new_stalls if self.options.stall_fail else self._warn_stalls(item, new_stalls)
        warned = [stall for stall in new_stalls if all(stall is not failing for failing in failing_new)]
        self._pending_stalls += failing_new
        hits, failing_stalls = self._pending_hits, self._pending_stalls
        if not hits and not failing_stalls:
            return [], warned
        if report.passed and call.when == "setup":
            return [], warned  # the call phase of the same test fails with them
        failure = _failure(hits, failing_stalls)
        if report.skipped and hasattr(report, "wasxfail"):
            report.sections.append(("loopwarden", str(failure)))  # a known failure stays xfail
        elif report.passed or (report.skipped and call.when == "call"):
            report.outcome = "failed"
            report.longrepr = failure  # type: ignore[assignment]  # pytest takes any object with toterminal()
        elif report.failed and _caused_by_blocking(call.excinfo):
            report.longrepr = failure  # type: ignore[assignment]
        else:
            report.sections.append(("loopwarden", str(failure)))
        self._pending_hits, self._pending_stalls = [], []
        return hits, warned + failing_stalls

    def _warn_stalls(self, item: pytest.Item, stalls: list[Stall]) -> list[Stall]:
        """Warn about each stall; returns those whose warning raised (``-W error``): they fail."""
        failed = []
        for stall in stalls:
            try:
                item.warn(LoopwardenStallWarning(stall.message()))
            except Exception:
                failed.append(stall)
        return failed

    # -- hooks: collecting and reporting -------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, _REPORT_ATTRIBUTE, None)
        if not data:
            return
        if data.get("gated"):
            self.gated_nodeids.append(report.nodeid)
        if data.get("skipped") and report.nodeid in self.gated_nodeids:
            self.gated_nodeids.remove(report.nodeid)
        if data.get("opt_out"):
            self.opt_outs.append(OptOut(**data["opt_out"]))
        if data.get("opt_out_matched"):
            self.opt_outs_matched.add(report.nodeid)
        self.allowances_used.update((str(file), str(function)) for file, function in data.get("allow_used", ()))
        self.hits += [Hit.from_json(hit) for hit in data.get("hits", ())]
        self.expected_hits += [Hit.from_json(hit) for hit in data.get("expected", ())]
        self.stalls += [Stall.from_json(stall) for stall in data.get("stalls", ())]

    def stale_allowances(self) -> list[StaleAllowance]:
        """Allow entries that stopped no hit, and opt-out markers on tests that never blocked."""
        if not self.gated_tests:
            return []
        stale = [
            StaleAllowance("allow", entry, self._allow_origin)
            for entry, frame in self._allow_entries
            if not any(file.endswith(frame.filename) and name in frame.functions for file, name in self.allowances_used)
        ]
        stale += [
            StaleAllowance("marker", opt_out.test, opt_out.test.partition("::")[0])
            for opt_out in self.opt_outs
            if opt_out.test not in self.opt_outs_matched
        ]
        return stale

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not (self.gated_tests or self.opt_outs):
            return
        from loopwarden.runtime.summary import summary_lines

        terminalreporter.write_sep("=", "loopwarden")
        for line, markup in summary_lines(
            self.gated_tests, self.hits, self.stalls, self.opt_outs, self.expected_hits, self.stale_allowances()
        ):
            terminalreporter.write_line(line, **markup)
        if self.config.get_verbosity() > 0:
            terminalreporter.write_line("gated tests:", bold=True)
            for nodeid in self.gated_nodeids:
                terminalreporter.write_line(f"  {nodeid}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.options.report_path and not hasattr(self.config, "workerinput"):
            self._write_report(Path(self.options.report_path))

    def _write_report(self, path: Path) -> None:
        from loopwarden import __version__

        document = {
            "tool": "loopwarden",
            "kind": "runtime",
            "version": __version__,
            "schema": REPORT_SCHEMA,
            "gated_tests": self.gated_tests,
            "hits": [hit.to_json() for hit in self.hits],
            "expected_hits": [hit.to_json() for hit in self.expected_hits],
            "stalls": [stall.to_json() for stall in self.stalls],
            "opt_outs": [opt_out.to_json() for opt_out in self.opt_outs],
            "stale_allowances": [stale.to_json() for stale in self.stale_allowances()],
        }
        if not path.is_absolute():
            path = self.config.invocation_params.dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")

    def pytest_unconfigure(self) -> None:
        if self._gate is not None:
            self._gate.deactivate()
        if self._watchdog is not None:
            self._watchdog.stop()


def require_blockbuster() -> None:
    """The gate needs blockbuster (the ``loopwarden[pytest]`` extra); a scan-only install
    has none, and then switching the gate on is one usage error, nothing else."""
    try:
        import blockbuster  # noqa: F401
    except ImportError as error:
        raise pytest.UsageError(
            f"loopwarden: the runtime gate needs blockbuster, which cannot be imported ({error}): "
            "pip install 'loopwarden[pytest]'"
        ) from None


def _failure(hits: list[Hit], stalls: list[Stall]) -> GateFailure:
    if hits:
        first = hits[0]
        text = first.message(more=len(hits) - 1 + len(stalls))
        location = first.location
    else:
        text = stalls[0].message()
        location = stalls[0].location
    return GateFailure(text, location.path if location else "<loop>", location.line if location else 0)


def _caused_by_blocking(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    from blockbuster import BlockingError

    return excinfo is not None and _chain_contains(excinfo.value, BlockingError, set())


def _chain_contains(error: BaseException | None, kind: type[BaseException], seen: set[int]) -> bool:
    """Through ``raise ... from``, implicit context and exception groups (anyio task groups)."""
    if error is None or id(error) in seen:
        return False
    seen.add(id(error))
    if isinstance(error, kind):
        return True
    for inner in getattr(error, "exceptions", ()):
        if _chain_contains(inner, kind, seen):
            return True
    return _chain_contains(error.__cause__, kind, seen) or _chain_contains(error.__context__, kind, seen)
