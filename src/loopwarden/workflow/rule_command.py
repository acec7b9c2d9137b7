"""``loopwarden rule CATEGORY``: one category's documentation in the terminal (like ``ruff rule``)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rule",
        help="show the documentation of one category",
        description="Show what a category detects, why it blocks the loop, an example and what to use instead.",
    )
    parser.add_argument("category", nargs="?", metavar="CATEGORY", help="e.g. FILE_IO (case-insensitive)")
    parser.add_argument("--all", action="store_true", help="every category")


def run(args: argparse.Namespace) -> int:
    from loopwarden.catalog import default_catalog
    from loopwarden.catalog.categories import CATEGORIES as BLOCKING
    from loopwarden.catalog.categories import HAZARDS
    from loopwarden.catalog.docgen import _category_section, _raw_patterns

    CATEGORIES = {**BLOCKING, **HAZARDS}  # noqa: N806
    if args.all:
        names = list(CATEGORIES)
    elif args.category is None:
        print(f"loopwarden: error: name a category ({', '.join(CATEGORIES)}) or give --all", file=sys.stderr)
        return 2
    else:
        name = args.category.upper().replace("-", "_")
        if name not in CATEGORIES:
            close = [c for c in CATEGORIES if name in c or c in name]
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(CATEGORIES)}"
            print(f"loopwarden: error: unknown category {args.category!r}{hint}", file=sys.stderr)
            return 2
        names = [name]
    catalog = default_catalog()
    raw = _raw_patterns()
    text = "\n".join(line for name in names for line in _category_section(catalog, raw, CATEGORIES[name]))
    sys.stdout.write(text.rstrip("\n") + "\n")
    return 0
