"""``loopwarden teeth``: prove that every offload is guarded by a gated test that goes red
when the offload is reverted. ``loopwarden teeth merge PART.json ...`` joins sharded runs.

Exit codes: 0 score at or above --min-score; 1 below it; 2 usage error, or the check could
not run (the baseline is not green under the gate, the forced mutant was not killed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopwarden.teeth.sites import Site


def _shard(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"expected I/N with 1 <= I <= N, got {value!r}")
    return int(match.group(1)), int(match.group(2))


def _site(value: str) -> tuple[str, int]:
    path, _, line = value.rpartition(":")
    if not path or not line.isdigit():
        raise argparse.ArgumentTypeError(f"expected PATH:LINE, got {value!r}")
    return path, int(line)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "teeth",
        help="check that a gated test goes red when each offload is reverted",
        description=(
            "Revert every offload (await asyncio.to_thread(f, a) -> f(a)) in turn, in a child process through an "
            "import hook (your files are never modified), and run the tests that execute it under the runtime gate: "
            "some gated test must go red. Each 'async with <lock>:' that holds an offload is also run without its lock: "
            "some test (a concurrency test) must go red. 'loopwarden teeth merge PART.json ...' merges the JSON of --shard runs."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="where to find offload and lock sites (default: the current directory)")
    parser.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N", help="mutants run in parallel (default: the cores)")
    parser.add_argument("--site", type=_site, action="append", default=[], metavar="PATH:LINE", help="only the offload or lock at this line (repeatable)")
    parser.add_argument("--diff", metavar="BASE", help="only offloads in lines changed since the git revision BASE")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--min-score", type=float, default=100.0, metavar="PCT", help="exit 1 below this score (default 100)")
    parser.add_argument("--shard", type=_shard, default=None, metavar="I/N", help="verify only the I-th of N deterministic parts")
    parser.add_argument("--timeout", type=_seconds, default=None, metavar="S", help="per-mutant timeout (default: 3x the baseline, at least 30 s)")
    parser.add_argument("--no-select", action="store_true", help="run every test for every mutant (no test selection)")
    parser.add_argument("--cache-dir", metavar="DIR", help="result cache (default: $LOOPWARDEN_CACHE_DIR/teeth or ~/.cache/loopwarden/teeth)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="gitignore-style pattern to skip (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--tests",
        nargs=argparse.REMAINDER,
        default=[],
        metavar="ARGS",
        help="pytest arguments for the test runs (tests/, -k, -m ...); must come last",
    )


def run(args: argparse.Namespace) -> int:
    if args.paths and args.paths[0] == "merge":
        return _merge(args)
    from loopwarden.teeth import report
    from loopwarden.teeth.runner import RunOptions, Teeth, TeethStop

    started = time.perf_counter()
    log: Callable[[str], None] = (
        (lambda message: None) if args.quiet else (lambda message: print(f"teeth: {message}", file=sys.stderr, flush=True))
    )
    found = _find_sites(args)
    if isinstance(found, int):
        return found
    sites, fingerprint = found
    locks = sum(1 for s in sites if s.is_lock)
    log(f"{len(sites) - locks} offload site(s) and {locks} lock site(s) to verify")
    options = RunOptions(
        test_args=list(args.tests),
        jobs=args.jobs or os.cpu_count() or 1,
        timeout=args.timeout,
        select=not args.no_select,
        cache_dir=None if args.no_cache else (args.cache_dir or _default_cache_dir()),
        tests_fingerprint=fingerprint,
        log=log,
    )
    try:
        results = Teeth(sites, options).run()
    except TeethStop as exc:
        print(f"loopwarden teeth: stopped: {exc}", file=sys.stderr)
        return 2
    shard = f"{args.shard[0]}/{args.shard[1]}" if args.shard else None
    document = report.build_document([report.site_record(r) for r in results], args.min_score, shard, time.perf_counter() - started)
    text = report.render_json(document) if args.format == "json" else report.render_text(document)
    _emit(text, args.output)
    return 0 if report.passes(document) else 1


def _find_sites(args: argparse.Namespace) -> tuple[list[Site], str] | int:
    from loopwarden.catalog import CatalogError, load_catalog
    from loopwarden.config import ConfigError, find_pyproject, load_config
    from loopwarden.static.discover import PatternError
    from loopwarden.static.scan import scan
    from loopwarden.teeth.sites import collect_sites, file_digest

    paths = args.paths or ["."]
    try:
        pyproject = Path(args.config) if args.config else find_pyproject(Path(paths[0]) if os.path.exists(paths[0]) else Path.cwd())
        if args.config and (pyproject is None or not pyproject.is_file()):
            raise ConfigError(f"{args.config}: no such file")
        config = load_config(pyproject)
        catalog = load_catalog(config.catalog, str(pyproject) if pyproject else "pyproject.toml")
        anchored = (config.exclude, str(config.source.parent)) if config.source is not None else None
        result = scan(
            paths,
            catalog,
            excludes=args.exclude if config.source is not None else [*config.exclude, *args.exclude],
            respect_gitignore=config.respect_gitignore,
            max_file_size=config.max_file_size,
            jobs=1,
            anchored_excludes=anchored,
        )
    except (ConfigError, CatalogError, PatternError) as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    for skipped in result.skipped:
        print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    sites = collect_sites(result.modules, catalog, locks=True)
    if args.site:
        sites = [s for s in sites if any(_same_file(path, s.path) and s.line <= line <= s.end_line for path, line in args.site)]
        if not sites:
            print(f"loopwarden: error: no offload or lock site at {', '.join(f'{p}:{n}' for p, n in args.site)}", file=sys.stderr)
            return 2
    if args.diff:
        changed = _in_diff(args.diff, sites)
        if changed is None:
            return 2
        sites = changed
    if args.shard:
        index, count = args.shard
        sites = [s for s in sites if int(hashlib.sha256(s.id.encode()).hexdigest(), 16) % count == index - 1]
    tests = sorted(m.path for m in result.modules if m.is_test)
    fingerprint = hashlib.sha256("".join(f"{p}\0{file_digest(p)}\0" for p in tests).encode()).hexdigest() if tests else ""
    return sites, fingerprint


def _same_file(given: str, path: str) -> bool:
    return os.path.realpath(given) == os.path.realpath(path)


def _in_diff(base: str, sites: list[Site]) -> list[Site] | None:
    """The sites with a line changed since ``base`` (the work tree and untracked files
    included), by the diff mode's git layer (loopwarden.workflow.git)."""
    from loopwarden.workflow import git

    try:
        top = git.repo_top(os.getcwd())
        changes = git.diff(top, git.resolve(base, top), None)
        new_files = set(git.untracked(top))
    except git.GitError as exc:
        print(f"loopwarden: error: --diff {base}: {exc}", file=sys.stderr)
        return None
    kept = []
    for site in sites:
        path = Path(os.path.relpath(site.real, os.path.realpath(top))).as_posix()
        if path in new_files or any(changes.changed(path, line) for line in range(site.line, site.end_line + 1)):
            kept.append(site)
    return kept


def _default_cache_dir() -> str:
    if os.environ.get("LOOPWARDEN_CACHE_DIR"):  # shared with the scan cache: teeth keeps to its own folder
        return os.path.join(os.environ["LOOPWARDEN_CACHE_DIR"], "teeth")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "loopwarden", "teeth")


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    import tempfile

    target = Path(os.path.realpath(output))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)


def _merge(args: argparse.Namespace) -> int:
    import json

    from loopwarden.teeth import report

    parts = args.paths[1:]
    if not parts:
        print("loopwarden: error: teeth merge: no JSON parts given", file=sys.stderr)
        return 2
    documents = []
    for part in parts:
        try:
            with open(part, encoding="utf-8") as fh:
                documents.append(json.load(fh))
        except (OSError, ValueError) as exc:
            print(f"loopwarden: error: {part}: {exc}", file=sys.stderr)
            return 2
    try:
        document = report.merge(documents, args.min_score)
    except (ValueError, KeyError) as exc:
        print(f"loopwarden: error: teeth merge: {exc}", file=sys.stderr)
        return 2
    text = report.render_json(document) if args.format == "json" else report.render_text(document)
    _emit(text, args.output)
    return 0 if report.passes(document) else 1
