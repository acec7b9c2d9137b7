#!/usr/bin/env python3
"""Benchmark ``loopwarden scan`` against ruff and flake8-async on a large real async code base.

One command (``make bench``) does everything:

1. installs the ``bench`` extra (pinned ruff, flake8, flake8-async) into the running
   interpreter's environment unless the pinned versions are already there;
2. installs a pinned, real asyncio code base with ``pip install --no-deps --target`` into a
   scratch directory (``.bench/`` by default, gitignored; reused while the pins are unchanged);
3. times, in fresh child processes, ``ruff check --select ASYNC --no-cache``,
   ``flake8 --select ASYNC`` (flake8-async plugin), and ``loopwarden scan`` with ``--jobs 1``
   and ``--jobs <cores>``; each figure is the median wall clock of ``--repeat`` runs
   (flake8, much the slowest, runs ``--flake8-repeat`` times, 1 by default);
4. prints one table (seconds, ratio to ruff, ratio to loopwarden -j1, findings), then
   loopwarden's peak memory, the files and lines it scanned, and its findings by priority
   and by event-loop exposure.  ``--markdown`` prints the same as Markdown for the README.

Peak memory: each loopwarden run is started under a small wrapper process that runs the CLI
and reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, i.e. the peak resident set of the
largest single process among loopwarden and its worker processes (the kernel keeps a max,
not a sum).  The bench also samples ``/proc`` every 20 ms and reports the peak of the summed
RSS of the whole process tree, which is what ``--jobs N`` really costs.

Exit status: 0 when every tool ran; 2 when one crashed (loopwarden exits 1 when it has
findings, which is expected, so a loopwarden run counts as crashed when it wrote no report).
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The code base: real asyncio libraries, pinned, installed without their dependencies (static
# scanning needs none).  About 400,000 lines of Python.
CODE_BASE = [
    "aiohttp==3.14.5",
    "redis==8.1.0",
    "langchain-core==1.8.1",
    "langchain-community==0.4.2",
]
# Top-level packages of CODE_BASE that are scanned (dist-info and data directories are not).
SCAN_DIRS = ["aiohttp", "redis", "langchain_core", "langchain_community"]

BENCH_TOOLS = {"ruff": "0.17.5", "flake8": "7.5.0", "flake8-async": "26.8.1"}

WRAPPER = r"""
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as fh:
    json.dump({"rc": proc.returncode, "wall": wall, "maxrss_kib": ru.ru_maxrss,
               "stderr": proc.stderr.decode("utf-8", "replace")[-6000:]}, fh)
"""


@dataclass
class Measurement:
    label: str
    command: list[str]
    walls: list[float] = field(default_factory=list)
    findings: int | None = None
    blocking: int | None = None  # ASYNC2xx: the blocking-call rules
    crashed: str | None = None
    maxrss_kib: int = 0
    tree_rss_kib: int = 0
    report: dict | None = None

    @property
    def seconds(self) -> float | None:
        return statistics.median(self.walls) if self.walls and not self.crashed else None


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


def ensure_code_base(scratch: Path) -> Path:
    site = scratch / "site"
    stamp = site / ".bench-pins"
    pins = "\n".join(CODE_BASE) + "\n"
    if stamp.is_file() and stamp.read_text() == pins:
        return site
    if site.exists():
        shutil.rmtree(site)
    log(f"installing the code base into {site}: {' '.join(CODE_BASE)} ...")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--no-deps", "--no-compile", "--target", str(site), *CODE_BASE],
        check=True,
    )
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


def run_wrapped(cmd: list[str], sample_tree: bool) -> dict:
    """Run ``cmd`` in a fresh wrapper child; return its rc, wall time, peak RSS, stderr."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    peak = 0
    try:
        proc = subprocess.Popen([sys.executable, "-c", WRAPPER, out, *cmd])
        if sample_tree and os.path.isdir("/proc"):
            while proc.poll() is None:
                peak = max(peak, _tree_rss_kib(proc.pid))
                time.sleep(0.02)
        proc.wait()
        with open(out) as fh:
            result = json.load(fh)
    finally:
        os.unlink(out)
    result["tree_rss_kib"] = peak
    return result


def measure_loopwarden(m: Measurement, repeat: int, report_path: Path) -> None:
    for i in range(repeat):
        report_path.unlink(missing_ok=True)
        r = run_wrapped(m.command, sample_tree=True)
        if r["rc"] not in (0, 1) or not report_path.is_file():
            m.crashed = f"exit {r['rc']}, no report written\n{r['stderr'].strip()}"
            return
        m.walls.append(r["wall"])
        m.maxrss_kib = max(m.maxrss_kib, r["maxrss_kib"])
        m.tree_rss_kib = max(m.tree_rss_kib, r["tree_rss_kib"])
        log(f"  {m.label} run {i + 1}/{repeat}: {r['wall']:.2f}s")
    m.report = json.loads(report_path.read_text())
    m.findings = m.report["summary"]["findings"]


def measure_linter(m: Measurement, repeat: int, parse) -> None:
    for i in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(m.command, capture_output=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            m.crashed = f"exit {proc.returncode}\n{proc.stderr.decode('utf-8', 'replace')[-6000:].strip()}"
            return
        m.walls.append(wall)
        log(f"  {m.label} run {i + 1}/{repeat}: {wall:.2f}s")
    codes = parse(proc.stdout.decode("utf-8", "replace"))
    m.findings = len(codes)
    m.blocking = sum(1 for c in codes if c.startswith("ASYNC2"))


def ruff_codes(out: str) -> list[str]:
    return [d["code"] or "" for d in json.loads(out or "[]")]


def flake8_codes(out: str) -> list[str]:
    # path:line:col: CODE message
    codes = []
    for line in out.splitlines():
        parts = line.split(": ", 1)
        if len(parts) == 2:
            codes.append(parts[1].split(" ", 1)[0])
    return codes


# -- reporting ---------------------------------------------------------------------------
def fmt_ratio(x: float | None, base: float | None) -> str:
    if x is None or not base:
        return "—"
    return f"{x / base:.2f}×"


def render(rows: list[Measurement], lw: Measurement, lwn: Measurement, info: dict, markdown: bool) -> str:
    ruff = rows[0]
    header = ["tool", "seconds", "ratio to ruff", "ratio to loopwarden -j1", "findings", "of which ASYNC2xx (blocking calls)"]
    body = []
    for m in rows:
        s = m.seconds
        body.append([
            m.label,
            "CRASHED" if m.crashed else f"{s:.2f}",
            fmt_ratio(s, ruff.seconds),
            fmt_ratio(s, lw.seconds),
            "—" if m.findings is None else str(m.findings),
            "—" if m.blocking is None else str(m.blocking),
        ])
    out = []
    if markdown:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---", "---:", "---:", "---:", "---:", "---:"]) + "|")
        out += ["| " + " | ".join(r) + " |" for r in body]
    else:
        widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
        line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))  # noqa: E731
        out.append(line(header))
        out.append("  ".join("-" * w for w in widths))
        out += [line(r) for r in body]
    out.append("")
    bullet = "- " if markdown else ""
    for m in (lw, lwn):
        if m.report is None:
            continue
        s = m.report["summary"]
        out.append(
            f"{bullet}{m.label}: peak RSS {m.maxrss_kib / 1024:.0f} MiB (largest process), "
            f"{m.tree_rss_kib / 1024:.0f} MiB (whole process tree, sampled every 20 ms)"
        )
    rep = (lw.report or lwn.report)
    if rep is not None:
        s = rep["summary"]
        out.append(f"{bullet}loopwarden scanned {s['files']:,} files, {s['lines']:,} lines; "
                   f"skipped {_count(s.get('skipped'))}, suppressed {_count(s.get('suppressed'))}")
        prio = s.get("by_priority", {})
        out.append(f"{bullet}loopwarden findings by priority: " + ", ".join(f"{k} {prio.get(k, 0)}" for k in ("HIGH", "MEDIUM", "LOW")))
        expo = collections.Counter(f.get("event_loop_exposure", "?") for f in rep.get("findings", []))
        out.append(f"{bullet}loopwarden findings by exposure: " + ", ".join(f"{k} {v}" for k, v in expo.most_common()))
    if lw.report and lwn.report and lw.report.get("findings") != lwn.report.get("findings"):
        out.append(f"{bullet}WARNING: loopwarden -j1 and -j{info['cores']} reports differ")
    out.append("")
    out.append(f"{bullet}code base: {' '.join(CODE_BASE)} ({info['files']:,} .py files, {info['lines']:,} lines)")
    out.append(f"{bullet}machine: {info['cores']} cores, {info['python']}, {info['platform']}; {info['date']}")
    out.append(f"{bullet}versions: {info['versions']}")
    out.append(f"{bullet}seconds are wall clock, median of {info['repeat']} runs "
               f"(flake8: {info['flake8_repeat']} run{'s' if info['flake8_repeat'] != 1 else ''}); "
               "ruff and flake8 use all cores by default")
    return "\n".join(out)


def _count(x) -> int:
    if isinstance(x, int):
        return x
    return len(x) if x else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", type=Path, default=REPO / ".bench", help="scratch directory (default: .bench/)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is reported (default 3)")
    ap.add_argument("--flake8-repeat", type=int, default=1, help="runs of flake8, the slowest tool (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="loopwarden --jobs for the parallel run")
    ap.add_argument("--no-flake8", action="store_true", help="skip flake8-async (slow)")
    ap.add_argument("--markdown", action="store_true", help="print the results as Markdown")
    args = ap.parse_args(argv)

    ensure_bench_tools()
    scratch = args.scratch.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    site = ensure_code_base(scratch)
    targets = [site / d for d in SCAN_DIRS]
    files, lines = count_python(targets)
    log(f"code base: {files:,} .py files, {lines:,} lines under {site}")
    paths = [str(t) for t in targets]

    ruff = Measurement("ruff --select ASYNC", [bin_path("ruff"), "check", "--isolated", "--select", "ASYNC",
                                              "--no-cache", "--exit-zero", "--output-format", "json", *paths])
    flake8 = Measurement("flake8 --select ASYNC (flake8-async)", [bin_path("flake8"), "--isolated", "--select", "ASYNC",
                                                                  "--exit-zero", *paths])
    report1, reportn = scratch / "loopwarden-j1.json", scratch / f"loopwarden-j{args.jobs}.json"
    lw_cmd = [bin_path("loopwarden"), "scan", *paths, "--format", "json"]
    lw = Measurement("loopwarden scan -j1", [*lw_cmd, "--output", str(report1), "--jobs", "1"])
    lwn = Measurement(f"loopwarden scan -j{args.jobs}", [*lw_cmd, "--output", str(reportn), "--jobs", str(args.jobs)])

    log("ruff ...")
    measure_linter(ruff, args.repeat, ruff_codes)
    log("loopwarden ...")
    measure_loopwarden(lw, args.repeat, report1)
    measure_loopwarden(lwn, args.repeat, reportn)
    rows = [ruff, lw, lwn]
    if not args.no_flake8:
        log("flake8 ...")
        measure_linter(flake8, args.flake8_repeat, flake8_codes)
        rows.insert(1, flake8)

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    info = {
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{platform.system()} {platform.machine()}",
        "date": datetime.date.today().isoformat(),
        "versions": ", ".join(f"{n} {version(n)}" for n in ("loopwarden", "ruff", "flake8", "flake8-async")),
        "repeat": args.repeat,
        "flake8_repeat": args.flake8_repeat,
        "files": files,
        "lines": lines,
    }
    print(render(rows, lw, lwn, info, args.markdown))
    crashed = [m for m in rows if m.crashed]
    for m in crashed:
        print(f"\n{m.label} CRASHED: {' '.join(m.command)}\n{m.crashed}", file=sys.stderr)
    return 2 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
