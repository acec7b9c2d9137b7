"""Runtime gate benchmark (not a test): what the gate costs and what it catches.

    .venv/bin/python benchmarks/runtime_bench.py [--project DIR [--pytest-args "..."] [--bare-modules M,N]]...
        [--python PY] [--repeats N]

Reports, in one run:
1. per-call overhead of intercepted primitives (os.stat; open+read of a small file) with no
   patches, with bare blockbuster and with the loopwarden gate, outside and inside an event
   loop (inside: a call that is allowed, so every frame of the stack is checked);
2. which of loopwarden's default-rule primitives bare blockbuster (default rules, every
   module scanned) misses, measured by running each probe on a loop;
3. wall time of a test suite with the gate off, under bare blockbuster (blockbuster_ctx()
   around each test, as projects wire it by hand) and under --loopwarden:
   examples/gated_service, and the projects given with --project (e.g. an sdist unpacked in
   /tmp), modes alternating within each repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "gated_service"


# -- 1. per-call overhead ---------------------------------------------------------------------
def _elsewhere(workdir: Path) -> Any:
    from loopwarden.runtime.project import Project

    return Project(str(workdir), (str(workdir / "elsewhere") + os.sep,))


@contextmanager
def _mode(name: str, workdir: Path) -> Iterator[None]:
    if name == "off":
        yield
    elif name == "blockbuster":
        from blockbuster import blockbuster_ctx

        stand_in = types.ModuleType("elsewhere")
        stand_in.__path__ = [str(workdir / "elsewhere") + os.sep]  # type: ignore[attr-defined]
        with blockbuster_ctx([stand_in]):
            yield
    else:
        from loopwarden.runtime.gate import Gate

        with Gate(_elsewhere(workdir)):
            yield


def _per_call_ns(call: Callable[[], Any], iterations: int, inside_loop: bool) -> float:
    def timed() -> int:
        start = time.perf_counter_ns()
        for _ in range(iterations):
            call()
        return time.perf_counter_ns() - start

    async def on_loop() -> int:
        return timed()

    runs = [asyncio.run(on_loop()) if inside_loop else timed() for _ in range(5)]
    return statistics.median(runs) / iterations


def overhead(workdir: Path) -> list[tuple[str, str, dict[str, float]]]:
    small = workdir / "small.txt"
    small.write_bytes(b"x" * 512)

    def open_and_read() -> bytes:
        with open(small, "rb") as handle:
            return handle.read()

    primitives = {"os.stat": (lambda: os.stat(small), 20_000), "open+read 512 B": (open_and_read, 5_000)}
    rows = []
    for label, (call, iterations) in primitives.items():
        for inside in (False, True):
            timings = {}
            for mode in ("off", "blockbuster", "loopwarden"):
                with _mode(mode, workdir):
                    timings[mode] = _per_call_ns(call, iterations, inside) / 1000
            rows.append((label, "inside loop" if inside else "outside loop", timings))
    return rows


# -- 2. what bare blockbuster misses -----------------------------------------------------------
def blockbuster_coverage(workdir: Path) -> list[tuple[str, str | None, str | None]]:
    from blockbuster import BlockingError, blockbuster_ctx

    from loopwarden.runtime.gate import Gate
    from loopwarden.runtime.probes import PROBES
    from loopwarden.runtime.project import Project

    caller_dir = workdir / "proj"
    caller_dir.mkdir(exist_ok=True)
    caller_file = caller_dir / "caller.py"
    caller_file.write_text("async def on_loop(call):\n    return call()\n")
    namespace: dict[str, Any] = {}
    exec(compile(caller_file.read_text(), str(caller_file), "exec"), namespace)
    on_loop = namespace["on_loop"]
    gate_project = Project(str(workdir), (str(caller_dir) + os.sep,))

    def caught(context: Any, call: Callable[[], Any]) -> str | None:
        with context:
            try:
                asyncio.run(on_loop(call))
            except BlockingError as error:
                return (
                    str(error)
                    .split(" on the event loop")[0]
                    .replace("Blocking call to ", "")
                    .replace("blocking call to ", "")
                )
        return None

    rows = []
    for probe in PROBES:
        call, clean_up = probe.prepare(workdir)
        by_blockbuster = caught(blockbuster_ctx(), call)
        clean_up()
        call, clean_up = probe.prepare(workdir)
        by_loopwarden = caught(Gate(gate_project), call)
        clean_up()
        rows.append((probe.name, by_blockbuster, by_loopwarden))
    return rows


# -- 3. a test suite with the gate off, under bare blockbuster, under loopwarden ------------------
# Bare blockbuster the way projects wire it by hand: blockbuster_ctx() around each test's
# protocol, scanning the modules given with --bare-modules (all modules when none).
_BARE_PLUGIN = """
import os

import pytest
from blockbuster import blockbuster_ctx

_MODULES = [m for m in os.environ.get("LOOPWARDEN_BENCH_MODULES", "").split(",") if m] or None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with blockbuster_ctx(_MODULES):
        return (yield)
"""

SUITE_MODES = ("gate off", "bare blockbuster", "loopwarden")


def suite_wall_time(
    directory: Path, python: str, extra_args: list[str], repeats: int, bare_modules: str = ""
) -> dict[str, tuple[float, str]]:
    """Median wall time of the whole pytest process per mode; the modes alternate within each
    repeat, so that a machine whose load changes during the run biases none of them."""
    times: dict[str, list[float]] = {mode: [] for mode in SUITE_MODES}
    summaries: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as plugin_dir:
        Path(plugin_dir, "loopwarden_bench_bare.py").write_text(_BARE_PLUGIN)
        environment = dict(os.environ, LOOPWARDEN_BENCH_MODULES=bare_modules)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin_dir, os.environ.get("PYTHONPATH")]))
        flags = {"gate off": [], "bare blockbuster": ["-p", "loopwarden_bench_bare"], "loopwarden": ["--loopwarden"]}
        for _ in range(repeats):
            for mode in SUITE_MODES:
                command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *flags[mode], *extra_args]
                start = time.perf_counter()
                completed = subprocess.run(command, cwd=directory, capture_output=True, text=True, env=environment)
                times[mode].append(time.perf_counter() - start)
                summaries[mode] = _summary_line(completed.stdout)
    return {mode: (statistics.median(times[mode]), summaries[mode]) for mode in SUITE_MODES}


def _summary_line(output: str) -> str:
    lines = [
        line.strip("= ") for line in output.splitlines() if " in " in line and ("passed" in line or "failed" in line)
    ]
    return lines[-1] if lines else "(no summary line)"


# -- output ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, action="append", default=[], help="a real async project's directory")
    parser.add_argument("--pytest-args", action="append", default=[], help="pytest arguments for the n-th --project")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the projects and loopwarden")
    parser.add_argument(
        "--bare-modules", action="append", default=[], help="comma-separated modules bare blockbuster scans for the n-th --project"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import blockbuster

    from loopwarden import __version__

    print(
        f"loopwarden {__version__}, blockbuster {_version('blockbuster')}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, {sys.platform}"
    )
    del blockbuster
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        print("\n## Per-call overhead (median of 5 runs, µs per call)\n")
        print("| primitive | where | no patches | bare blockbuster | loopwarden gate |")
        print("|---|---|---:|---:|---:|")
        for label, where, timings in overhead(workdir):
            print(
                f"| {label} | {where} | {timings['off']:.2f} | {timings['blockbuster']:.2f} | {timings['loopwarden']:.2f} |"
            )

        print("\n## Caught on the event loop (each probe called from project code inside asyncio.run)\n")
        print("| primitive | bare blockbuster (default rules) | loopwarden gate |")
        print("|---|---|---|")
        for name, by_blockbuster, by_loopwarden in blockbuster_coverage(workdir):
            print(f"| {name} | {_caught(by_blockbuster)} | {_caught(by_loopwarden)} |")

    suites = [("examples/gated_service", EXAMPLE, sys.executable, [], "gated_service")]
    for index, project in enumerate(args.project):
        extra = shlex.split(args.pytest_args[index]) if index < len(args.pytest_args) else []
        bare = args.bare_modules[index] if index < len(args.bare_modules) else ""
        suites.append((project.name, project.resolve(), args.python, extra, bare))
    print(f"\n## Test-suite wall time (median of {args.repeats} runs, modes alternating)\n")
    print("| suite | gate off | bare blockbuster | loopwarden | loopwarden / blockbuster | results (off / blockbuster / loopwarden) |")
    print("|---|---:|---:|---:|---:|---|")
    for label, directory, python, extra, bare in suites:
        results = suite_wall_time(directory, python, extra, args.repeats, bare)
        (off, off_summary), (bb, bb_summary), (lw, lw_summary) = (results[mode] for mode in SUITE_MODES)
        print(
            f"| {label} | {off:.2f} s | {bb:.2f} s | {lw:.2f} s | {lw / bb:.2f} | "
            f"{off_summary} / {bb_summary} / {lw_summary} |"
        )


def _caught(intercepted: str | None) -> str:
    return f"caught (`{intercepted}`)" if intercepted else "**missed**"


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    main()
