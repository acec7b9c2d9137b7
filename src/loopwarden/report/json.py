"""JSON report, schema 1 (documented in docs/json-schema.md, validated in the tests)."""

from __future__ import annotations

import json
from collections import Counter

from loopwarden import __version__
from loopwarden.static.findings import PRIORITIES, Finding

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> dict:
    return {
        "key": finding.key,
        "priority": finding.priority,
        "location": {
            "path": finding.path,
            "line": finding.line,
            "column": finding.column,
            "function": finding.function,
        },
        "blocking_call": {
            "category": finding.category,
            "operation": finding.operation,
            "symbol": finding.symbol,
        },
        "event_loop_exposure": finding.exposure,
        "chain": [
            {
                "function": s.function,
                "path": s.path,
                "line": s.line,
                **({"inferred": True} if s.inferred else {}),
                **({"elided": s.elided} if s.elided else {}),
            }
            for s in finding.chain
        ],
        "inferred": finding.inferred,
        "reason": finding.reason,
        "code": finding_code(finding),
        "fix": finding.fix,
    }


def finding_code(finding: Finding) -> str:
    from loopwarden.report.source import source_line

    return source_line(finding.path, finding.line)


def report_dict(result) -> dict:
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
        },
        "findings": [finding_dict(f) for f in result.findings],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }


def render_json(result) -> str:
    return json.dumps(report_dict(result), indent=2) + "\n"
