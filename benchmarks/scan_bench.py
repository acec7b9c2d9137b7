#!/usr/bin/env python3
"""Benchmark ``loopwarden scan`` (cold, parallel, warm, one file changed) against ruff, the
``ast.parse`` floor and hydroid-cli on large real code bases. Run by hand, never a test.

One command (``make bench``) does everything:

1. installs the ``bench`` extra (pinned ruff, flake8, flake8-async) into the running
   interpreter's environment unless the pinned versions are there, and hydroid-cli (pinned in
   ``benchmarks/requirements-hydroid.txt``) into a venv of its own in the scratch directory;
2. fetches the pinned code bases with pip into the scratch directory (outside the repository:
   ``$XDG_CACHE_HOME/loopwarden-bench`` by default, ``--scratch DIR`` elsewhere; reused while
   the pins are unchanged): **Home Assistant 2024.3.3** (the wheel, unpacked) and **async-libs**
   (aiohttp, redis, langchain-core, langchain-community, installed ``--no-deps``);
3. runs each tool in a fresh child process, per code base, side by side:
   - ``ruff check --isolated --select ASYNC --no-cache`` (the baseline of every ratio),
   - ``ast.parse`` of every file in one process (the floor for a scanner built on ``ast``),
   - ``loopwarden scan --format json`` cold (empty cache) with ``-j1`` and ``-j<cores>``,
     warm with nothing changed, warm after one file changed (a new comment line each run),
     and ``--follow-libs`` cold and warm when the scan has that flag,
   - ``hydroid`` cold (``--no-cache``) and warm (its ``.hydroid_cache``),
   - ``flake8 --select ASYNC`` (flake8-async) with ``--flake8`` (minutes per code base);
4. prints per code base: wall seconds (median of ``--repeat`` runs), CPU seconds (user+system
   of the process and its children), the ratio of wall seconds to ruff's, peak memory and the
   number of findings; ``--markdown`` prints Markdown for the README.

Peak memory: each run is started under a small wrapper that reports
``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the peak RSS of the largest single process; the
bench also samples ``/proc`` every 50 ms for the peak summed RSS of the whole process tree
(what ``-jN`` really costs).

Exit status: 0 when every tool ran; 2 when one crashed (loopwarden exits 1 when it has
findings, which is expected; a loopwarden run counts as crashed when it wrote no report).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_TOOLS = {"ruff": "0.17.5", "flake8": "7.5.0", "flake8-async": "26.8.1"}
HYDROID_REQUIREMENTS = REPO / "benchmarks" / "requirements-hydroid.txt"


@dataclass(frozen=True)
class CodeBase:
    name: str
    pins: tuple[str, ...]
    scan_dirs: tuple[str, ...]  # top-level packages scanned (not dist-info, not data)
    wheel: bool  # unpack the one wheel (pip download --no-deps) rather than pip install --target


CODE_BASES = {
    "homeassistant": CodeBase("homeassistant", ("homeassistant==2024.3.3",), ("homeassistant",), wheel=True),
    "async-libs": CodeBase(
        "async-libs",
        ("aiohttp==3.14.5", "redis==8.1.0", "langchain-core==1.8.1", "langchain-community==0.4.2"),
        ("aiohttp", "redis", "langchain_core", "langchain_community"),
        wheel=False,
    ),
}

WRAPPER = r"""
import json, resource, subprocess, sys, time
out, cwd, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.perf_counter()
proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as fh:
    json.dump({"rc": proc.returncode, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kib": ru.ru_maxrss,
               "stdout": proc.stdout.decode("utf-8", "replace"),
               "stderr": proc.stderr.decode("utf-8", "replace")[-6000:]}, fh)
"""

FLOOR = r"""
import ast, os, sys, warnings
warnings.simplefilter("ignore")
n = 0
for root in sys.argv[1:]:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py"):
                with open(os.path.join(d, f), "rb") as fh:
                    try:
                        ast.parse(fh.read())
                    except (SyntaxError, ValueError):
                        pass
                n += 1
print(n)
"""


@dataclass
class Measurement:
    label: str
    command: list[str]
    cwd: Path
    before_each: object = None  # callable run before every timed run (clear a cache, change a file)
    count: object = None  # stdout -> number of findings
    env: dict[str, str] = field(default_factory=dict)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    findings: int | None = None
    crashed: str | None = None
    skipped: str | None = None
    maxrss_kib: int = 0
    tree_rss_kib: int = 0

    @property
    def seconds(self) -> float | None:
        return statistics.median(self.walls) if self.walls and not self.crashed else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(self.cpus) if self.cpus and not self.crashed else None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- setup -------------------------------------------------------------------------------
def ensure_bench_tools() -> None:
    def have() -> bool:
        try:
            return all(importlib.metadata.version(n) == v for n, v in BENCH_TOOLS.items())
        except importlib.metadata.PackageNotFoundError:
            return False

    if have():
        return
    log(f"installing the bench extra into {sys.prefix} ...")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", f"{REPO}[bench]"],
        check=True,
    )
    importlib.invalidate_caches()
    if not have():
        sys.exit(f"bench extra did not install the pinned versions {BENCH_TOOLS}")


def ensure_hydroid(scratch: Path) -> Path | None:
    """hydroid-cli in a venv of its own (its dependencies never meet ours)."""
    venv = scratch / "hydroid-venv"
    stamp = venv / ".bench-pins"
    pins = HYDROID_REQUIREMENTS.read_text()
    exe = venv / "bin" / "hydroid"
    if stamp.is_file() and stamp.read_text() == pins and exe.exists():
        return exe
    log(f"installing hydroid-cli into {venv} ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(HYDROID_REQUIREMENTS)],
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        log(f"hydroid-cli could not be installed ({exc}); skipped")
        return None
    stamp.write_text(pins)
    return exe if exe.exists() else None


def ensure_code_base(scratch: Path, base: CodeBase) -> Path:
    site = scratch / base.name
    stamp = site / ".bench-pins"
    pins = "\n".join(base.pins) + "\n"
    if stamp.is_file() and stamp.read_text() == pins:
        return site
    if site.exists():
        shutil.rmtree(site)
    log(f"fetching {' '.join(base.pins)} into {site} ...")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    if base.wheel:
        download = scratch / "downloads"
        subprocess.run([*pip[:3], "download", *pip[3:], "--no-deps", "--only-binary", ":all:", "-d", str(download), *base.pins], check=True)
        name, version = base.pins[0].split("==")
        wheel = next(download.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    else:
        subprocess.run([*pip[:3], "install", *pip[3:], "--no-deps", "--no-compile", "--target", str(site), *base.pins], check=True)
    stamp.write_text(pins)
    return site


def bin_path(name: str) -> str:
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else (shutil.which(name) or name)


def count_python(paths: list[Path]) -> tuple[int, int]:
    files = lines = 0
    for root in paths:
        for p in root.rglob("*.py"):
            files += 1
            with open(p, "rb") as fh:
                lines += sum(1 for _ in fh)
    return files, lines


# -- measuring ---------------------------------------------------------------------------
def _tree_rss_kib(root: int) -> int:
    """Summed VmRSS of ``root`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children[ppid].append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def run_wrapped(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Run ``cmd`` in a fresh wrapper child; its rc, wall and CPU time, peak RSS, output."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    peak = 0
    try:
        # As installed (pip compiles the modules): PYTHONDONTWRITEBYTECODE would make every run
        # compile loopwarden's modules again, which is no cost a user pays.
        child_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        proc = subprocess.Popen([sys.executable, "-c", WRAPPER, out, str(cwd), *cmd], env={**child_env, **env})
        while proc.poll() is None:
            if os.path.isdir("/proc"):
                peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.05)
        with open(out) as fh:
            result = json.load(fh)
    finally:
        os.unlink(out)
    result["tree_rss_kib"] = peak
    return result


def measure(m: Measurement, repeat: int) -> None:
    for i in range(repeat):
        if callable(m.before_each):
            m.before_each()
        r = run_wrapped(m.command, m.cwd, m.env)
        if r["rc"] not in (0, 1):
            m.crashed = f"exit {r['rc']}\n{r['stderr'].strip()}"
            return
        m.walls.append(r["wall"])
        m.cpus.append(r["cpu"])
        m.maxrss_kib = max(m.maxrss_kib, r["maxrss_kib"])
        m.tree_rss_kib = max(m.tree_rss_kib, r["tree_rss_kib"])
        if callable(m.count):
            m.findings = m.count(r["stdout"])
        log(f"  {m.label} run {i + 1}/{repeat}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU")


def ruff_count(out: str) -> int:
    return len(json.loads(out or "[]"))


def loopwarden_count(out: str) -> int:
    return int(json.loads(out)["summary"]["findings"])


def hydroid_count(out: str) -> int | None:
    try:
        data = json.loads(out)
    except ValueError:
        return None
    for key in ("findings", "results", "diagnostics"):
        if isinstance(data, dict) and isinstance(data.get(key), list):
            return len(data[key])
    return len(data) if isinstance(data, list) else None


def flake8_count(out: str) -> int:
    return sum(1 for line in out.splitlines() if ": ASYNC" in line)


def has_follow_libs() -> bool:
    out = subprocess.run([bin_path("loopwarden"), "scan", "--help"], capture_output=True, text=True).stdout
    return "--follow-libs" in out


# -- one code base -----------------------------------------------------------------------
def bench_code_base(base: CodeBase, scratch: Path, args: argparse.Namespace, hydroid: Path | None) -> tuple[list[Measurement], dict]:
    site = ensure_code_base(scratch, base)
    targets = [site / d for d in base.scan_dirs]
    files, lines = count_python(targets)
    log(f"{base.name}: {files:,} .py files, {lines:,} lines under {site}")
    rel = list(base.scan_dirs)
    cache = scratch / f"lw-cache-{base.name}"
    libs_cache = scratch / f"lw-libs-cache-{base.name}"  # --follow-libs: library summaries (else user-level)
    env = {"LOOPWARDEN_CACHE_DIR": str(cache), "LOOPWARDEN_LIBS_CACHE": str(libs_cache)}
    os.environ.pop("LOOPWARDEN_NO_CACHE", None)

    def clear() -> None:  # a cold run: neither the project's cache nor the libraries'
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(libs_cache, ignore_errors=True)

    candidates = sorted(targets[0].rglob("*.py"))
    changed = candidates[len(candidates) // 2]  # the file edited before each "one file changed" run
    original = changed.read_bytes()
    counter = iter(range(10**6))

    def change_one() -> None:
        changed.write_bytes(original + f"\n# loopwarden bench edit {next(counter)}\n".encode())

    lw = [bin_path("loopwarden"), "scan", *rel, "--format", "json"]
    rows = [
        Measurement("ruff --select ASYNC --no-cache", [bin_path("ruff"), "check", "--isolated", "--select", "ASYNC", "--no-cache",
                    "--exit-zero", "--output-format", "json", *rel], site, count=ruff_count),
        Measurement("ast.parse of every file, 1 process (floor)", [sys.executable, "-c", FLOOR, *rel], site),
        Measurement("loopwarden cold -j1", [*lw, "-j", "1"], site, before_each=clear, count=loopwarden_count, env=env),
        Measurement(f"loopwarden cold -j{args.jobs}", [*lw, "-j", str(args.jobs)], site, before_each=clear, count=loopwarden_count, env=env),
        Measurement("loopwarden warm, nothing changed", [*lw, "-j", str(args.jobs)], site, count=loopwarden_count, env=env),
        Measurement("loopwarden warm, one file changed", [*lw, "-j", str(args.jobs)], site, before_each=change_one,
                    count=loopwarden_count, env=env),
    ]
    if has_follow_libs():
        rows += [
            Measurement("loopwarden --follow-libs cold", [*lw, "--follow-libs", "-j", str(args.jobs)], site, before_each=clear,
                        count=loopwarden_count, env=env),
            Measurement("loopwarden --follow-libs warm", [*lw, "--follow-libs", "-j", str(args.jobs)], site, count=loopwarden_count, env=env),
        ]
    else:
        rows.append(Measurement("loopwarden --follow-libs", [], site, skipped="this loopwarden has no --follow-libs"))
    if hydroid is not None:
        for path in targets:
            shutil.rmtree(path / ".hydroid_cache", ignore_errors=True)
        rows += [
            Measurement(f"hydroid {rel[0]} cold (--no-cache)", [str(hydroid), "--format", "json", "--no-cache", rel[0]], site, count=hydroid_count),
            Measurement(f"hydroid {rel[0]} warm", [str(hydroid), "--format", "json", rel[0]], site, count=hydroid_count),
        ]
    else:
        rows.append(Measurement("hydroid", [], site, skipped="hydroid-cli not installed"))
    if args.flake8:
        rows.append(Measurement("flake8 --select ASYNC (flake8-async)", [bin_path("flake8"), "--isolated", "--select", "ASYNC",
                                "--exit-zero", *rel], site, count=flake8_count))
    if args.only:  # ruff, the baseline of every ratio, always runs
        rows = [rows[0], *(m for m in rows[1:] if any(text in m.label for text in args.only))]
    try:
        for m in rows:
            if m.skipped:
                continue
            log(f"{base.name}: {m.label} ...")
            if "warm" in m.label:
                run_wrapped(m.command, m.cwd, m.env)  # fill the cache
            measure(m, 1 if m.label.startswith("flake8") else args.repeat)
    finally:
        changed.write_bytes(original)
    return rows, {"files": files, "lines": lines, "site": site}


# -- reporting ---------------------------------------------------------------------------
def ratio(x: float | None, base: float | None) -> str:
    return "—" if x is None or not base else f"{x / base:.2f}×"


def render(base: CodeBase, rows: list[Measurement], info: dict, markdown: bool) -> str:
    ruff = rows[0]
    header = ["tool", "wall s", "CPU s", "wall / ruff", "CPU / ruff", "peak RSS MiB (largest, tree)", "findings"]
    body = []
    for m in rows:
        if m.skipped:
            body.append([m.label, "skipped", "", "", "", "", m.skipped])
            continue
        if m.crashed:
            body.append([m.label, "CRASHED", "", "", "", "", ""])
            continue
        body.append([
            m.label,
            f"{m.seconds:.2f}",
            f"{m.cpu:.2f}",
            ratio(m.seconds, ruff.seconds),
            ratio(m.cpu, ruff.cpu),
            f"{m.maxrss_kib / 1024:.0f}, {m.tree_rss_kib / 1024:.0f}",
            "—" if m.findings is None else str(m.findings),
        ])
    title = f"{base.name}: {' '.join(base.pins)} ({info['files']:,} .py files, {info['lines']:,} lines)"
    out = [f"### {title}" if markdown else title, ""]
    if markdown:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---", "---:", "---:", "---:", "---:", "---:", "---:"]) + "|")
        out += ["| " + " | ".join(r) + " |" for r in body]
    else:
        widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(header, widths, strict=True))))
        out.append("  ".join("-" * w for w in widths))
        out += ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in body]
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_scratch = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loopwarden-bench"
    ap.add_argument("--scratch", type=Path, default=default_scratch, help=f"where code bases and tools go (default: {default_scratch})")
    ap.add_argument("--code-base", choices=sorted(CODE_BASES), action="append", help="only this code base (repeatable; default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is reported (default 3)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="loopwarden --jobs for the parallel runs (default: cores)")
    ap.add_argument("--flake8", action="store_true", help="also run flake8-async (minutes per code base)")
    ap.add_argument("--no-hydroid", action="store_true", help="skip hydroid-cli")
    ap.add_argument("--markdown", action="store_true", help="print the results as Markdown")
    ap.add_argument("--only", action="append", metavar="TEXT",
                    help="only the rows whose label contains TEXT (repeatable; ruff always runs), e.g. 'nothing changed'")
    args = ap.parse_args(argv)

    ensure_bench_tools()
    scratch = args.scratch.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    hydroid = None if args.no_hydroid else ensure_hydroid(scratch)
    crashed = []
    tables = []
    for name in args.code_base or list(CODE_BASES):
        base = CODE_BASES[name]
        rows, info = bench_code_base(base, scratch, args, hydroid)
        tables.append(render(base, rows, info, args.markdown))
        crashed += [m for m in rows if m.crashed]

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    hydroid_version = HYDROID_REQUIREMENTS.read_text().split("==")[-1].strip() if hydroid else "not run"
    bullet = "- " if args.markdown else ""
    print("\n".join(tables))
    print(f"{bullet}machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}; {datetime.date.today().isoformat()}; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{bullet}versions: " + ", ".join(f"{n} {version(n)}" for n in ("loopwarden", "ruff", "flake8-async")) + f", hydroid-cli {hydroid_version}")
    print(f"{bullet}wall seconds: median of {args.repeat} runs; CPU seconds: user+system of the tool and its children "
          "(ruff and hydroid use every core); warm runs after one untimed run to fill the cache")
    for m in crashed:
        print(f"\n{m.label} CRASHED: {' '.join(m.command)}\n{m.crashed}", file=sys.stderr)
    return 2 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
