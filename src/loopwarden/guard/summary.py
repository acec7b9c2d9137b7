"""The summary of ``loopwarden guard``: one JSON document, rendered as Markdown for a pull
request (candidates, dispositions, fixes, re-scan, anchors red -> green, teeth)."""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from loopwarden import __version__
from loopwarden.guard.model import DISPOSITIONS, NO_ACTION, Candidate, Evidence

SCHEMA = 1


def document(
    args: argparse.Namespace,
    diff: Any,
    candidates: list[Candidate],
    evidence: dict[str, Evidence],
    anchors: list[Any],
    teeth: dict[str, Any] | None,
    notes: list[str],
    edits: dict[str, tuple[bytes, bytes]],
) -> dict[str, Any]:
    items = []
    for c in candidates:
        ev = evidence[c.key]
        items.append(
            {
                "key": c.key,
                "disposition": c.disposition,
                "reason": c.reason,
                "path": c.path,
                "line": c.line,
                "symbol": c.symbol,
                "entry": c.entry,
                "site": c.site,
                "fix": ev.fix,
                "fix_safety": ev.fix_safety,
                "fix_applied": ev.fix_applied,
                "rescan": ev.rescan,
                "anchor": ev.anchor,
                "anchor_state": ev.anchor_state,
                "red_before": ev.red,
                "green_after": ev.green,
                "teeth": ev.teeth,
                "teeth_detail": ev.teeth_detail,
                "guarded": None if args.dry_run else ev.guarded(c),
                "notes": list(ev.notes),
            }
        )
    counts = {d: sum(1 for c in candidates if c.disposition == d) for d in DISPOSITIONS}
    unguarded = [i["key"] for i in items if i["disposition"] != NO_ACTION and not i["guarded"]]
    patch = "".join(
        "".join(difflib.unified_diff(before.decode("utf-8", "replace").splitlines(True), after.decode("utf-8", "replace").splitlines(True), f"a/{path}", f"b/{path}"))
        for path, (before, after) in edits.items()
    )
    return {
        "tool": "loopwarden",
        "kind": "guard",
        "version": __version__,
        "schema": SCHEMA,
        "base": diff.base,
        "merge_base": diff.merge_base,
        "dry_run": bool(args.dry_run),
        "summary": {"candidates": len(candidates), **counts, "unguarded": len(unguarded) if not args.dry_run else None},
        "candidates": items,
        "anchors": [{"path": str(a.path), "keys": list(a.keys), "state": a.state} for a in anchors],
        "files_fixed": sorted(edits) if not args.dry_run else [],
        "fixes_diff": patch,
        "teeth": None if teeth is None else {"score": teeth["score"], "summary": teeth["summary"]},
        "notes": list(notes),
        "unguarded": unguarded if not args.dry_run else None,
    }


def _yes(value: bool | None, yes: str, no: str) -> str:
    return "—" if value is None else yes if value else no


def markdown(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    lines = [
        f"## loopwarden guard: {s['candidates']} candidate(s) in the change against `{doc['base']}` (merge base `{doc['merge_base'][:12]}`)",
        "",
        ", ".join(f"{s[d]} {d}" for d in DISPOSITIONS if d in s) + ("; dry run, nothing written" if doc["dry_run"] else ""),
        "",
    ]
    if doc["candidates"]:
        lines += [
            "| candidate | disposition | why | fix | re-scan | anchor | red → green | teeth |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for i in doc["candidates"]:
            fix = "—"
            if i["fix"]:
                state = ("applied" if not doc["dry_run"] else "to apply") if i["fix_applied"] else ("unsafe, not applied" if i["fix_safety"] == "unsafe" else "hint")
                fix = f"{state}: `{_cell(i['fix'], code=True)}`"
            anchor = f"`{i['anchor']}` ({i['anchor_state']})" if i["anchor"] else "—"
            redgreen = "—" if i["red_before"] is None and i["green_after"] is None else f"{_yes(i['red_before'], 'red', 'not red')} → {_yes(i['green_after'], 'green', 'not green')}"
            teeth = i["teeth"] or ("no offload: red → green is the proof" if i["disposition"] == "FIX+ANCHOR" and i["fix_applied"] and i["green_after"] else "—")
            if i["teeth_detail"] and i["teeth"] not in (None,):
                teeth += f" ({_cell(i['teeth_detail'])})"
            lines.append(
                f"| `{i['key']}` | {i['disposition']} | {_cell(i['reason'])} | {fix} | {i['rescan'] or '—'} | {anchor} | {redgreen} | {teeth} |"
            )
        lines.append("")
    if doc["fixes_diff"]:
        lines += ["<details><summary>fixes " + ("to apply" if doc["dry_run"] else "applied") + "</summary>", "", "```diff", doc["fixes_diff"].rstrip("\n"), "```", "", "</details>", ""]
    if doc["teeth"] is not None:
        t = doc["teeth"]
        sm = t["summary"]
        score = "n/a" if t["score"] is None else f"{t['score']:g}%"
        lines += [f"Teeth: score {score}: {sm['KILLED']} killed, {sm['SURVIVED']} survived, {sm['NOT_COVERED']} not covered of {sm['sites']} offload site(s).", ""]
    for note in doc["notes"]:
        lines.append(f"- note: {note}")
    for i in doc["candidates"]:
        for note in i["notes"]:
            lines.append(f"- `{i['key']}`: {note}")
    if doc["notes"] or any(i["notes"] for i in doc["candidates"]):
        lines.append("")
    if doc["dry_run"]:
        todo = sum(1 for i in doc["candidates"] if i["disposition"] != NO_ACTION)
        lines.append(f"**Dry run:** {todo} candidate(s) need action; run without --dry-run to fix, anchor and prove them.")
    elif doc["unguarded"]:
        lines.append(f"**Unguarded: {len(doc['unguarded'])}** — " + ", ".join(f"`{k}`" for k in doc["unguarded"]))
    else:
        lines.append("**All guarded:** every candidate is fixed, anchored and proven, or needs no action (reason given).")
    return "\n".join(lines) + "\n"


def _cell(text: str, code: bool = False) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    if code:
        text = text.replace("`", "'")
    return text if len(text) <= 160 else text[:157] + "..."
