"""Human-readable report, grouped by file."""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import TYPE_CHECKING

from loopwarden.report.source import source_line
from loopwarden.static.findings import PRIORITIES, Finding, short_symbol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from loopwarden.libs import LibraryStats
    from loopwarden.static.findings import ChainStep, LibraryCall
    from loopwarden.static.scan import ScanResult

_COLORS = {"HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m"}
_RESET = "\033[0m"


# Entry kinds worth naming in a chain ("route GET /notes: web.create → ...").
_NAMED_KINDS = frozenset({"route", "websocket", "handler", "tool", "node", "task", "setup", "callback", "main", "script", "lifespan"})
SHOWN_ENTRY_POINTS = 3
_PLAIN = {"→": "->", "…": "...", "—": "-", "–": "-"}


def chain_text(finding: Finding) -> str:
    best = finding.entry_points[0] if finding.entry_points else None
    prefix = f"{best.label}: " if best is not None and best.kind in _NAMED_KINDS else ""
    return prefix + steps_text(finding.chain, finding.symbol, finding.library)


def steps_text(chain: Iterable[ChainStep], symbol: str, library: LibraryCall | None = None) -> str:
    """The chain; with ``library`` (a ``LibraryCall``), the step that enters the library is
    marked with its distribution: ``web.status → client.Client.get_status [vendor-sdk 1.2] → Session.get``."""
    steps = []
    for step in chain:
        module, _, local = _split(step.function, step.path)
        if step.elided:
            steps.append(f"… {step.elided} more …")
        mark = f" [{library.distribution} {library.version}]".replace(" ]", "]") if library is not None and step.function == library.function else ""
        steps.append(("~" if step.inferred else "") + f"{module}.{local}{mark}")
    return " → ".join([*steps, short_symbol(symbol)])


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
        f"  {label} {finding.path}:{finding.line}:{finding.column + 1}  {finding.symbol}  [{finding.exposure}]",
        f"         chain: {chain_text(finding)}",
    ]
    if code:
        lines.append(f"         {finding.line} | {code}")
    lines.extend(_entry_lines(finding))
    lines.append(f"         fix: {finding.fix}")
    return lines


def _entry_lines(finding: Finding) -> list[str]:
    """Every entry point, grouped by where the offload goes, the long tail elided with a count."""
    if finding.entry_total <= 1:
        return []
    out = [f"         entry points ({finding.entry_total}):"]
    shown = finding.entry_points[:SHOWN_ENTRY_POINTS]
    for point in shown:
        where = f"{point.offload_path}:{point.offload_line}" if point.offload_line else "the call itself"
        out.append(f"           {point.priority:<6} {point.label} [{point.scope}]  offload at {where}")
    rest = finding.entry_points[SHOWN_ENTRY_POINTS:]
    hidden = finding.entry_total - len(shown)
    if hidden > 0:
        scopes = Counter(p.scope for p in rest)
        detail = ", ".join(f"{n} {scope}" for scope, n in sorted(scopes.items()))
        out.append(f"           + {hidden} more entry point(s) ({detail}{', ...' if hidden > len(rest) else ''}; --format json lists them)")
    return out


def plain(text: str, encoding: str | None) -> str:
    """The report for a console that cannot show every character (cp1252, ascii): arrows
    and ellipses become ASCII, anything else unencodable a backslash escape."""
    for fancy, simple in _PLAIN.items():
        text = text.replace(fancy, simple)
    encoding = encoding or "ascii"
    try:
        return text.encode(encoding, errors="backslashreplace").decode(encoding)
    except LookupError:
        return text.encode("ascii", errors="backslashreplace").decode("ascii")


def fits(text: str, encoding: str | None) -> bool:
    try:
        text.encode(encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True


def summary_line(result: ScanResult) -> str:
    counts = Counter(f.priority for f in result.findings)
    files = len({f.path for f in result.findings})
    parts = ", ".join(f"{counts.get(p, 0)} {p.lower()}" for p in PRIORITIES)
    hidden = getattr(result, "hidden", 0)
    unresolved = len(getattr(result, "unresolved", ()))
    return (
        f"{len(result.findings)} finding(s) ({parts}) in {files} file(s); "
        f"scanned {result.files} file(s), {result.lines} lines; "
        f"{result.suppressed} suppressed; {len(result.skipped)} skipped"
        + (f"; {hidden} below --min-priority not shown" if hidden else "")
        + (f"; {unresolved} unresolved call(s) in loop code (--show-unresolved lists them)" if unresolved else "")
        + _libraries_text(getattr(result, "libraries", None))
    )


def _libraries_text(stats: LibraryStats | None) -> str:
    """``--follow-libs``: how much library code joined the analysis, and what it cost."""
    if stats is None:
        return ""
    skipped = f", {stats.skipped} not analysable" if stats.skipped else ""
    bounded = ", stopped at the bound on modules" if stats.truncated else ""
    return (
        f"; followed {stats.modules} library module(s) from {len(stats.distributions)} distribution(s) "
        f"({stats.analysed} analysed, {stats.reused} from the cache{skipped}{bounded})"
    )


def unresolved_lines(result: ScanResult) -> list[str]:
    items = getattr(result, "unresolved", ())
    if not items:
        return ["no unresolved calls in loop code", ""]
    out = [f"unresolved calls in code that runs on the loop ({len(items)}): the scanner cannot see what they do"]
    out += [f"  {u.path}:{u.line}:{u.column}  {u.call}  in {u.function}" for u in items]
    out.append("")
    return out


def render_text(result: ScanResult, color: bool = False, show_unresolved: bool = False) -> str:
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
    notes = getattr(result, "suppression_notes", ())
    for note in notes:
        out.append(f"{note.path}:{note.line}: {note.message}")
    if notes:
        out.append("")
    if show_unresolved:
        out.extend(unresolved_lines(result))
    out.append(summary_line(result))
    return "\n".join(out) + "\n"
