"""The hazards an offload brings (issue 13): lost updates and lost contextvars.

Consumes the scanner's offload sites, the whole-program index and the call graph, and adds
a small syntax pass of its own over the modules involved (``facts``) for what the summaries
do not record: reads and writes of shared resources, ``async with`` lock blocks, ``ctx.run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopwarden.static.entries import EntryPoints
    from loopwarden.static.findings import Finding
    from loopwarden.static.index import ProgramIndex
    from loopwarden.static.reach import CallGraph

__all__ = ["check", "check_with_suppressed"]


def check(index: ProgramIndex, graph: CallGraph, cwd: str | None = None, entries: EntryPoints | None = None) -> list[Finding]:
    """LOST_UPDATE and CONTEXT_LOSS findings for every offload site of the program, sorted."""
    from loopwarden.hazards.rules import Hazards

    return Hazards(index, graph, cwd, entries).check()


def check_with_suppressed(
    index: ProgramIndex, graph: CallGraph, cwd: str | None = None, entries: EntryPoints | None = None
) -> tuple[list[Finding], list[tuple[str, int]]]:
    """The findings, and the (path, line) of each one a suppression comment silenced."""
    from loopwarden.hazards.rules import Hazards

    hazards = Hazards(index, graph, cwd, entries)
    return hazards.check(), hazards.suppressed
