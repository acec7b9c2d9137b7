"""A teeth child process: ``python -m loopwarden.teeth.child PLAN.json [PYTEST ARGS...]``.

Installs the import hook for the modules named in the plan (before anything else can import
them), then runs pytest in this process with a small plugin that records, per test, which
offload sites ran (trace mode), whether the forced mutant was reached, the failures and the
durations, and writes them to the plan's ``out`` file.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from loopwarden.teeth._rt import TeethRuntime
from loopwarden.teeth.hook import MutantFinder, install
from loopwarden.teeth.mutate import RUNTIME_NAME, SiteNotFound, SiteSpec, rewrite

# Self-test knob: mutants are not applied (as with an import hook that silently fails);
# the forced-mutant check must then stop the run.
DISABLE_HOOK_ENV = "LOOPWARDEN_TEETH_DISABLE_HOOK"

if TYPE_CHECKING:
    import pytest


class _Plugin:
    def __init__(self, runtime: TeethRuntime, select: list[str] | None) -> None:
        self.runtime = runtime
        self.select = None if select is None else set(select)
        self.failures: list[dict[str, str]] = []
        self.durations: dict[str, float] = {}
        self.collected = 0
        self.rootdir: str | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.rootdir = str(config.rootpath)

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.select is not None:
            keep = [i for i in items if i.nodeid in self.select]
            dropped = [i for i in items if i.nodeid not in self.select]
            if dropped:
                config.hook.pytest_deselected(items=dropped)
            items[:] = keep
        self.collected = len(items)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.runtime.current = nodeid

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.runtime.current = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + float(getattr(report, "duration", 0.0))
        if report.failed:
            crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
            self.failures.append(
                {
                    "test": report.nodeid,
                    "phase": report.when,
                    "message": getattr(crash, "message", "") or "",
                    "text": (report.longreprtext or "")[-4000:],
                }
            )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failures.append({"test": report.nodeid, "phase": "collect", "message": "", "text": (report.longreprtext or "")[-4000:]})


def _watch_parent() -> None:
    """Exit when the driver dies (SIGKILL included): no orphan keeps running tests."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(70)

    threading.Thread(target=watch, name="loopwarden-teeth-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    plan_path, pytest_args = argv[0], argv[1:]
    with open(plan_path, encoding="utf-8") as fh:
        plan = json.load(fh)
    if plan.get("watch_parent", True):
        _watch_parent()
    mode = plan["mode"]
    targets: dict[str, list[SiteSpec]] = {path: [SiteSpec.from_json(s) for s in specs] for path, specs in plan["targets"].items()}
    errors: list[str] = []
    rewritten: list[int] = []

    def do_rewrite(tree: ast.Module, real: str) -> ast.Module:
        specs = targets.get(real, [])
        try:
            tree, done = rewrite(tree, specs, mode)
        except SiteNotFound as exc:
            errors.append(f"{real}: {exc}")
            return tree
        rewritten.extend(sorted(done))
        missing = [s.id for s in specs if s.id not in done]
        if missing:
            errors.append(f"{real}: no offload call at the recorded position of site(s) {missing} (file changed since the scan?)")
        return tree

    runtime = TeethRuntime()
    setattr(builtins, RUNTIME_NAME, runtime)
    finder = MutantFinder(set(targets), do_rewrite)
    if mode == "trace" or not os.environ.get(DISABLE_HOOK_ENV):
        install(finder)
    import pytest

    plugin = _Plugin(runtime, plan.get("select"))
    started = time.perf_counter()
    code = pytest.main(pytest_args, plugins=[plugin])
    unhooked, unhooked_files = [], []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        real = os.path.realpath(path) if isinstance(path, str) else None
        if real in finder.targets and real not in finder.loaded:
            unhooked.append(name)
            unhooked_files.append(real)
    result = {
        "exit": int(code),
        "seconds": time.perf_counter() - started,
        "hits": {str(k): sorted(v) for k, v in runtime.hits.items()},
        "forced": runtime.forced_hits,
        "failures": plugin.failures,
        "durations": plugin.durations,
        "collected": plugin.collected,
        "loaded": sorted(set(finder.loaded)),
        "unhooked": sorted(unhooked),
        "unhooked_files": sorted(set(unhooked_files)),
        "rootdir": plugin.rootdir,
        "rewritten": sorted(set(rewritten)),
        "errors": errors,
    }
    tmp = plan["out"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    os.replace(tmp, plan["out"])
    return int(code)


def _preimport(targets: list[str]) -> None:
    """Import pytest and its entry-point plugins once, in the fork server, so that each
    mutant run starts warm. Plugins that live next to the code under test are left alone:
    a module imported here could not be mutated later."""
    import importlib
    from importlib import metadata

    import pytest  # noqa: F401

    for name in ("_pytest.python", "_pytest.fixtures", "_pytest.runner", "_pytest.terminal", "_pytest.assertion.rewrite"):
        importlib.import_module(name)
    for name in ("blockbuster", "loopwarden.runtime.gate", "loopwarden.runtime.session"):
        try:  # the gate's own imports, done lazily by the plugin when a test is gated
            importlib.import_module(name)
        except Exception:
            pass
    roots = [os.path.dirname(t) for t in targets]
    for entry in metadata.entry_points(group="pytest11"):
        top = entry.value.split(":")[0].split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        where = spec.origin if spec is not None and spec.origin else None
        if where is None and spec is not None and spec.submodule_search_locations:
            where = list(spec.submodule_search_locations)[0]
        if where is None:
            continue
        home = os.path.dirname(os.path.realpath(where))
        if any(r == home or r.startswith(home + os.sep) for r in roots):
            continue
        try:
            entry.load()
        except Exception:  # a broken plugin fails later, in the run, with pytest's own message
            continue


def serve(targets: list[str]) -> int:
    """Fork server: one warm process; each request (a JSON line on stdin: plan, args, log)
    runs ``main`` in a forked child in its own session; replies are JSON lines on stdout:
    ``{"id", "pid"}`` when started, ``{"pid", "exit"}`` when it ended (negative: signal)."""
    import select
    import signal

    _preimport(targets)
    parent = os.getppid()
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    live: set[int] = set()
    buffer = b""
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.05)
        while live:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            live.discard(pid)
            out.write(json.dumps({"pid": pid, "exit": os.waitstatus_to_exitcode(status)}) + "\n")
            out.flush()
        if os.getppid() != parent:
            ready, buffer = [], b""
            for pid in live:
                _killpg(pid, signal.SIGKILL)
            return 0
        if not ready:
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:  # the driver closed the pipe (or died): stop everything
            for pid in live:
                _killpg(pid, signal.SIGKILL)
            return 0
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:  # the child: its own session, output to the log file
                code = 71
                try:
                    os.setsid()
                    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(log, 1)
                    os.dup2(log, 2)
                    os.close(log)
                    null = os.open(os.devnull, os.O_RDONLY)
                    os.dup2(null, 0)
                    sys.argv = ["loopwarden-teeth-child", request["plan"], *request["args"]]
                    code = main([request["plan"], *request["args"]])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:
                    import traceback

                    traceback.print_exc()
                finally:
                    try:
                        sys.stdout.flush()
                        sys.stderr.flush()
                    finally:
                        os._exit(code)
            live.add(pid)
            out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
            out.flush()


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        sys.exit(serve(json.loads(sys.argv[2])))
    sys.exit(main(sys.argv[1:]))
