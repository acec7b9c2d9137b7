"""JSON report, schema 2 (documented in docs/json-schema.md, validated in the tests)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from loopwarden import __version__
from loopwarden.static.findings import PRIORITIES, EntryPoint, Finding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from loopwarden.libs import LibraryStats
    from loopwarden.static.findings import ChainStep, LibraryCall
    from loopwarden.static.scan import ScanResult

SCHEMA_VERSION = 2


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "key": finding.key,
        "priority": finding.priority,
        "location": {
            "path": finding.path,
            "line": finding.line,
            "column": finding.column + 1,
            "function": finding.function,
        },
        "blocking_call": {
            "category": finding.category,
            "operation": finding.operation,
            "symbol": finding.symbol,
        },
        "event_loop_exposure": finding.exposure,
        "chain": chain_list(finding.chain),
        "entry_points": [entry_dict(p) for p in finding.entry_points],
        "entry_points_total": finding.entry_total,
        "inferred": finding.inferred,
        "reason": finding.reason,
        "code": finding_code(finding),
        "fix": finding.fix,
        **({"library": library_dict(finding.library)} if finding.library is not None else {}),
    }


def library_dict(library: LibraryCall) -> dict[str, Any]:
    """``--follow-libs``: the blocking call is inside an installed library; the finding's
    location is the project's call into it, and this is what that call enters."""
    return {
        "distribution": library.distribution,
        "version": library.version,
        "function": library.function,
        "path": library.path,
        "blocking": list(library.blocking),
    }


def chain_list(chain: Iterable[ChainStep]) -> list[dict[str, Any]]:
    return [
        {
            "function": s.function,
            "path": s.path,
            "line": s.line,
            **({"inferred": True} if s.inferred else {}),
            **({"elided": s.elided} if s.elided else {}),
        }
        for s in chain
    ]


def entry_dict(point: EntryPoint) -> dict[str, Any]:
    offload = (
        {"function": point.offload_function, "path": point.offload_path, "line": point.offload_line}
        if point.offload_line
        else None
    )
    return {
        "function": point.function,
        "path": point.path,
        "line": point.line,
        "kind": point.kind,
        "scope": point.scope,
        "label": point.label,
        "exposure": point.exposure,
        "priority": point.priority,
        "chain": chain_list(point.chain),
        "offload": offload,
        **({"inferred": True} if point.inferred else {}),
    }


def finding_code(finding: Finding) -> str:
    from loopwarden.report.source import source_line

    return source_line(finding.path, finding.line)


def report_dict(result: ScanResult) -> dict[str, Any]:
    by_priority = Counter(f.priority for f in result.findings)
    return {
        "tool": "loopwarden",
        "version": __version__,
        "schema": SCHEMA_VERSION,
        "summary": {
            "files": result.files,
            "lines": result.lines,
            "findings": len(result.findings),
            "by_priority": {p: by_priority.get(p, 0) for p in PRIORITIES},
            "skipped": len(result.skipped),
            "suppressed": result.suppressed,
            "hidden": getattr(result, "hidden", 0),
            "unresolved": len(getattr(result, "unresolved", ())),
            **_libraries_summary(getattr(result, "libraries", None)),
        },
        "findings": [finding_dict(f) for f in result.findings],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "suppression_notes": [{"path": n.path, "line": n.line, "message": n.message} for n in getattr(result, "suppression_notes", ())],
    }


def _libraries_summary(stats: LibraryStats | None) -> dict[str, Any]:
    if stats is None:
        return {}
    return {
        "libraries": {
            "interpreter": stats.interpreter,
            "modules": stats.modules,
            "distributions": list(stats.distributions),
            "analysed": stats.analysed,
            "cached": stats.reused,
            "skipped": stats.skipped,
            "catalogues": list(stats.catalogues),
        }
    }


def render_json(result: ScanResult) -> str:
    return dumps_indented(report_dict(result)) + "\n"


class _Unusual(Exception):
    """A value ``dumps_indented`` leaves to the json module."""


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=2)``, the same text, in half the time: with an indent the
    json module encodes in pure Python through a chain of generators, and a large project's
    report (megabytes, mostly entry points and chains) spent a tenth of a warm run there.
    Anything but dicts with string keys, lists, tuples, strings, numbers, booleans and None
    goes to ``json.dumps`` itself, so that the text and the errors stay the module's."""
    encode_string = json.encoder.encode_basestring_ascii

    def encode(item: Any, indent: str) -> str:
        if isinstance(item, str):
            return encode_string(item)
        if isinstance(item, dict):
            if not item:
                return "{}"
            inner = indent + "  "
            parts = []
            for key, member in item.items():
                if not isinstance(key, str):
                    raise _Unusual
                parts.append(encode_string(key) + ": " + encode(member, inner))
            return "{" + inner + ("," + inner).join(parts) + indent + "}"
        if isinstance(item, (list, tuple)):
            if not item:
                return "[]"
            inner = indent + "  "
            return "[" + inner + ("," + inner).join([encode(member, inner) for member in item]) + indent + "]"
        if item is None:
            return "null"
        if item is True:
            return "true"
        if item is False:
            return "false"
        if isinstance(item, int):
            return int.__repr__(item)
        if isinstance(item, float) and item == item and item not in (float("inf"), float("-inf")):
            return float.__repr__(item)
        raise _Unusual

    try:
        return encode(value, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(value, indent=2)
