"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request's
diff (``::error file=...,line=...,title=...::message``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopwarden.report.sarif import printable
from loopwarden.report.text import chain_text, summary_line

if TYPE_CHECKING:
    from loopwarden.static.scan import ScanResult

_LEVEL = {"HIGH": "error", "MEDIUM": "warning", "LOW": "notice"}


def _data(text: str) -> str:
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: ScanResult) -> str:
    out = []
    for f in result.findings:
        props = ",".join(
            (
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column + 1}",
                f"title={_property(f'loopwarden {f.category}: {f.symbol} [{f.priority}]')}",
            )
        )
        message = f"{f.reason}\nchain: {chain_text(f)}\nfix: {f.fix}"
        out.append(f"::{_LEVEL[f.priority]} {props}::{_data(message)}")
    for s in result.skipped:
        out.append(f"::error file={_property(s.path)},title=loopwarden: skipped::{_data(s.reason)}")
    out.append(f"::notice title=loopwarden::{_data(summary_line(result))}")
    return "\n".join(out) + "\n"
