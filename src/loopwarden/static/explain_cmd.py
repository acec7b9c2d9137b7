"""``loopwarden explain PATH:LINE`` (or a finding's key): why a line is, or is not, reported."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show what each call on a line resolved to and whether the event loop reaches it",
        description=(
            "For each call on PATH:LINE (or on the line of a finding's KEY, path::function::symbol): "
            "what the scanner resolved it to and from which evidence, whether it is blocking, whether it "
            "is offloaded, and every chain from an entry point (or 'not reached')."
        ),
    )
    parser.add_argument("target", metavar="PATH:LINE|KEY", help="a source line, e.g. app/web.py:42, or a finding key")
    parser.add_argument("--root", action="append", default=[], metavar="PATH", help="what to scan to see the callers (default: the current directory)")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file instead of the nearest pyproject.toml")


def _target(text: str) -> tuple[str, int | None, str | None]:
    """(path, line, symbol) from ``path:line`` or ``path::function::symbol``."""
    if "::" in text:
        path, _, rest = text.partition("::")
        function, _, symbol = rest.rpartition("::")
        return path, None, f"{function}::{symbol}"
    path, _, line = text.rpartition(":")
    if not path or not line.isdigit() or int(line) < 1:
        raise ValueError(f"expected PATH:LINE or a finding key, got {text!r}")
    return path, int(line), None


def run(args: argparse.Namespace) -> int:
    from loopwarden.catalog import CatalogError, load_catalog
    from loopwarden.config import ConfigError, find_pyproject, load_config
    from loopwarden.static.explain import explain_lines
    from loopwarden.static.scan import scan

    try:
        path, line, key_rest = _target(args.target)
    except ValueError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    display = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    roots = args.root or ["."]
    try:
        pyproject = Path(args.config) if args.config else find_pyproject(Path(roots[0]))
        config = load_config(pyproject)
        catalog = load_catalog(config.catalog, str(pyproject) if pyproject else "pyproject.toml")
    except (ConfigError, CatalogError) as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    result = scan(roots, catalog, excludes=config.exclude, jobs=os.cpu_count() or 1)
    if result.program is None:  # the scan always builds it; None only if a run was cut short
        print("loopwarden: error: nothing was analysed", file=sys.stderr)
        return 2
    index, graph, entries, findings = result.program
    if key_rest is not None:
        matching = [f for f in findings if f.key == f"{display}::{key_rest}"]
        if not matching:
            print(f"loopwarden: error: no finding with key {args.target} in {', '.join(roots)}", file=sys.stderr)
            return 1
        lines = sorted({f.line for f in matching})
    elif line is not None:
        lines = [line]
    else:  # _target gives a line or a key
        print(f"loopwarden: error: {args.target}: give PATH:LINE or a finding key", file=sys.stderr)
        return 2
    if display not in {m.path for m in index.modules.values()}:
        print(f"loopwarden: error: {display} is not among the scanned files of {', '.join(roots)} (use --root)", file=sys.stderr)
        return 2
    out: list[str] = []
    for number in lines:
        out.extend(explain_lines(index, graph, entries, findings, display, number))
        out.append("")
    from loopwarden.report.text import fits, plain

    text = "\n".join(out)
    sys.stdout.write(text if fits(text, sys.stdout.encoding) else plain(text, sys.stdout.encoding))
    return 0
