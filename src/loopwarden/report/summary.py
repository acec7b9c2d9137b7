"""``--format summary``: counts by priority, category, exposure and the top files."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from loopwarden.report.text import summary_line
from loopwarden.static.findings import PRIORITIES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from loopwarden.static.scan import ScanResult


def _table(title: str, counts: Counter[str], order: Sequence[str] | None = None, limit: int | None = None) -> list[str]:
    items = [(k, counts[k]) for k in order if counts.get(k)] if order else counts.most_common(limit)
    if not items:
        return []
    width = max(len(str(k)) for k, _ in items)
    return [title, *(f"  {str(k):<{width}}  {v:>5}" for k, v in items), ""]


def render_summary(result: ScanResult) -> str:
    findings = result.findings
    out: list[str] = []
    out += _table("by priority", Counter(f.priority for f in findings), order=PRIORITIES)
    out += _table("by category", Counter(f.category for f in findings), limit=None)
    out += _table("by exposure", Counter(f.exposure for f in findings), limit=None)
    out += _table("top files", Counter(f.path for f in findings), limit=10)
    out.append(summary_line(result))
    return "\n".join(out) + "\n"
