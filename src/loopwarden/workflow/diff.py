"""Changed-code mode (``scan --diff BASE``): the findings a change introduces.

A finding is reported when
1. its blocking line, or the call line of a step of its chain, is added or changed between
   the merge base of BASE and HEAD and HEAD (or the working tree, with uncommitted changes); or
2. it is new compared with the merge base although none of its lines changed: a new async
   caller, or a removed offload, exposes an old helper, possibly in another module. Findings
   are compared by key (repository-relative path after git's rename detection, function,
   symbol) and count per key, never by line; when the findings carry their entry points, an
   old finding that a new entry point now reaches is reported too.

The merge base is scanned from git objects written into a temporary directory: the user's
working tree, index and stash are never touched.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopwarden.workflow import git
from loopwarden.workflow.git import Changes, GitError

if TYPE_CHECKING:
    from loopwarden.static.findings import Finding
    from loopwarden.static.scan import ScanResult

CHANGED = "changed"  # its line or a chain call line is part of the change
NEW = "new"  # its key does not occur at the merge base (or occurs fewer times)
NEWLY_REACHED = "newly-reached"  # same key, reached from an entry point it was not reached from before


@dataclass(frozen=True)
class Reported:
    finding: Finding
    why: str


@dataclass(frozen=True)
class Comparison:
    reported: tuple[Reported, ...]
    fixed: tuple[tuple[str, int], ...]  # (repository-relative key, how many copies went away)
    unchanged: int  # head findings not reported


@dataclass(frozen=True)
class DiffOutcome:
    base: str  # as the user gave it
    base_commit: str
    merge_base: str
    head: str  # "HEAD" or "working tree"
    comparison: Comparison
    notes: tuple[str, ...] = ()


def _key(path: str, finding: Finding) -> str:
    return f"{path}::{finding.function}::{finding.symbol}"


def _entries(finding: Finding, rel: Callable[[str], str] = lambda p: p) -> frozenset[str] | None:
    """The functions the finding is reached from, when the finding model lists them, as
    ``path::name`` with the path mapped by ``rel`` (so a renamed file is the same entry)."""
    entry_points = getattr(finding, "entry_points", None)
    if not entry_points:
        return None
    names: set[str] = set()
    for entry in entry_points:
        name = getattr(entry, "function", None)
        if name is None:
            chain = getattr(entry, "chain", None)
            name = chain[0].function if chain else str(entry)
        path = getattr(entry, "path", None)
        names.add(f"{rel(path)}::{name.rpartition('.')[2]}" if path else name)
    return frozenset(names)


def compare(
    head: Sequence[Finding],
    base: Sequence[Finding],
    changes: Changes,
    head_rel: Callable[[str], str],
    base_rel: Callable[[str], str],
) -> Comparison:
    """``head_rel``/``base_rel`` map a finding's path to its repository-relative path."""
    renames = {c.old: c.new for c in changes.files.values() if c.old is not None and c.new is not None and c.old != c.new}
    base_counts: Counter[str] = Counter()
    base_entries: dict[str, set[str]] = defaultdict(set)
    entries_known = True
    for finding in base:
        old = base_rel(finding.path)
        key = _key(renames.get(old, old), finding)
        base_counts[key] += 1
        entries = _entries(finding, lambda p: renames.get(base_rel(p), base_rel(p)))
        if entries is None:
            entries_known = False
        else:
            base_entries[key] |= entries
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in head:
        groups[_key(head_rel(finding.path), finding)].append(finding)

    def touched(finding: Finding) -> bool:
        if changes.changed(head_rel(finding.path), finding.line):
            return True
        chains = [finding.chain, *(getattr(e, "chain", ()) for e in getattr(finding, "entry_points", None) or ())]
        return any(changes.changed(head_rel(step.path), step.line) for chain in chains for step in chain if not step.elided)

    reported: list[Reported] = []
    for key in sorted(groups):
        group = groups[key]
        hit = [f for f in group if touched(f)]
        rest = [f for f in group if not touched(f)]
        reported += [Reported(f, CHANGED) for f in hit]
        excess = len(group) - base_counts.get(key, 0) - len(hit)
        if excess > 0:
            reported += [Reported(f, NEW) for f in rest[-excess:]]  # the later copies are the new ones
            rest = rest[:-excess]
        if rest and entries_known and key in base_counts:
            before = base_entries.get(key, set())
            for finding in rest:
                entries = _entries(finding, head_rel)
                if entries is not None and entries - before:
                    reported.append(Reported(finding, NEWLY_REACHED))
    fixed = tuple(
        (key, count - len(groups.get(key, ()))) for key, count in sorted(base_counts.items()) if count > len(groups.get(key, ()))
    )
    reported.sort(key=lambda r: r.finding.sort_key)
    return Comparison(tuple(reported), fixed, len(head) - len(reported))


# -- running it against a repository --------------------------------------------------------

Rescan = Callable[[list[str], str, "str | None"], "ScanResult"]  # (paths, cwd, config dir) -> ScanResult


def _relative(path: str, cwd: str, root: str) -> str:
    """A finding's path (relative to ``cwd`` or absolute) relative to ``root``, posix."""
    full = os.path.normpath(os.path.join(cwd, path))
    rel = os.path.relpath(full, root)
    return full if rel.startswith("..") else rel.replace(os.sep, "/")


def _inside(path: str, root: str) -> bool:
    rel = os.path.relpath(path, root)
    return not rel.startswith("..")


def _map_into(path: str, top: str, root: str) -> str:
    return os.path.join(root, os.path.relpath(path, top))


def run_diff(
    result: ScanResult,
    rescan: Rescan,
    base: str,
    *,
    paths: list[str],
    include_uncommitted: bool,
    cwd: str | None = None,
    config_dir: str | None = None,
) -> tuple[list[Finding], DiffOutcome]:
    """Compare the scan ``result`` of the working tree with a scan of the merge base.
    Returns (the findings to report, DiffOutcome)."""
    cwd = os.path.realpath(cwd or os.getcwd())
    top = os.path.realpath(git.repo_top(cwd))
    head_commit = git.resolve("HEAD", top)
    base_commit = git.resolve(base, top)
    merge_base = git.merge_base(base_commit, head_commit, top, base)
    prefixes = []
    for raw in paths:
        full = os.path.realpath(os.path.join(cwd, raw))
        if not _inside(full, top):
            raise GitError(f"{raw}: outside the git repository at {top} (--diff compares that repository's revisions)")
        rel = os.path.relpath(full, top)
        prefixes.append("" if rel == "." else rel.replace(os.sep, "/"))
    dirty = [
        p for p in git.dirty(top) if git.is_wanted(p) and any(not x or p == x or p.startswith(x + "/") for x in prefixes)
    ]
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loopwarden-diff-") as tmp:

        def scan_commit(commit: str, name: str) -> tuple[ScanResult, str, str]:
            root = os.path.join(tmp, name)
            os.makedirs(os.path.join(root, ".git"))  # so .gitignore files apply from the top, as in the repository
            git.extract(top, commit, root, prefixes)
            mapped = [_map_into(os.path.realpath(os.path.join(cwd, p)), top, root) for p in paths]
            mapped_cwd = _map_into(cwd, top, root)
            os.makedirs(mapped_cwd, exist_ok=True)
            anchor = _map_into(config_dir, top, root) if config_dir and _inside(config_dir, top) else config_dir
            return rescan(mapped, mapped_cwd, anchor), mapped_cwd, root

        base_result, base_cwd, base_root = scan_commit(merge_base, "base")
        if include_uncommitted:
            head_name = "working tree"
            changes = git.diff(top, merge_base, None)
            files = dict(changes.files)
            for path in git.untracked(top):
                if git.is_wanted(path):
                    files[path] = git.FileChange(None, path, whole=True)
            changes = Changes(files)
            head_findings = list(result.findings)
            head_rel = _make_rel(cwd, top)
        else:
            head_name = "HEAD"
            changes = git.diff(top, merge_base, head_commit)
            if dirty:
                notes.append(
                    f"{len(dirty)} file(s) with uncommitted changes compared as committed at HEAD "
                    "(add --include-uncommitted to include them)"
                )
                head_result, head_cwd, head_root = scan_commit(head_commit, "head")
                head_findings = [_moved(f, head_cwd, head_root, cwd, top) for f in head_result.findings]
            else:
                head_findings = list(result.findings)
            head_rel = _make_rel(cwd, top)
        comparison = compare(head_findings, base_result.findings, changes, head_rel, _make_rel(base_cwd, base_root))
    outcome = DiffOutcome(base, base_commit, merge_base, head_name, comparison, tuple(notes))
    return [r.finding for r in comparison.reported], outcome


def _make_rel(cwd: str, root: str) -> Callable[[str], str]:
    return lambda path: _relative(path, cwd, root)


def _moved(finding: Finding, scan_cwd: str, scan_root: str, cwd: str, top: str) -> Finding:
    """A finding from a scan of an extracted tree, with paths as a scan of ``cwd`` shows them."""

    def fix(path: str) -> str:
        if not os.path.isabs(path):
            return path  # relative to the mapped cwd, so the same relative to the real one
        rel = os.path.relpath(path, scan_root)
        if rel.startswith(".."):
            return path
        real = os.path.join(top, rel)
        out = os.path.relpath(real, cwd)
        return real if out.startswith("..") else out.replace(os.sep, "/")

    chain = tuple(dataclasses.replace(step, path=fix(step.path)) for step in finding.chain)
    return dataclasses.replace(finding, path=fix(finding.path), chain=chain)


def outcome_dict(outcome: DiffOutcome) -> dict[str, Any]:
    comparison = outcome.comparison
    return {
        "base": outcome.base,
        "base_commit": outcome.base_commit,
        "merge_base": outcome.merge_base,
        "head": outcome.head,
        "new": len(comparison.reported),
        "fixed": sum(count for _, count in comparison.fixed),
        "unchanged": comparison.unchanged,
        "reported": [{"key": r.finding.key, "line": r.finding.line, "why": r.why} for r in comparison.reported],
        "fixed_keys": [{"key": key, "count": count} for key, count in comparison.fixed],
    }


def outcome_lines(outcome: DiffOutcome) -> list[str]:
    comparison = outcome.comparison
    fixed = sum(count for _, count in comparison.fixed)
    lines = [
        f"changed-code mode: {len(comparison.reported)} new finding(s) against {outcome.base} "
        f"(merge base {outcome.merge_base[:12]}, compared with {outcome.head}); "
        f"{fixed} fixed by this change; {comparison.unchanged} existing finding(s) not reported"
    ]
    lines += [f"note: {note}" for note in outcome.notes]
    return lines
