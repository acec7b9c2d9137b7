"""``scan --diff BASE`` and ``scan --baseline FILE``: narrow a scan result to the findings
to report, and render the report with a ``diff`` and a ``baseline`` section."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loopwarden.workflow.baseline import BaselineError
from loopwarden.workflow.git import GitError

if TYPE_CHECKING:
    import argparse

    from loopwarden.config import Config
    from loopwarden.static.findings import Finding
    from loopwarden.static.scan import ScanResult
    from loopwarden.workflow.diff import Rescan


class WorkflowError(Exception):
    """A usage problem in changed-code mode or with a baseline: one line, exit 2."""


def baseline_path(args: argparse.Namespace, config: Config) -> str | None:
    """--baseline FILE, else the configuration's ``baseline`` (relative to its pyproject.toml);
    --no-baseline turns both off."""
    if getattr(args, "no_baseline", False):
        return None
    given: str | None = getattr(args, "baseline", None)
    if given:
        return given
    configured = getattr(config, "baseline", None)
    if configured and config.source is not None:
        return os.path.join(os.path.dirname(str(config.source)), configured)
    return configured or None


def narrow(result: ScanResult, args: argparse.Namespace, config: Config, rescan: Rescan) -> tuple[ScanResult, Callable[..., str]]:
    """The findings to report and a ``render(result, fmt, color=)`` that adds the sections."""
    sections: dict[str, dict[str, Any]] = {}
    lines: list[str] = []
    findings = list(result.findings)
    try:
        if getattr(args, "diff", None):
            from loopwarden.workflow.diff import outcome_dict, outcome_lines, run_diff

            config_dir = str(config.source.parent) if config.source is not None else None
            findings, outcome = run_diff(
                result,
                rescan,
                args.diff,
                paths=args.paths or ["."],
                include_uncommitted=args.include_uncommitted,
                config_dir=config_dir,
            )
            sections["diff"] = outcome_dict(outcome)
            lines += outcome_lines(outcome)
        elif getattr(args, "include_uncommitted", False):
            raise WorkflowError("--include-uncommitted needs --diff BASE")
        path = baseline_path(args, config)
        if path:
            from loopwarden.workflow import baseline

            entries = baseline.load(path)
            base_dir = baseline.key_root(config, path)
            # Against every finding of the scan (so --diff does not make entries look stale) ...
            applied = baseline.apply(result.findings, entries, base_dir, os.getcwd())
            if "diff" in sections:  # ... then keep the changed-code findings that are new to it
                new = {_identity(f) for f in applied.reported}
                findings = [f for f in findings if _identity(f) in new]
            else:
                findings = list(applied.reported)
            filtered = (getattr(args, "min_priority", None) or config.min_priority) != "LOW"
            if filtered:
                applied = dataclasses.replace(applied, stale=())  # hidden findings would look stale
            sections["baseline"] = {
                "file": path,
                "new": len(findings),
                "known": applied.known,
                "stale": [{"key": key, "count": count} for key, count in applied.stale],
            }
            lines.append(
                f"baseline {path}: {len(findings)} new finding(s); {applied.known} known finding(s) not reported; "
                f"{len(applied.stale)} stale entr{'y' if len(applied.stale) == 1 else 'ies'}"
                + (" (no longer found; `loopwarden baseline --update` drops them):" if applied.stale else "")
            )
            lines += [f"  stale: {key}" + (f" (x{count})" if count > 1 else "") for key, count in applied.stale]
            if filtered:
                lines.append("note: stale entries are not checked with --min-priority above LOW")
    except (GitError, BaselineError) as exc:
        raise WorkflowError(str(exc)) from None
    narrowed = dataclasses.replace(result, findings=findings)
    return narrowed, _renderer(sections, lines)


def _identity(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.path, finding.line, finding.column, finding.symbol)


def _renderer(sections: dict[str, dict[str, Any]], lines: list[str]) -> Callable[..., str]:
    def render(result: ScanResult, fmt: str, *, color: bool = False) -> str:
        from loopwarden.report import render as plain

        if fmt == "json":
            from loopwarden.report.json import report_dict

            doc = report_dict(result)
            doc.update(sections)
            return json.dumps(doc, indent=2) + "\n"
        text = plain(result, fmt, color=color)
        if fmt == "sarif" and sections:
            doc = json.loads(text)
            doc["runs"][0].setdefault("properties", {})["loopwarden"] = sections
            return json.dumps(doc, indent=2) + "\n"
        if fmt in ("text", "summary"):
            return text + "".join(line + "\n" for line in lines)
        for line in lines:  # annotations and code-quality JSON stay parseable: the summary goes to stderr
            print(f"loopwarden: {line}", file=sys.stderr)
        return text

    return render
