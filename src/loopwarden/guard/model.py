"""The values ``loopwarden guard`` works with: a candidate of the change, its disposition and
the evidence gathered for it."""

from __future__ import annotations

from dataclasses import dataclass, field

GUARD = "GUARD"  # already offloaded in the change: needs a gated test whose teeth bite
FIX_ANCHOR = "FIX+ANCHOR"  # a blocking call on the loop: fix it, anchor it, prove the anchor
FIX = "FIX"  # a hazard an offload brings (LOST_UPDATE, CONTEXT_LOSS): fix it (no gate anchor)
NO_ACTION = "NO-ACTION"  # not exposed while serving: the reason says why
DISPOSITIONS = (FIX_ANCHOR, FIX, GUARD, NO_ACTION)


@dataclass(frozen=True)
class Candidate:
    """One thing the change introduces: a finding (by key) or an offload site."""

    key: str
    disposition: str
    reason: str
    path: str
    line: int
    symbol: str  # the blocking call (or the hazard's resource; the wrapper for a GUARD site)
    entry: str  # the entry point's label, or the async function holding the offload
    site: str  # where the offload is, or goes: PATH:LINE


@dataclass
class Evidence:
    """What guard did for a candidate and what it found (filled in step by step)."""

    fix: str | None = None  # the edit (or the hint) at the candidate's site
    fix_safety: str | None = None  # safe, unsafe, display-only
    fix_applied: bool = False
    rescan: str | None = None  # "gone", "still reported", or why it was not checked
    anchor: str | None = None  # the anchor test file
    anchor_state: str | None = None  # "written", "exists", "would write"
    red: bool | None = None  # the anchor failed under the gate before the fix, on this blocking call
    green: bool | None = None  # the anchor passed under the gate after the fix
    teeth: str | None = None  # the teeth outcome of the offload site (KILLED, SURVIVED, ...)
    teeth_detail: str | None = None
    notes: list[str] = field(default_factory=list)

    def guarded(self, candidate: Candidate) -> bool:
        """Fixed where a fix is due, with proof that a gated test notices a revert."""
        if candidate.disposition == NO_ACTION:
            return True
        if candidate.disposition == FIX:
            return self.rescan == "gone"
        if candidate.disposition == GUARD:
            return self.teeth == "KILLED"
        if self.rescan != "gone" or not self.green:
            return False
        # an offload: teeth must kill its revert; an edit that is no offload (asyncio.sleep): red -> green
        return self.teeth == "KILLED" or (self.teeth is None and bool(self.red))
