"""Human-readable report, grouped by file."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from loopwarden.report.source import source_line
from loopwarden.static.findings import PRIORITIES, Finding, short_symbol

_COLORS = {"HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m"}
_RESET = "\033[0m"


def chain_text(finding: Finding) -> str:
    steps = []
    for step in finding.chain:
        module, _, local = _split(step.function, step.path)
        if step.elided:
            steps.append(f"… {step.elided} more …")
        steps.append(("~" if step.inferred else "") + f"{module}.{local}")
    return " → ".join([*steps, short_symbol(finding.symbol)])


def _split(qualname: str, path: str) -> tuple[str, str, str]:
    """pkg.web.Store.get with path pkg/web.py -> ("web", ".", "Store.get")."""
    stem = path.rpartition("/")[2].removesuffix(".py")
    if stem == "__init__":
        stem = path.rpartition("/")[0].rpartition("/")[2] or stem
    marker = f"{stem}."
    index = qualname.find(marker)
    if index >= 0 and (index == 0 or qualname[index - 1] == "."):
        return stem, ".", qualname[index + len(marker) :]
    return qualname.rpartition(".")[0], ".", qualname.rpartition(".")[2]


def _finding_block(finding: Finding, color: bool) -> list[str]:
    priority = finding.priority
    label = f"{_COLORS[priority]}{priority:<6}{_RESET}" if color else f"{priority:<6}"
    code = source_line(finding.path, finding.line)
    lines = [
        f"  {label} {finding.path}:{finding.line}:{finding.column}  {finding.symbol}  [{finding.exposure}]",
        f"         chain: {chain_text(finding)}",
    ]
    if code:
        lines.append(f"         {finding.line} | {code}")
    lines.append(f"         fix: {finding.fix}")
    return lines


def summary_line(result) -> str:
    counts = Counter(f.priority for f in result.findings)
    files = len({f.path for f in result.findings})
    parts = ", ".join(f"{counts.get(p, 0)} {p.lower()}" for p in PRIORITIES)
    return (
        f"{len(result.findings)} finding(s) ({parts}) in {files} file(s); "
        f"scanned {result.files} file(s), {result.lines} lines; "
        f"{result.suppressed} suppressed; {len(result.skipped)} skipped"
    )


def render_text(result, color: bool = False) -> str:
    out: list[str] = []
    for path, group in groupby(result.findings, key=lambda f: f.path):
        out.append(path)
        for finding in group:
            out.extend(_finding_block(finding, color))
        out.append("")
    for skipped in result.skipped:
        out.append(f"skipped {skipped.path}: {skipped.reason}")
    if result.skipped:
        out.append("")
    out.append(summary_line(result))
    return "\n".join(out) + "\n"
