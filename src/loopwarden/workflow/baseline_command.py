"""``loopwarden baseline``: record the current findings so that ``scan`` reports only new ones."""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_FILE = ".loopwarden-baseline.json"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "baseline",
        help="record the current findings in a baseline file (scan --baseline reports only new ones)",
        description=(
            "Record the current findings by key (path::function::symbol) with a count per key. "
            "`loopwarden scan --baseline FILE` then reports only findings not in it and lists entries "
            "that no longer occur. --update rewrites the file and refuses to let it grow unless --allow-growth."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: the current directory)")
    parser.add_argument("--output", "-o", metavar="FILE", help=f"the baseline file (default: the configured baseline, else {DEFAULT_FILE})")
    parser.add_argument("--update", action="store_true", help="rewrite an existing baseline (it may only shrink)")
    parser.add_argument("--allow-growth", action="store_true", help="with --update: accept new findings into the baseline")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="gitignore-style pattern to skip (repeatable)")
    parser.add_argument("--no-gitignore", action="store_true", help="scan files that .gitignore excludes")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file")


def _fail(message: str) -> int:
    print(f"loopwarden: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from loopwarden.workflow import baseline
    from loopwarden.workflow.baseline import BaselineError
    from loopwarden.workflow.project import ProjectError, load, scan_paths

    paths = args.paths or ["."]
    if args.allow_growth and not args.update:
        return _fail("--allow-growth only applies with --update")
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    try:
        config, catalog = load(args.config, paths)
    except ProjectError as exc:
        return _fail(str(exc))
    output = args.output
    if not output and config.baseline:
        output = os.path.join(os.path.dirname(str(config.source)), config.baseline) if config.source else config.baseline
    output = output or DEFAULT_FILE
    exists = os.path.lexists(output)
    if os.path.isdir(output):
        return _fail(f"{output}: is a directory")
    if exists and not args.update:
        return _fail(f"{output}: already exists; use --update to rewrite it (it refuses to grow without --allow-growth)")
    if args.update and not exists:
        return _fail(f"{output}: no such baseline file; run without --update to create it")
    old: dict[str, int] = {}
    if args.update:
        try:
            old = baseline.load(output)
        except BaselineError as exc:
            return _fail(str(exc))
    try:
        result = scan_paths(paths, config, catalog, excludes=args.exclude, no_gitignore=args.no_gitignore, jobs=args.jobs)
    except ProjectError as exc:
        return _fail(str(exc))
    for skipped in result.skipped:
        print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    base_dir = baseline.key_root(config, output)
    new = baseline.counts(result.findings, base_dir, os.getcwd())
    # Files that could not be scanned this time keep their entries: they did not get fixed.
    unreadable = {baseline.relative_path(s.path, base_dir, os.getcwd()) for s in result.skipped}
    for key, count in old.items():
        if key.partition("::")[0] in unreadable:
            new[key] = max(new.get(key, 0), count)
    grown = baseline.growth(old, new)
    if args.update and grown and not args.allow_growth:
        total = sum(n for _, n in grown)
        print(f"loopwarden: refusing to grow {output}: {total} finding(s) not in it (fix them, or --allow-growth):", file=sys.stderr)
        for key, n in grown:
            print(f"  new: {key}" + (f" (x{n})" if n > 1 else ""), file=sys.stderr)
        return 1
    text = baseline.dumps(new)
    try:
        baseline.write(output, text)
    except BaselineError as exc:
        return _fail(str(exc))
    if args.update:
        dropped = sum(max(0, count - new.get(key, 0)) for key, count in old.items())
        added = sum(n for _, n in grown)
        print(f"updated {output}: {sum(new.values())} finding(s) under {len(new)} key(s); {dropped} dropped, {added} added")
    else:
        print(f"wrote {output}: {sum(new.values())} finding(s) under {len(new)} key(s)")
    return 1 if result.skipped else 0

