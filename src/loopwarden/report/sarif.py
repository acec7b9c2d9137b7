"""SARIF 2.1.0 output for code-scanning UIs (GitHub code scanning, VS Code's SARIF viewer).

One rule per category, with the catalogue's documentation as help; each finding's chain as a
``codeFlow``; ``partialFingerprints`` from the finding's stable key (plus the copy number when
one function holds the same call more than once), so an alert keeps its identity across runs
and line moves. File names that are not valid UTF-8 are percent-encoded from their bytes in
URIs and shown with U+FFFD in messages."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from loopwarden import __version__
from loopwarden.catalog.categories import CATEGORIES, CHEAP, FREE, HAZARDS
from loopwarden.report.text import chain_text

if TYPE_CHECKING:
    from loopwarden.catalog.categories import Category
    from loopwarden.static.findings import Finding
    from loopwarden.static.scan import ScanResult

_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
_COST_LEVEL = {CHEAP: "warning", FREE: "note"}
# The rule documentation ships with loopwarden (`loopwarden rule CATEGORY`, docs/rules.md) and
# is embedded in each rule's `help`; helpUri points at the Python documentation's page on
# running blocking code from asyncio, which every rule is an instance of.
HELP_URI = "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code"


def printable(text: str) -> str:
    """``text`` with undecodable file-name bytes (surrogate escapes) shown as U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _artifact(path: str) -> dict[str, Any]:
    """Report paths are relative to the current directory when under it (SRCROOT), else
    absolute; either way percent-encoded from the file name's bytes, so `#`, spaces,
    non-ASCII and non-UTF-8 names survive."""
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(os.fsencode(path)), "uriBaseId": "SRCROOT"}


def _location(path: str, line: int, column: int | None = None, message: str | None = None) -> dict[str, Any]:
    region = {"startLine": line}
    if column is not None:
        region["startColumn"] = column + 1
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": _artifact(path), "region": region}}
    if message:
        location["message"] = {"text": printable(message)}
    return location


def _rule(name: str, category: Category) -> dict[str, Any]:
    from loopwarden.catalog import default_catalog
    from loopwarden.catalog.docgen import _category_section, _raw_patterns

    markdown = "\n".join(_category_section(default_catalog(), _raw_patterns(), category)[2:]).strip() + "\n"
    return {
        "id": name,
        "name": name.title().replace("_", ""),
        "shortDescription": {"text": category.summary},
        "fullDescription": {"text": category.why},
        "help": {"text": f"{category.why}\n\nUse instead:\n\n{category.instead}", "markdown": markdown},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": _COST_LEVEL.get(category.cost, "error")},
        "properties": {"tags": ["asyncio", "performance", "blocking-io"]},
    }


def _code_flow(finding: Finding) -> dict[str, Any]:
    steps = []
    chain = finding.chain
    for i, step in enumerate(chain):
        last = i == len(chain) - 1
        text = f"{step.function} blocks here" if last else f"{step.function} calls {chain[i + 1].function}"
        if step.elided:
            text = f"({step.elided} calls left out) " + text
        steps.append({"location": _location(step.path, step.line, message=text), "nestingLevel": i})
    return {"threadFlows": [{"locations": steps}]}


def render_sarif(result: ScanResult) -> str:
    documented = {**CATEGORIES, **HAZARDS}
    names = list(documented)
    rules = [_rule(name, category) for name, category in documented.items()]
    copies: Counter[str] = Counter()
    results = []
    for f in result.findings:
        copies[f.key] += 1
        fingerprint = f.key if copies[f.key] == 1 else f"{f.key}#{copies[f.key]}"
        entry: dict[str, Any] = {
            "ruleId": f.category,
            "ruleIndex": names.index(f.category) if f.category in documented else -1,
            "level": _LEVEL[f.priority],
            "message": {"text": printable(f"{f.reason}. Chain: {chain_text(f)}. Fix: {f.fix}")},
            "locations": [_location(f.path, f.line, f.column)],
            "partialFingerprints": {"loopwardenKey/v1": printable(fingerprint)},
            "properties": {"priority": f.priority, "exposure": f.exposure, "symbol": f.symbol},
        }
        if f.library is not None:  # --follow-libs: the call enters this library
            entry["properties"]["library"] = f"{f.library.distribution} {f.library.version}".strip()
        if f.chain:
            entry["codeFlows"] = [_code_flow(f)]
        if entry["ruleIndex"] < 0:
            del entry["ruleIndex"]
        results.append(entry)
    notifications = [
        {"level": "error", "message": {"text": printable(f"{s.path}: {s.reason}")}} for s in result.skipped
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "loopwarden",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "originalUriBaseIds": {"SRCROOT": {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [{"executionSuccessful": not result.skipped, "toolExecutionNotifications": notifications}],
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
