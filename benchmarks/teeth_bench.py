"""Teeth benchmark (not a test): wall time of ``loopwarden teeth`` on a generated project
with about 50 offload sites, with and without test selection, with 1 and 2 jobs, cold and
cached, next to one plain gated run of the same suite.

    .venv/bin/python benchmarks/teeth_bench.py [--modules 10] [--sites-per-module 5] [--repeats 1]

The project: MODULES modules, each with SITES offloads (``asyncio.to_thread`` and
``run_in_executor`` + ``functools.partial``) of a helper that reads a file; one gated test
per site, except every fifth site, which no test reaches, and every seventh, whose test
mocks the helper. Five slow-ish sync tests (50 ms each) stand for the rest of a real suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path


def make_project(root: Path, modules: int, per_module: int) -> int:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "app"

            [tool.pytest.ini_options]
            pythonpath = ["."]
            asyncio_mode = "auto"
            asyncio_default_fixture_loop_scope = "function"
            """
        ),
        encoding="utf-8",
    )
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    sites = 0
    for m in range(modules):
        body = ["import asyncio", "import functools", "", "", "def helper(path, suffix=''):",
                "    with open(path, encoding='utf-8') as fh:", "        return fh.read() + suffix", ""]
        tests = ["import time", "", f"from app import mod{m}", "", ""]
        for s in range(per_module):
            n = m * per_module + s
            sites += 1
            if s % 2:
                call = f"await asyncio.get_running_loop().run_in_executor(None, functools.partial(helper, path, suffix='{n}'))"
            else:
                call = f"await asyncio.to_thread(helper, path, suffix='{n}')"
            body += ["", f"async def op{s}(path):", f"    return {call}", ""]
            if n % 5 == 4:
                continue  # not covered
            if n % 7 == 6:
                tests += [f"async def test_op{s}(monkeypatch, tmp_path):",
                          f"    monkeypatch.setattr(mod{m}, 'helper', lambda path, suffix='': 'x' + suffix)",
                          f"    assert await mod{m}.op{s}(str(tmp_path)) == 'x{n}'", "", ""]
            else:
                tests += [f"async def test_op{s}(tmp_path):", "    target = tmp_path / 'f'", "    target.write_text('x', encoding='utf-8')",
                          f"    assert await mod{m}.op{s}(str(target)) == 'x{n}'", "", ""]
        if m < 5:
            tests += [f"def test_slow_sync_{m}():", "    time.sleep(0.05)", "", ""]
        (root / "app" / f"mod{m}.py").write_text("\n".join(body), encoding="utf-8")
        (root / "tests" / f"test_mod{m}.py").write_text("\n".join(tests), encoding="utf-8")
    return sites


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--sites-per-module", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="teeth-bench-"))
    try:
        root = work / "proj"
        sites = make_project(root, args.modules, args.sites_per_module)
        py = args.python
        print(f"project: {sites} offload sites in {args.modules} modules; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
        plain = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--loopwarden", "tests"]
        rows: list[tuple[str, float, str]] = []
        seconds = [timed(plain, root)[0] for _ in range(args.repeats)]
        rows.append(("one gated pytest run of the suite", statistics.median(seconds), ""))
        configs = [
            ("teeth, selection, -j1, cold", ["--jobs", "1"], True),
            ("teeth, selection, -j2, cold", ["--jobs", "2"], True),
            ("teeth, no selection, -j1, cold", ["--jobs", "1", "--no-select"], True),
            ("teeth, no selection, -j2, cold", ["--jobs", "2", "--no-select"], True),
            ("teeth, selection, -j2, cached", ["--jobs", "2"], False),
        ]
        cache = work / "cache"
        for label, extra, cold in configs:
            seconds = []
            summary = ""
            for _ in range(args.repeats):
                if cold:
                    shutil.rmtree(cache, ignore_errors=True)
                else:  # fill the cache first
                    timed([py, "-m", "loopwarden", "teeth", "-q", "--cache-dir", str(cache), *extra, "--tests", "tests"], root)
                elapsed, proc = timed([py, "-m", "loopwarden", "teeth", "-q", "--cache-dir", str(cache), *extra, "--tests", "tests"], root)
                if proc.returncode not in (0, 1):
                    print(proc.stdout, proc.stderr, file=sys.stderr)
                    return 2
                seconds.append(elapsed)
                summary = proc.stdout.strip().splitlines()[-1].split(";")[0]
            rows.append((label, statistics.median(seconds), summary))
        base = rows[0][1]
        print("| run | seconds | ratio to one gated run | result |\n|---|---:|---:|---|")
        for label, value, summary in rows:
            print(f"| {label} | {value:.1f} | {value / base:.1f}x | {summary} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
