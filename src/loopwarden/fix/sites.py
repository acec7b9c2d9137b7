"""Where each finding gets fixed: one ``FixSite`` per place to edit, planned from findings only.

No libcst here: planning reads ``Finding`` and ``EntryPoint`` values (chain, offload site) and
decides what kind of edit goes where; ``loopwarden.fix.codemod`` finds the node and edits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loopwarden.static.findings import EntryPoint, Finding

# Fix kinds.
OFFLOAD = "offload"  # a call from async code into a sync helper that blocks: run the helper in a thread
DIRECT = "direct"  # a blocking call written in the async function itself: run it in a thread
SLEEP = "sleep"  # time.sleep(s) in async code: await the loop's sleep
LAZY = "lazy"  # a lazy iterator consumed on the loop: consume it inside the hop
TWIN = "twin"  # a sync framework hook without its async twin: add the twin, offloading the hook
HINT = "hint"  # no edit loopwarden can make safely: show the finding's fix as a hint
CONTEXT = "context"  # CONTEXT_LOSS: an executor runs a callable that reads a ContextVar: run it in a copy of the context
LOCK = "lock"  # LOST_UPDATE: an offloaded read-modify-write: hold a module-level lock around the await
# The hazard an offload brings is fixed at that offload, never by another offload.
HAZARD_KINDS = {"CONTEXT_LOSS": CONTEXT, "LOST_UPDATE": LOCK}

# Safety levels, as ruff's fixes.
SAFE, UNSAFE, DISPLAY = "safe", "unsafe", "display-only"

# Entry points whose code does not run while serving: nothing to fix in production code.
NOT_FIXED_SCOPES = {"startup": "start-up code", "cli": "script or CLI code", "test": "test code"}

_SLEEPS = {"time.sleep"}


@dataclass(frozen=True)
class FixSite:
    """One edit: in ``function`` (qualified) of ``path``, the call to ``callee`` on ``line``."""

    kind: str
    path: str
    line: int
    function: str  # the async function that holds the call (the hook, for TWIN)
    callee: str  # the name the call is made by: "load_config", "load", "NoteStore", "sleep"
    symbol: str = field(compare=False)  # the blocking call the finding is about
    column: int | None = None  # 0-based, for a blocking call written in place (DIRECT, SLEEP, LAZY)
    twin: str | None = None  # TWIN: the async method to add
    hint: str = field(default="", compare=False)  # the finding's own fix text (shown when the site cannot be edited)


@dataclass(frozen=True)
class Skip:
    """A finding's entry point left alone on purpose, with the reason."""

    key: str
    path: str
    line: int
    reason: str


def callee_name(qualname: str) -> str:
    """The name a call to ``qualname`` is written with: ``pkg.mod.Store.load`` -> ``load``;
    a constructor ``pkg.mod.Store.__init__`` -> ``Store``."""
    parts = qualname.split(".")
    if parts[-1] in ("__init__", "__post_init__", "__new__") and len(parts) > 1:
        return parts[-2]
    return parts[-1]


def plan(findings: list[Finding], lazy: frozenset[str] = frozenset()) -> tuple[dict[FixSite, list[str]], list[Skip]]:
    """Every place to edit, each once, with the keys of the findings it fixes; and the entry
    points left alone. ``lazy`` names the catalogue's lazy-iterator symbols."""
    sites: dict[FixSite, list[str]] = {}
    skips: list[Skip] = []
    for finding in findings:
        if finding.category in HAZARD_KINDS:
            kind = HAZARD_KINDS[finding.category]
            hazard = FixSite(kind, finding.path, finding.line, finding.function, "", finding.symbol, column=finding.column, hint=finding.fix)
            keys = sites.setdefault(hazard, [])
            if finding.key not in keys:
                keys.append(finding.key)
            continue
        points = finding.entry_points
        for point in points:
            if point.scope in NOT_FIXED_SCOPES:
                skips.append(Skip(finding.key, point.path, point.line, f"entry point {point.label} runs only in {NOT_FIXED_SCOPES[point.scope]}"))
                continue
            site = _site(finding, point, lazy)
            keys = sites.setdefault(site, [])
            if finding.key not in keys:
                keys.append(finding.key)
    return sites, skips


def _site(finding: Finding, point: EntryPoint, lazy: frozenset[str]) -> FixSite:
    if point.exposure == "SYNC_HOOK":
        if point.twin:
            return FixSite(TWIN, point.offload_path, point.offload_line, point.offload_function, "", finding.symbol, twin=point.twin, hint=finding.fix)
        return FixSite(HINT, point.offload_path, point.offload_line, point.offload_function, "", finding.symbol, hint=finding.fix)
    chain = point.chain
    held = [i for i, step in enumerate(chain) if step.function == point.offload_function]
    at = held[-1] if held else len(chain) - 1
    if at == len(chain) - 1:  # the blocking call is written in the async function itself
        kind = SLEEP if finding.symbol in _SLEEPS else LAZY if finding.symbol in lazy else DIRECT
        if "`with " in finding.fix:  # a with-block: the whole block belongs in the hop (display-only)
            kind = HINT
        return FixSite(kind, finding.path, finding.line, point.offload_function, finding.operation, finding.symbol, column=finding.column, hint=finding.fix)
    callee = callee_name(chain[at + 1].function)
    return FixSite(OFFLOAD, point.offload_path, point.offload_line, point.offload_function, callee, finding.symbol, hint=finding.fix)
