"""``loopwarden guard --diff BASE [--dry-run] [--format markdown|json] [--output FILE]``.

The procedure of docs/workflow.md for what a change introduces, without questions:
1. scan the working tree and keep what the change introduces over the merge base with BASE
   (the diff mode of ``loopwarden scan``: findings by key, and the offload sites on changed lines);
2. judge each candidate: FIX+ANCHOR (a blocking call on the loop), FIX (a hazard an offload
   brings), GUARD (already offloaded: it needs a gated test that notices a revert), NO-ACTION
   (with the reason: start-up, CLI or test code only; an offload of nothing that blocks);
3. write the missing anchors (``loopwarden anchor``'s scaffolds) and run them under the gate: red;
4. apply the safe fixes (``loopwarden fix``); re-scan and match by key, never by line;
5. run the anchors again: green; run ``loopwarden teeth`` on the affected offload sites;
6. print a pull-request-ready summary (Markdown or JSON).
Exit 0 when every candidate is guarded (or needs no action), 1 while anything is unguarded
(with --dry-run: while anything needs doing), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopwarden._files import replace_atomically
from loopwarden.guard.model import FIX, FIX_ANCHOR, GUARD, NO_ACTION, Candidate, Evidence

if TYPE_CHECKING:
    from loopwarden.catalog import Catalog
    from loopwarden.fix.anchor import Target
    from loopwarden.static.findings import Finding
    from loopwarden.static.scan import ScanResult
    from loopwarden.teeth.sites import Site

EXIT_GUARDED, EXIT_UNGUARDED, EXIT_ERROR = 0, 1, 2
HAZARDS = ("LOST_UPDATE", "CONTEXT_LOSS")
_CONSUMERS = {"list", "sorted", "tuple", "set", "frozenset"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "guard",
        help="judge, fix, anchor and prove what a change introduces, with a pull-request summary",
        description=(
            "Run the whole procedure on what the change from the merge base with BASE introduces (the working "
            "tree included): judge each candidate (FIX+ANCHOR, FIX, GUARD, NO-ACTION with its reason), write the "
            "missing anchors and run them red, apply the safe fixes, re-scan by key, run the anchors green, run "
            "teeth on the affected offload sites, and print a summary for the pull request. Exit 1 while anything "
            "is unguarded."
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="what to scan (default: the current directory)")
    parser.add_argument("--diff", required=True, metavar="BASE", help="the git revision the change is compared with")
    parser.add_argument("--dry-run", action="store_true", help="write nothing: show the dispositions, the fixes and the anchors it would write")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown", help="summary format (default: markdown)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the summary to FILE instead of stdout")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply the fixes that may change behaviour")
    parser.add_argument("--anchors", default="tests", metavar="DIR", help="where anchors are written and looked for (default: tests)")
    parser.add_argument("--no-teeth", action="store_true", help="do not run loopwarden teeth (the summary says so; GUARD candidates stay unproven)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="teeth mutants run in parallel (default: the cores)")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file instead of the nearest pyproject.toml")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--tests",
        nargs=argparse.REMAINDER,
        default=[],
        metavar="ARGS",
        help="more pytest arguments for the teeth runs, besides the anchors (must come last)",
    )


class GuardError(Exception):
    """A usage problem: one line, exit 2."""


def run(args: argparse.Namespace) -> int:
    from loopwarden.fix.command import UsageError

    try:
        return Guard(args).run()
    except (GuardError, UsageError) as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


@dataclass(frozen=True)
class _Anchor:
    """One anchor file for the candidates that share an entry point and an offload site."""

    path: Path
    keys: tuple[str, ...]
    text: str
    state: str  # "written", "exists", "would write"


class Guard:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.paths: list[str] = args.paths or ["."]
        self.log: Callable[[str], None] = (lambda m: None) if args.quiet else (lambda m: print(f"guard: {m}", file=sys.stderr, flush=True))
        self.notes: list[str] = []

    # -- the procedure -----------------------------------------------------------------------
    def run(self) -> int:
        from loopwarden.fix.command import fix_findings, lazy_symbols, load_project, scan_with

        args = self.args
        config, catalog = load_project(self.paths, args.config)
        self.catalog = catalog
        result = scan_with(self.paths, config, catalog)
        for skipped in result.skipped:
            print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        findings, diff = self._diff(result, config, catalog)
        self.diff = diff
        candidates, targets = self._judge(findings, result, catalog, diff)
        self.log(f"{len(candidates)} candidate(s) against {args.diff}: " + ", ".join(f"{sum(c.disposition == d for c in candidates)} {d}" for d in (FIX_ANCHOR, FIX, GUARD, NO_ACTION)))
        evidence = {c.key: Evidence() for c in candidates}
        anchors = self._anchors(candidates, targets, result, evidence)
        written = [a for a in anchors if a.state == "written"]
        if written:
            self.log(f"anchors: {len(written)} written; running them before the fix (they must go red)")
            self._run_anchors(written, candidates, evidence, before=True)
        to_fix = {c.key for c in candidates if c.disposition in (FIX_ANCHOR, FIX)}
        selected = [f for f in result.findings if f.key in to_fix]
        done = fix_findings(self.paths, args.config, result, selected, lazy_symbols(catalog), unsafe=args.unsafe_fixes, write=not args.dry_run)
        for outcome, keys in done.reported:
            for key in keys:
                if key in evidence and (evidence[key].fix is None or outcome.applied):
                    evidence[key].fix, evidence[key].fix_safety, evidence[key].fix_applied = outcome.text, outcome.safety, outcome.applied
        self.edits = {path: (done.originals[path], done.current[path]) for path in sorted(done.current)}
        if args.dry_run:
            for c in candidates:
                if c.disposition in (FIX_ANCHOR, FIX):
                    evidence[c.key].rescan = "not run (--dry-run)"
            return self._finish(candidates, evidence, anchors, None)
        after = scan_with(self.paths, config, catalog) if done.current else result
        self._rescan(candidates, evidence, after)
        if written:
            self.log("anchors: running them after the fix (they must go green)")
            self._run_anchors(written, candidates, evidence, before=False)
        for anchor in anchors:
            if anchor.state == "exists":
                for key in anchor.keys:
                    evidence[key].green = True if evidence[key].green is None else evidence[key].green
        teeth = None if args.no_teeth else self._teeth(candidates, evidence, anchors, after, done.current)
        if args.no_teeth:
            self.notes.append("teeth not run (--no-teeth)")
        return self._finish(candidates, evidence, anchors, teeth)

    # -- 1. the change ---------------------------------------------------------------------
    def _diff(self, result: ScanResult, config: object, catalog: Catalog) -> tuple[list[Finding], object]:
        from loopwarden.fix.command import scan_with
        from loopwarden.workflow.diff import run_diff
        from loopwarden.workflow.git import GitError

        def rescan(paths: list[str], cwd: str, config_dir: str | None) -> ScanResult:
            return scan_with(paths, config, catalog, cwd=cwd)  # type: ignore[arg-type]

        try:
            findings, outcome = run_diff(result, rescan, self.args.diff, paths=self.paths, include_uncommitted=True)
        except GitError as exc:
            raise GuardError(f"--diff {self.args.diff}: {exc}") from None
        return findings, outcome

    def _changed_sites(self, result: ScanResult, catalog: Catalog, merge_base: str) -> list[Site]:
        """The offload sites (outside test code) on lines the change adds or edits."""
        from loopwarden.teeth.sites import collect_sites
        from loopwarden.workflow import git

        top = os.path.realpath(git.repo_top(os.getcwd()))
        changes = git.diff(top, merge_base, None)
        new_files = set(git.untracked(top))
        kept = []
        for site in collect_sites(result.modules, catalog):
            rel = Path(os.path.relpath(site.real, top)).as_posix()
            if rel in new_files or any(changes.changed(rel, line) for line in range(site.line, site.end_line + 1)):
                kept.append(site)
        return kept

    # -- 2. judge --------------------------------------------------------------------------
    def _judge(self, findings: list[Finding], result: ScanResult, catalog: Catalog, diff: object) -> tuple[list[Candidate], dict[str, Target | None]]:
        from loopwarden.fix.anchor import find_target
        from loopwarden.fix.sites import NOT_FIXED_SCOPES

        candidates: dict[str, Candidate] = {}
        targets: dict[str, Target | None] = {}
        for finding in sorted(findings, key=lambda f: f.sort_key):
            if finding.key in candidates:
                continue
            points = finding.entry_points
            first = points[0] if points else None
            where = f"{first.offload_path}:{first.offload_line}" if first else f"{finding.path}:{finding.line}"
            entry = first.label if first else finding.function
            if finding.category in HAZARDS:
                disposition, reason = FIX, f"{finding.category}: {finding.reason}"
            elif points and all(p.scope in NOT_FIXED_SCOPES for p in points):
                scopes = sorted({NOT_FIXED_SCOPES[p.scope] for p in points})
                disposition, reason = NO_ACTION, f"reached only from {' and '.join(scopes)} ({', '.join(p.label for p in points)})"
            else:
                disposition, reason = FIX_ANCHOR, f"{finding.exposure}: on the loop from {entry}"
                targets[finding.key] = find_target(result.findings, finding.key)
            candidates[finding.key] = Candidate(finding.key, disposition, reason, finding.path, finding.line, finding.symbol, entry, where)
        self.sites: dict[str, Site] = {}
        for site in self._changed_sites(result, catalog, diff.merge_base):  # type: ignore[attr-defined]
            key = f"{site.key}({site.callable})"  # the offload by what it offloads: stable when lines move
            self.sites[key] = site
            entry = f"{site.path}::{site.function}"
            if site.is_lock:
                disposition, reason = GUARD, f"a lock ({site.callable}) held around an offload: needs a concurrency test (loopwarden.testing.max_concurrency) that fails without it"
                candidates[key] = Candidate(key, disposition, reason, site.path, site.line, site.callable, entry, site.id)
                continue
            if site.blocking == () and site.callable not in _CONSUMERS:  # a consumer's argument may be what blocks
                disposition, reason = NO_ACTION, f"offloads {site.callable}, which reaches no blocking call"
            else:
                reaches = ", ".join(site.blocking) if site.blocking else "what the scanner cannot tell" if site.blocking is None else "a lazy argument"
                disposition, reason = GUARD, f"already offloaded ({site.callable} via {site.wrapper}, reaches {reaches}): needs a gated test that notices a revert"
                targets[key] = self._site_target(site, key, result, catalog)
            candidates[key] = Candidate(key, disposition, reason, site.path, site.line, site.blocking[0] if site.blocking else site.wrapper, entry, site.id)
        return sorted(candidates.values(), key=lambda c: (c.path, c.line, c.key)), targets

    def _site_target(self, site: Site, key: str, result: ScanResult, catalog: Catalog) -> Target | None:
        """An anchor target for an offload site: the async function that holds it, driven with
        the blocking call the offloaded callable reaches."""
        from loopwarden.fix.anchor import Target
        from loopwarden.static.findings import ChainStep, EntryPoint, Finding

        module = next((m for m in result.modules if m.path == site.path), None)
        if module is None or site.function == "<module>":
            return None
        symbol = site.blocking[0] if site.blocking else site.wrapper
        sink = catalog.sink(symbol)
        qualname = f"{module.module}.{site.function}"
        chain = (ChainStep(qualname, site.path, site.line),)
        label = f"async function {site.function}"
        point = EntryPoint(qualname, site.path, site.line, "async-api", "api", label, "OFFLOADED", "MEDIUM", chain, qualname, site.path, site.line)
        operation = symbol.rpartition(".")[2]
        category = sink.category if sink else ""
        finding = Finding(site.path, site.line, site.col, site.function, symbol, category, operation, "OFFLOADED", "MEDIUM", chain, "", "", entry_points=(point,))
        return Target(finding, point)

    # -- 3. anchors ------------------------------------------------------------------------
    def _anchors(self, candidates: list[Candidate], targets: dict[str, Target | None], result: ScanResult, evidence: dict[str, Evidence]) -> list[_Anchor]:
        from loopwarden.fix.anchor import async_test_style, scaffold

        folder = Path(self.args.anchors)
        existing = {p: p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("test*.py"))} if folder.is_dir() else {}
        style = async_test_style(Path.cwd())
        groups: dict[str, list[str]] = {}  # one anchor per entry point: it drives every candidate under it
        for c in candidates:
            target = targets.get(c.key)
            if c.disposition not in (FIX_ANCHOR, GUARD):
                continue
            if target is None:
                by_hand = "a max_concurrency test" if c.key in self.sites and self.sites[c.key].is_lock else "a gated test"
                evidence[c.key].notes.append(f"no anchor can be scaffolded for it: write {by_hand} by hand (teeth runs it with --tests)")
                continue
            point = target.point
            groups.setdefault(point.chain[0].function, []).append(c.key)
        anchors: list[_Anchor] = []
        taken: set[Path] = set(existing)
        for entry, keys in sorted(groups.items()):
            found = next((p for p, text in existing.items() if "loopwarden anchor" in text and (f"({entry})" in text or any(k in text for k in keys))), None)
            if found is not None:
                anchors.append(_Anchor(found, tuple(keys), found.read_text(encoding="utf-8"), "exists"))
            else:
                first = targets[keys[0]]
                assert first is not None
                text = scaffold(first, style)
                if len(keys) > 1:
                    also = "\nAlso anchors: " + ", ".join(keys[1:]) + "."
                    text = text.replace("(written by loopwarden anchor).", "(written by loopwarden anchor)." + also, 1)
                name = re.sub(r"\W+", "_", entry.rpartition(".")[2]).strip("_") or "entry"
                path = folder / f"test_loopwarden_{name}.py"
                number = 2
                while path in taken or path.exists():
                    path = folder / f"test_loopwarden_{name}_{number}.py"
                    number += 1
                taken.add(path)
                state = "would write" if self.args.dry_run else "written"
                if not self.args.dry_run:
                    _write_new(path, text)
                anchors.append(_Anchor(path, tuple(keys), text, state))
            for key in keys:
                evidence[key].anchor, evidence[key].anchor_state = str(anchors[-1].path), anchors[-1].state
        return anchors

    def _run_anchors(self, anchors: list[_Anchor], candidates: list[Candidate], evidence: dict[str, Evidence], before: bool) -> None:
        """Run the anchors under the gate; red before the fix means the gate saw the candidate's
        blocking call in the anchor's test; green after means the tests passed with no hit."""
        with tempfile.TemporaryDirectory(prefix="loopwarden-guard-") as tmp:
            report = os.path.join(tmp, "gate.json")
            cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "--loopwarden", "--loopwarden-report", report, *(str(a.path) for a in anchors)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            try:
                with open(report, encoding="utf-8") as fh:
                    gate = json.load(fh)
            except (OSError, ValueError):
                gate = None
        by_key = {c.key: c for c in candidates}
        if gate is None:
            tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
            self.notes.append(f"the anchors did not run under the gate (pytest exit {proc.returncode}): {tail}")
            return
        for anchor in anchors:
            hits = [h for h in gate.get("hits", ()) if h.get("test", "").partition("::")[0].endswith(anchor.path.name)]
            for key in anchor.keys:
                if before and by_key[key].disposition != FIX_ANCHOR:
                    continue  # already offloaded: teeth's revert is its red
                if before:
                    symbol = by_key[key].symbol
                    evidence[key].red = any(h.get("symbol") == symbol or h.get("key") == key for h in hits) or (by_key[key].disposition == FIX_ANCHOR and bool(hits))
                else:
                    failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR")) and str(anchor.path.as_posix()) in line]
                    evidence[key].green = proc.returncode in (0, 1) and not failed and not hits
                    if not evidence[key].green:
                        evidence[key].notes.append("anchor not green after the fix: " + ("; ".join(failed[:2]) or f"pytest exit {proc.returncode}"))

    # -- 4. re-scan by key -----------------------------------------------------------------
    def _rescan(self, candidates: list[Candidate], evidence: dict[str, Evidence], after: ScanResult) -> None:
        from loopwarden.fix.sites import NOT_FIXED_SCOPES

        still = {f.key for f in after.findings if not (f.entry_points and all(p.scope in NOT_FIXED_SCOPES for p in f.entry_points))}
        for c in candidates:
            if c.disposition in (FIX_ANCHOR, FIX):
                evidence[c.key].rescan = "still reported" if c.key in still else "gone"

    # -- 5. teeth --------------------------------------------------------------------------
    def _teeth(self, candidates: list[Candidate], evidence: dict[str, Evidence], anchors: list[_Anchor], after: ScanResult, edited: dict[str, bytes]) -> dict[str, Any] | None:
        from loopwarden.teeth import report
        from loopwarden.teeth.runner import RunOptions, Teeth, TeethStop
        from loopwarden.teeth.sites import collect_sites

        sites = collect_sites(after.modules, self.catalog)
        wanted: dict[str, list[str]] = {}  # site id -> candidate keys
        for c in candidates:
            site = self._site_of(c, evidence[c.key], sites)
            if site is not None:
                wanted.setdefault(site.id, []).append(c.key)
        chosen = [s for s in sites if s.id in wanted]
        tests = [str(a.path) for a in anchors if a.state in ("written", "exists")] + list(self.args.tests)
        if not chosen:
            return None
        if not tests:
            for keys in wanted.values():
                for key in keys:
                    evidence[key].teeth, evidence[key].teeth_detail = "NOT_RUN", "no anchor and no --tests to run"
            return None
        self.log(f"teeth: {len(chosen)} offload site(s), tests: {' '.join(tests)}")
        options = RunOptions(test_args=tests, jobs=self.args.jobs or os.cpu_count() or 1, cache_dir=None, log=self.log)
        try:
            results = Teeth(chosen, options).run()
        except TeethStop as exc:
            first = str(exc).splitlines()[0]
            self.notes.append(f"teeth stopped: {first}")
            for keys in wanted.values():
                for key in keys:
                    evidence[key].teeth, evidence[key].teeth_detail = "STOPPED", first
            return None
        document = report.build_document([report.site_record(r) for r in results], 100.0, None, None)
        for record in document["sites"]:
            for key in wanted.get(record["id"], ()):
                evidence[key].teeth = record["outcome"]
                killed = record.get("killed_by") or {}
                if record["outcome"] == "KILLED" and killed.get("test"):
                    evidence[key].teeth_detail = f"revert of {record['id']} fails {killed['test'].rpartition('::')[2]} on {killed.get('symbol') or 'a blocking call'}"
                else:
                    evidence[key].teeth_detail = f"{record['id']}: {report._detail(record)}"
        return document

    def _site_of(self, c: Candidate, ev: Evidence, sites: list[Site]) -> Site | None:
        """The offload site after the fix that stands for the candidate, matched by file,
        function and callable (lines move when an import is added)."""
        if c.disposition == GUARD:
            old = self.sites[c.key]
            return next((s for s in sites if (s.path, s.function, s.callable, s.wrapper) == (old.path, old.function, old.callable, old.wrapper)), None)
        if c.disposition != FIX_ANCHOR or not ev.fix_applied or not ev.fix or "to_thread" not in ev.fix:
            return None
        path, _, _ = c.site.rpartition(":")
        text = ev.fix
        for s in sites:
            if s.path == path and s.callable and s.callable in text and f"{s.wrapper.rpartition('.')[2]}" in text:
                return s
        return None

    # -- 6. summary ------------------------------------------------------------------------
    def _finish(self, candidates: list[Candidate], evidence: dict[str, Evidence], anchors: list[_Anchor], teeth: dict[str, Any] | None) -> int:
        from loopwarden.guard.summary import document, markdown

        doc = document(self.args, self.diff, candidates, evidence, anchors, teeth, self.notes, self.edits)
        text = json.dumps(doc, indent=2) + "\n" if self.args.format == "json" else markdown(doc)
        if self.args.output:
            _write_new(Path(self.args.output), text, replace=True)
        else:
            sys.stdout.write(text)
        if self.args.dry_run:
            return EXIT_UNGUARDED if any(c.disposition != NO_ACTION for c in candidates) else EXIT_GUARDED
        return EXIT_GUARDED if all(evidence[c.key].guarded(c) for c in candidates) else EXIT_UNGUARDED


def _write_new(path: Path, text: str, replace: bool = False) -> None:
    """Write atomically (a new file, unless ``replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not replace:
        raise GuardError(f"{path} exists")
    replace_atomically(path, text)
