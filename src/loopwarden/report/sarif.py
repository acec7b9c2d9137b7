"""SARIF 2.1.0 output, one rule per category, for code-scanning UIs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from loopwarden import __version__
from loopwarden.catalog.categories import CATEGORIES
from loopwarden.report.text import chain_text

_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def _artifact(path: str) -> dict:
    """Report paths are relative to the current directory when under it (SRCROOT), else
    absolute; either way percent-encoded, so `#`, spaces and non-ASCII survive."""
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": "SRCROOT"}


def render_sarif(result) -> str:
    rules = [
        {
            "id": name,
            "name": name.title().replace("_", ""),
            "shortDescription": {"text": category.summary},
            "fullDescription": {"text": category.why},
            "helpUri": f"https://github.com/loopwarden/loopwarden/blob/main/docs/rules.md#{name.lower()}",
        }
        for name, category in CATEGORIES.items()
    ]
    results = [
        {
            "ruleId": f.category,
            "level": _LEVEL[f.priority],
            "message": {"text": f"{f.reason}. Chain: {chain_text(f)}. Fix: {f.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(f.path),
                        "region": {"startLine": f.line, "startColumn": f.column + 1},
                    }
                }
            ],
            "partialFingerprints": {"loopwardenKey/v1": f.key},
            "properties": {"priority": f.priority, "exposure": f.exposure, "symbol": f.symbol},
        }
        for f in result.findings
    ]
    notifications = [
        {"level": "error", "message": {"text": f"{s.path}: {s.reason}"}} for s in result.skipped
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "loopwarden", "version": __version__, "rules": rules}},
                "results": results,
                "originalUriBaseIds": {"SRCROOT": {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [{"executionSuccessful": not result.skipped, "toolExecutionNotifications": notifications}],
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
