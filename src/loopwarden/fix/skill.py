"""``loopwarden agent-skill [--output FOLDER]``: the procedure for coding agents, shipped in the
package (``loopwarden/fix/SKILL.md``): printed, or written to ``FOLDER/SKILL.md``."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "agent-skill",
        help="print the skill file for coding agents (or write it to a folder)",
        description="Print loopwarden's skill file for coding agents: when to use it, the steps, how to judge a candidate, the rules of a good anchor, what to put in the PR.",
    )
    parser.add_argument("--output", "-o", metavar="FOLDER", help="write FOLDER/SKILL.md instead of printing it")


def text() -> str:
    return resources.files("loopwarden.fix").joinpath("SKILL.md").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    skill = text()
    if not args.output:
        sys.stdout.write(skill)
        return 0
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        print(f"loopwarden: error: {folder}: not a folder", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "SKILL.md"
    from loopwarden._files import replace_atomically

    replace_atomically(target, skill)
    print(f"wrote {target}", file=sys.stderr)
    return 0
