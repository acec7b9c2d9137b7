"""Teeth reports: a text table and JSON (schema 1, documented in docs/teeth.md), and the
merge of JSON parts from ``--shard`` runs."""

from __future__ import annotations

import json
from typing import Any

from loopwarden import __version__
from loopwarden.teeth.runner import KILLED, NOT_COVERED, OUTCOMES, SURVIVED, SiteResult

SCHEMA = 1


def score(counts: dict[str, int]) -> float | None:
    """killed / (killed + survived + not covered), in percent; None when nothing counts."""
    total = counts.get(KILLED, 0) + counts.get(SURVIVED, 0) + counts.get(NOT_COVERED, 0)
    return None if total == 0 else round(100.0 * counts.get(KILLED, 0) / total, 1)


def site_record(result: SiteResult) -> dict[str, Any]:
    site = result.site
    return {
        "id": site.id,
        "kind": "lock" if site.is_lock else "offload",
        "key": site.key,
        "path": site.path,
        "line": site.line,
        "col": site.col,
        "end_line": site.end_line,
        "end_col": site.end_col,
        "function": site.function,
        "wrapper": site.wrapper,
        "callable": site.callable,
        "blocking": list(site.blocking) if site.blocking is not None else None,
        "holds": list(site.holds),
        "outcome": result.outcome,
        "tests": list(result.tests),
        "killed_by": result.killed_by,
        "detail": result.detail,
        "cached": result.cached,
        "seconds": result.seconds,
    }


def build_document(records: list[dict[str, Any]], min_score: float, shard: str | None, seconds: float | None) -> dict[str, Any]:
    records = sorted(records, key=lambda r: (r["path"], r["line"], r["col"]))
    counts = {o: 0 for o in OUTCOMES}
    for record in records:
        counts[record["outcome"]] += 1
    return {
        "tool": "loopwarden",
        "kind": "teeth",
        "version": __version__,
        "schema": SCHEMA,
        "score": score(counts),
        "min_score": min_score,
        "shard": shard,
        "seconds": None if seconds is None else round(seconds, 2),
        "summary": {"sites": len(records), **counts},
        "sites": records,
    }


def passes(document: dict[str, Any]) -> bool:
    value = document["score"]
    return value is None or value >= document["min_score"]


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def render_text(document: dict[str, Any]) -> str:
    rows = [("site", "callable", "tests", "outcome", "killed by / detail")]
    for record in document["sites"]:
        rows.append(
            (
                record["id"],
                f"{record['callable']} ({record['wrapper'].rpartition('.')[2]})",
                str(len(record["tests"])),
                record["outcome"] + (" (cached)" if record["cached"] else ""),
                _detail(record),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join([*(r[i].ljust(widths[i]) for i in range(4)), r[4]]).rstrip() for r in rows]
    summary = document["summary"]
    value = document["score"]
    counted = summary[KILLED] + summary[SURVIVED] + summary[NOT_COVERED]
    shown = "n/a (no site counts)" if value is None else f"{value:g}%"
    lines.append("")
    lines.append(
        f"score {shown}: {summary[KILLED]} killed of {counted} "
        f"({summary[SURVIVED]} survived, {summary[NOT_COVERED]} not covered); "
        f"{summary['NOT_BLOCKING']} not blocking, {summary['ERROR']} error(s), {summary['TIMEOUT']} timeout(s); "
        f"{summary['sites']} site(s)"
        + (f" in {document['seconds']:.1f} s" if document.get("seconds") is not None else "")
        + (f", shard {document['shard']}" if document.get("shard") else "")
        + f"; minimum {document['min_score']:g}%"
    )
    return "\n".join(lines) + "\n"


def _detail(record: dict[str, Any]) -> str:
    killed = record.get("killed_by")
    if record["outcome"] == KILLED and killed:
        where = killed.get("location") or {}
        at = f" at {where['path']}:{where['line']}" if where.get("path") else ""
        symbol = killed.get("symbol") or record.get("detail") or "blocking call"
        return f"{killed.get('test')}: {symbol}{at}"
    if record["outcome"] == SURVIVED and record.get("kind") == "lock":
        return "no test went red without the lock"
    if record["outcome"] == SURVIVED:
        reach = ", ".join(record["blocking"] or ()) or "unknown callable"
        return f"no test went red (reaches {reach})"
    return record.get("detail") or ""


def merge(documents: list[dict[str, Any]], min_score: float | None) -> dict[str, Any]:
    """One document from the parts of a sharded run (each site once)."""
    by_id: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    for document in documents:
        if document.get("kind") != "teeth" or document.get("schema") != SCHEMA:
            raise ValueError("not a loopwarden teeth JSON report (schema 1)")
        for record in document["sites"]:
            by_id[record["id"]] = record
        seconds += document.get("seconds") or 0.0
    floor = min_score if min_score is not None else max((d["min_score"] for d in documents), default=100.0)
    return build_document(list(by_id.values()), floor, None, seconds)
