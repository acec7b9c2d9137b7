"""Runs the teeth check: a green gated baseline that also traces which tests execute each
site, one forced mutant that must be killed, then one mutant per site in child processes
(in parallel, each with a timeout), classified and cached."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from loopwarden import __version__
from loopwarden.teeth.sites import Site, file_digest

KILLED, SURVIVED, NOT_COVERED, ERROR, NOT_BLOCKING, TIMEOUT = "KILLED", "SURVIVED", "NOT_COVERED", "ERROR", "NOT_BLOCKING", "TIMEOUT"
OUTCOMES = (KILLED, SURVIVED, NOT_COVERED, ERROR, NOT_BLOCKING, TIMEOUT)
_CACHED_OUTCOMES = (KILLED, SURVIVED, NOT_BLOCKING, NOT_COVERED, ERROR)
_NO_TEST = "<no test>"


class TeethStop(Exception):
    """The check cannot go on (baseline red, no gated test, forced mutant not killed)."""


@dataclass(frozen=True)
class SiteResult:
    site: Site
    outcome: str
    tests: tuple[str, ...] = ()  # the tests the mutant ran against (the selection)
    killed_by: dict[str, Any] | None = None  # {"test", "key", "symbol", "location"}
    detail: str | None = None
    cached: bool = False
    seconds: float = 0.0
    cacheable: bool = True  # False for what may not happen again (a crash, a hook problem)


@dataclass
class RunOptions:
    test_args: list[str]
    jobs: int = 1
    timeout: float | None = None  # per mutant; None: derived from the baseline's time
    select: bool = True
    cache_dir: str | None = None
    python: str = sys.executable
    tests_fingerprint: str = ""  # digest of every test file: NOT_COVERED stays cached while it holds
    log: Callable[[str], None] = lambda message: None


@dataclass
class RunStats:
    baseline_seconds: float | None = None
    gated_tests: int | None = None
    forced_site: str | None = None
    mutants_run: int = 0
    cached: int = 0
    notes: list[str] = field(default_factory=list)


class _Children:
    """Child processes in their own sessions (a timeout kills the whole group); all are
    killed if the driver stops early. Each child also exits by itself when the driver dies.

    Children are forked from one warm server process (pytest and its plugins imported once)
    when the platform allows it; otherwise each is a fresh interpreter."""

    def __init__(self, python: str, targets: list[str]) -> None:
        self._python = python
        self._targets = targets
        self._live: set[int] = set()
        self._lock = threading.Lock()
        self._server: subprocess.Popen[bytes] | None = None
        self._started: dict[int, int] = {}
        self._exits: dict[int, int] = {}
        self._cond = threading.Condition(self._lock)
        self._next = 0
        self._server_gone = False

    def _ensure_server(self) -> bool:
        if self._server is not None:
            return self._server.poll() is None
        if os.name != "posix" or os.environ.get("LOOPWARDEN_TEETH_NO_FORK"):
            return False
        server = subprocess.Popen(
            [self._python, "-m", "loopwarden.teeth.child", "--server", json.dumps(self._targets)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        assert server.stdout is not None and server.stdin is not None  # both are pipes
        first = server.stdout.readline()
        if b"ready" not in first:
            server.kill()
            server.wait()
            self._server = None
            os.environ["LOOPWARDEN_TEETH_NO_FORK"] = "1"
            return False
        self._server = server
        threading.Thread(target=self._read, name="loopwarden-teeth-server", daemon=True).start()
        return True

    def _read(self) -> None:
        assert self._server is not None and self._server.stdout is not None
        for line in self._server.stdout:
            message = json.loads(line)
            with self._cond:
                if "id" in message:
                    self._started[message["id"]] = message["pid"]
                else:
                    self._exits[message["pid"]] = message["exit"]
                self._cond.notify_all()
        with self._cond:  # the server is gone: nothing more will end
            self._server_gone = True
            self._cond.notify_all()

    def run(self, cmd: list[str], timeout: float | None, log: str) -> tuple[int | None, str]:
        with self._lock:
            use_server = self._ensure_server()
        if not use_server:
            return self._run_fresh(cmd, timeout)
        with self._cond:
            self._next += 1
            request = self._next
            message = {"id": request, "plan": cmd[3], "args": cmd[4:], "log": log}
            assert self._server is not None and self._server.stdin is not None
            self._server.stdin.write((json.dumps(message) + "\n").encode())
            self._server.stdin.flush()
            self._cond.wait_for(lambda: request in self._started or self._server_gone)
            pid = self._started.pop(request, None)
            if pid is None:
                return 1, "the teeth fork server died"
            self._live.add(pid)
            deadline = None if timeout is None else time.monotonic() + timeout
            timed_out = False
            while pid not in self._exits and not self._server_gone:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    timed_out = True
                    _killpg(pid)
                    deadline = None
                    continue
                self._cond.wait(left)
            code = self._exits.pop(pid, 1)
            self._live.discard(pid)
        try:
            with open(log, encoding="utf-8", errors="replace") as fh:
                output = fh.read()
        except OSError:
            output = ""
        return (None if timed_out else code), output

    def _run_fresh(self, cmd: list[str], timeout: float | None) -> tuple[int | None, str]:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        with self._lock:
            self._live.add(proc.pid)
        try:
            out, _ = proc.communicate(timeout=timeout)
            return proc.returncode, out.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            _killpg(proc.pid)
            out, _ = proc.communicate()
            return None, out.decode("utf-8", "replace")
        finally:
            with self._lock:
                self._live.discard(proc.pid)

    def kill_all(self) -> None:
        with self._lock:
            for pid in list(self._live):
                _killpg(pid)
            if self._server is not None:
                try:
                    if self._server.stdin is not None:
                        self._server.stdin.close()
                except OSError:
                    pass
                try:
                    self._server.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._server.kill()


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Teeth:
    def __init__(self, sites: list[Site], options: RunOptions) -> None:
        self.sites = sites
        self.options = options
        self.stats = RunStats()
        self._children = _Children(options.python, sorted({s.real for s in sites}))
        self._tmp = tempfile.mkdtemp(prefix="loopwarden-teeth-")
        self._counter = 0
        self._lock = threading.Lock()
        self.rootdir: str | None = None

    # -- child processes ---------------------------------------------------------------------
    def _child(self, mode: str, sites: list[tuple[int, Site]], select: list[str] | None, extra: list[str], timeout: float | None) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            n = self._counter
        plan_path = os.path.join(self._tmp, f"plan-{n}.json")
        out = os.path.join(self._tmp, f"out-{n}.json")
        report = os.path.join(self._tmp, f"gate-{n}.json")
        targets: dict[str, list[dict[str, Any]]] = {}
        for number, site in sites:
            targets.setdefault(site.real, []).append(site.spec(number).to_json())
        plan = {"mode": mode, "targets": targets, "out": out, "select": select}
        with open(plan_path, "w", encoding="utf-8") as fh:
            json.dump(plan, fh)
        args = [*self.options.test_args, "-p", "no:cacheprovider", "--loopwarden", "--loopwarden-report", report, *extra]
        cmd = [self.options.python, "-m", "loopwarden.teeth.child", plan_path, *args]
        started = time.perf_counter()
        log = os.path.join(self._tmp, f"log-{n}.txt")
        code, output = self._children.run(cmd, timeout, log)
        result: dict[str, Any] = {"exit": code, "output": output, "wall": time.perf_counter() - started, "timed_out": code is None}
        if os.path.exists(out):
            with open(out, encoding="utf-8") as fh:
                result.update(json.load(fh))
            result["exit"] = code
        else:
            result["crashed"] = True
        gate = None
        if os.path.exists(report):
            try:
                with open(report, encoding="utf-8") as fh:
                    gate = json.load(fh)
            except (OSError, ValueError):
                gate = None
        result["gate"] = gate
        for path in (plan_path, out, report, log):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        return result

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> list[SiteResult]:
        try:
            return self._run()
        finally:
            self._children.kill_all()
            try:
                for name in os.listdir(self._tmp):
                    os.unlink(os.path.join(self._tmp, name))
                os.rmdir(self._tmp)
            except OSError:
                pass

    def _run(self) -> list[SiteResult]:
        results: dict[str, SiteResult] = {}
        pending: list[Site] = []
        for site in self.sites:
            if site.problem is not None:
                results[site.id] = SiteResult(site, ERROR, detail=f"cannot build the mutant: {site.problem}")
                continue
            cached = self._cache_get(site)
            if cached is not None:
                results[site.id] = cached
                self.stats.cached += 1
            else:
                pending.append(site)
        if pending:
            for result in self._verify(pending):
                results[result.site.id] = result
                self._cache_put(result)
        return [results[s.id] for s in self.sites]

    def _verify(self, sites: list[Site]) -> list[SiteResult]:
        numbered = list(enumerate(sites))
        log = self.options.log
        log(f"baseline: running the tests under the gate, tracing {len(sites)} site(s)...")
        base = self._child("trace", numbered, None, ["-q"], None)
        self._check_baseline(base)
        self.rootdir = base.get("rootdir")
        self.stats.baseline_seconds = base["wall"]
        self.stats.gated_tests = base["gate"].get("gated_tests") if base.get("gate") else None
        log(f"baseline: green, {self.stats.gated_tests} gated test(s) in {base['wall']:.1f} s")
        unhooked = set(base.get("unhooked_files") or ())
        coverage: dict[int, list[str]] = {}
        for number, _ in numbered:
            tests = [t for t in base.get("hits", {}).get(str(number), []) if t != _NO_TEST]
            coverage[number] = sorted(tests)
        timeout = self.options.timeout or max(30.0, 3.0 * base["wall"])
        results: list[SiteResult] = []
        to_run: list[tuple[int, Site]] = []
        for number, site in numbered:
            if site.real in unhooked:
                results.append(SiteResult(site, ERROR, cacheable=False, detail="its module was imported before the import hook was installed"))
            elif not coverage[number]:
                results.append(SiteResult(site, NOT_BLOCKING if site.blocking == () else NOT_COVERED))
            else:
                to_run.append((number, site))
        if to_run:
            self._forced(to_run[0], coverage[to_run[0][0]], timeout)
            jobs = max(1, min(self.options.jobs, len(to_run)))
            log(f"mutants: {len(to_run)} to run, {jobs} job(s), timeout {timeout:.0f} s each")
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                results.extend(pool.map(lambda item: self._mutant(item, coverage[item[0]], timeout), to_run))
        return results

    def _check_baseline(self, base: dict[str, Any]) -> None:
        if base.get("crashed"):
            raise TeethStop(f"the baseline test run crashed (exit {base['exit']}):\n{_tail(base['output'])}")
        code = base["exit"]
        if code == 5:
            raise TeethStop("the baseline run collected no tests; choose them with --tests ARGS...")
        if code != 0:
            failures = base.get("failures") or []
            listed = "\n".join(f"  {f['test']} ({f['phase']}): {_first_line(f['message'] or f['text'])}" for f in failures[:10])
            more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
            raise TeethStop(
                f"the tests are not green under the gate (pytest exit {code}); teeth needs a green gated run first.\n"
                f"{listed or _tail(base['output'])}{more}\n"
                "Fix these tests, opt them out with @pytest.mark.allow_blocking_io(reason=...), or choose tests with --tests."
            )
        gate = base.get("gate")
        if not gate or not gate.get("gated_tests"):
            raise TeethStop("no test ran under the gate (the gate's report is missing or counts 0 gated tests)")
        if base.get("unhooked") and not base.get("loaded"):
            raise TeethStop(
                f"the import hook did not take effect: {', '.join(base['unhooked'])} imported without it "
                "(before loopwarden could install it, or from another copy of the file)"
            )
        if base.get("errors"):
            self.stats.notes.extend(base["errors"])

    def _forced(self, item: tuple[int, Site], tests: list[str], timeout: float) -> None:
        number, site = item
        self.options.log(f"forced mutant at {site.id}: must be killed...")
        result = self._child("forced", [item], tests if self.options.select else None, ["-q", "-x"], timeout)
        self.stats.forced_site = site.id
        reached = bool(result.get("forced"))
        if reached and result["exit"] not in (0, None):
            return
        loaded = result.get("loaded") or []
        raise TeethStop(
            f"the forced mutant at {site.id} was not killed (reached: {'yes' if reached else 'no'}, pytest exit {result['exit']}): "
            "mutants do not reach the code under test, so every site would look SURVIVED. "
            f"Modules loaded through the import hook: {loaded or 'none'}; imported without it: {result.get('unhooked') or 'none'}. "
            "Is the module imported in a separate process (pytest-xdist -n, a subprocess), from another copy of the file, "
            "or before loopwarden could install its hook?"
        )

    def _mutant(self, item: tuple[int, Site], tests: list[str], timeout: float) -> SiteResult:
        number, site = item
        started = time.perf_counter()
        result = self._child("mutant", [item], tests if self.options.select else None, ["-q", "-x"], timeout)
        outcome = classify(site, number, result, tests)
        self.stats.mutants_run += 1
        self.options.log(f"  {site.id}: {outcome.outcome}")
        return SiteResult(**{**outcome.__dict__, "seconds": round(time.perf_counter() - started, 3)})

    # -- cache -------------------------------------------------------------------------------
    def _cache_name(self, site: Site) -> str:
        material = json.dumps(
            [__version__, sys.version_info[:2], site.id, site.end_line, site.end_col, site.wrapper, site.style,
             file_digest(site.real), [file_digest(p) for p in site.related], self.options.test_args, self.options.select, os.path.realpath(os.getcwd())]
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def _cache_get(self, site: Site) -> SiteResult | None:
        if not self.options.cache_dir:
            return None
        path = os.path.join(self.options.cache_dir, self._cache_name(site) + ".json")
        try:
            with open(path, encoding="utf-8") as fh:
                entry = json.load(fh)
        except (OSError, ValueError):
            return None
        if any(file_digest(f) != d for f, d in entry.get("test_files", {}).items()):
            return None
        if entry["outcome"] in (NOT_COVERED, NOT_BLOCKING) and not entry["tests"] and entry.get("fingerprint") != self.options.tests_fingerprint:
            return None
        return SiteResult(site, entry["outcome"], tuple(entry["tests"]), entry.get("killed_by"), entry.get("detail"), cached=True)

    def _cache_put(self, result: SiteResult) -> None:
        if not self.options.cache_dir or result.outcome not in _CACHED_OUTCOMES or not result.cacheable:
            return
        if not result.tests and not self.options.tests_fingerprint:
            return
        files = sorted({t.split("::")[0] for t in result.tests})
        root = self.rootdir or os.getcwd()
        entry = {
            "outcome": result.outcome,
            "tests": list(result.tests),
            "killed_by": result.killed_by,
            "detail": result.detail,
            "test_files": {os.path.join(root, f): file_digest(os.path.join(root, f)) for f in files},
            "fingerprint": self.options.tests_fingerprint,
        }
        os.makedirs(self.options.cache_dir, exist_ok=True)
        path = os.path.join(self.options.cache_dir, self._cache_name(result.site) + ".json")
        fd, tmp = tempfile.mkstemp(dir=self.options.cache_dir, prefix=".entry-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
        os.replace(tmp, path)


def classify(site: Site, number: int, result: dict[str, Any], tests: list[str]) -> SiteResult:
    ran = tuple(tests)
    if result.get("timed_out"):
        return SiteResult(site, TIMEOUT, ran, detail="the mutant's tests did not finish in time")
    if result.get("crashed"):
        return SiteResult(site, ERROR, ran, cacheable=False, detail=f"the test process crashed (exit {result['exit']}): {_first_line(_tail(result['output']))}")
    if number not in set(result.get("rewritten") or ()):
        why = "; ".join(result.get("errors") or ()) or "its module was never imported through the import hook"
        return SiteResult(site, ERROR, ran, cacheable=False, detail=f"mutant not applied: {why}")
    code = result["exit"]
    if code == 0:
        return SiteResult(site, NOT_BLOCKING if site.blocking == () else SURVIVED, ran)
    if site.is_lock:  # without the lock, any test that goes red kills it (a concurrency test, typically)
        failed = [f for f in result.get("failures") or [] if f["phase"] != "collect"]
        if failed:
            first = failed[0]
            return SiteResult(site, KILLED, ran, killed_by={"test": first["test"], "key": None, "symbol": None, "location": None},
                              detail=_first_line(first["message"] or first["text"]))
    hits = (result.get("gate") or {}).get("hits") or []
    if code == 1 and hits:
        hit = hits[0]
        return SiteResult(site, KILLED, ran, killed_by={k: hit.get(k) for k in ("test", "key", "symbol", "location")})
    failures = result.get("failures") or []
    for failure in failures:
        message = failure["message"] or failure["text"]
        if "loopwarden: " in message:  # the gate's failure text, when its report has no hit
            return SiteResult(site, KILLED, ran, killed_by={"test": failure["test"], "key": None, "symbol": None, "location": None},
                              detail=_first_line(message[message.index("loopwarden: "):]))
    if failures:
        first = failures[0]
        return SiteResult(site, ERROR, ran, detail=f"{first['test']}: {_first_line(first['message'] or first['text'])}")
    return SiteResult(site, ERROR, ran, detail=f"pytest exit {code}: {_first_line(_tail(result['output']))}")


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join((text or "").rstrip().splitlines()[-lines:])
