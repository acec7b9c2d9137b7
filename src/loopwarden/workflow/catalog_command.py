"""``loopwarden catalog``: what is detected, and what counts as an offload, a loop callback or
a hook, so a user can see why a call is or is not flagged (with the project's own additions)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="list the blocking calls detected, the offload wrappers and hooks recognised",
        description="List the catalogue: blocking calls by category, patterns, offload wrappers, loop callbacks and hooks, "
        "including [tool.loopwarden.catalog] additions from pyproject.toml.",
    )
    parser.add_argument("--category", metavar="C", help="only this category (e.g. FILE_IO; see `loopwarden rule`)")
    parser.add_argument("--search", metavar="TEXT", help="only entries whose name contains TEXT (case-insensitive)")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file")


def run(args: argparse.Namespace) -> int:
    from loopwarden.catalog.categories import CATEGORIES
    from loopwarden.workflow.project import ProjectError, load

    category = None
    if args.category is not None:
        category = args.category.upper()
        if category not in CATEGORIES:
            print(f"loopwarden: error: unknown category {args.category!r}; known: {', '.join(CATEGORIES)}", file=sys.stderr)
            return 2
    if args.search is not None and not args.search.strip():
        print("loopwarden: error: --search needs some text", file=sys.stderr)
        return 2
    try:
        _, catalog = load(args.config, ["."])
    except ProjectError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    needle = (args.search or "").strip().lower()

    def wanted(name: str) -> bool:
        return needle in name.lower()

    out: list[str] = []
    for name, cat in CATEGORIES.items():
        if category and name != category:
            continue
        sinks = sorted((s for s in catalog.sinks.values() if s.category == name and wanted(s.symbol)), key=lambda s: s.symbol)
        patterns = [p for p in catalog.patterns if p.category == name and wanted(p.regex.pattern)]
        if not sinks and not patterns and needle:
            continue
        out.append(f"{name} ({cat.cost}): {cat.summary}")
        for sink in sinks:
            notes = [n for n in (sink.cost if sink.cost != cat.cost else "", "lazy" if sink.lazy else "", "duck" if sink.duck else "") if n]
            out.append(f"  {sink.symbol}" + (f"  ({', '.join(notes)})" if notes else ""))
        for pattern in patterns:
            out.append(f"  pattern {_glob(pattern.regex.pattern)}" + (f"  ({pattern.cost})" if pattern.cost != cat.cost else ""))
        out.append("")
    if category is None:
        offloads = [o for o in catalog.offloads if wanted(o.name or f".{o.method}()")]
        callbacks = [c for c in catalog.loop_callbacks if wanted(c.name or f".{c.method}()")]
        hooks = [h for h in catalog.hooks if wanted(f"{h.framework} {h.base or ''} {h.decorator or ''} {h.methods}")]
        if offloads or not needle:
            out.append("OFFLOADS (a callable passed here runs off the loop; what it reaches is not reported):")
            out += [f"  {o.name or f'any .{o.method}(...) call'}  (callable at argument {o.callable_arg})" for o in offloads]
            out.append("")
        if callbacks or not needle:
            out.append("LOOP CALLBACKS (a callable passed here runs ON the loop; what it reaches is reported):")
            out += [f"  {c.name or f'any .{c.method}(...) call'}  (callable at argument {c.callable_arg})" for c in callbacks]
            out.append("")
        if hooks or not needle:
            out.append("HOOKS (sync code a framework runs on the loop):")
            for hook in hooks:
                if hook.base:
                    methods = ", ".join(f"{sync} (async twin {twin})" if twin else sync for sync, twin in hook.methods)
                    out.append(f"  {hook.framework}: subclasses of {hook.base}: {methods}")
                else:
                    out.append(f"  {hook.framework}: sync functions decorated with {hook.decorator}")
            out.append("")
    if not out:
        print(f"nothing in the catalogue matches {args.search!r}" + (f" in {category}" if category else ""))
        return 1
    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")
    return 0


def _glob(regex: str) -> str:
    """The compiled pattern back as the glob it came from, as near as it can be shown."""
    text = regex.removeprefix("(?s:").removesuffix(")\\Z")
    return text.replace(".*", "*").replace("\\.", ".")
