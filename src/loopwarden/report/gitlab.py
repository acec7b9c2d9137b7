"""GitLab code-quality report (a Code Climate subset): a JSON array, one issue per finding,
with a fingerprint from the finding's stable key, so GitLab matches issues across pipelines
and line moves."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import TYPE_CHECKING

from loopwarden.report.sarif import printable
from loopwarden.report.text import chain_text

if TYPE_CHECKING:
    from loopwarden.static.scan import ScanResult

_SEVERITY = {"HIGH": "critical", "MEDIUM": "major", "LOW": "minor"}


def fingerprint(key: str, copy: int) -> str:
    data = key if copy == 1 else f"{key}#{copy}"
    return hashlib.sha256(data.encode("utf-8", "surrogateescape")).hexdigest()


def render_gitlab(result: ScanResult) -> str:
    copies: Counter[str] = Counter()
    issues = []
    for f in result.findings:
        copies[f.key] += 1
        issues.append(
            {
                "type": "issue",
                "check_name": f"loopwarden/{f.category}",
                "description": printable(f"{f.reason}. Chain: {chain_text(f)}. Fix: {f.fix}"),
                "categories": ["Performance"],
                "severity": _SEVERITY[f.priority],
                "fingerprint": fingerprint(f.key, copies[f.key]),
                "location": {"path": printable(f.path), "lines": {"begin": f.line}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"
