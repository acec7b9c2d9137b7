"""What the gate records (hits, stalls, opt-outs) and how it shows them to people and tools.

Records are plain frozen dataclasses that survive a round trip through JSON, because
pytest-xdist ships them from the worker that ran the test to the controller that reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_SCHEMA = 1

_DEFAULT_FIX_HINT = "offload with `await asyncio.to_thread(...)`"


def fix_hint(category: str | None) -> str:
    """The category's fix text (the one the scanner prints: catalog/categories.py), else an
    offload."""
    from loopwarden.catalog.categories import CATEGORIES

    known = CATEGORIES.get(category or "")
    if known is not None and known.fix:
        return known.fix
    return _DEFAULT_FIX_HINT


@dataclass(frozen=True)
class Location:
    path: str  # relative to the pytest rootdir (posix), absolute when outside it
    line: int
    function: str  # qualified name inside the module

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


@dataclass(frozen=True)
class Hit:
    """One blocking call caught on an event loop thread."""

    test: str
    phase: str
    symbol: str  # as the catalogue names it: what the project called
    intercepted: str  # the function the gate actually intercepted (os.stat under Path.exists)
    category: str | None
    operation: str
    location: Location | None  # the first frame in the project's code
    entry_point: str | None  # outermost project coroutine: "<path>::<qualname>"
    task: str | None
    thread: str

    @property
    def key(self) -> str:
        """The static scanner's finding key, so runtime hits and static findings join."""
        if self.location is None:
            return f"<unknown>::<unknown>::{self.symbol}"
        return f"{self.location.path}::{self.location.function}::{self.symbol}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["key"] = self.key
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hit:
        fields = {k: v for k, v in data.items() if k != "key"}
        location = fields.pop("location")
        return cls(location=Location(**location) if location else None, **fields)

    def one_line(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"blocking call to {self.symbol} on the event loop{where} (loopwarden: {fix_hint(self.category)})"

    def message(self, more: int = 0) -> str:
        category = f" [{self.category}]" if self.category else ""
        called = self.symbol if self.symbol == self.intercepted else f"{self.symbol} (intercepted {self.intercepted})"
        task = f", task {self.task!r}" if self.task else ""
        lines = [
            f"loopwarden: blocking call on the event loop: {called}{category}",
            f"  at           {self.location or 'no frame in the project code'}",
            f"  entry point  {self.entry_point or 'unknown'}{task}",
            f"  test         {self.test} ({self.phase})",
            f"  fix          {fix_hint(self.category)}",
        ]
        if more:
            lines.append(
                f"  (+{more} more blocking call{'s' if more > 1 else ''} in this test: see the loopwarden summary)"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Stall:
    """One callback that held an event loop longer than the stall threshold."""

    test: str
    phase: str
    lag_ms: float
    threshold_ms: float
    location: Location | None  # first project frame of the captured stack
    stack: tuple[str, ...] = field(default=())  # loop thread's stack when caught, outermost first
    thread: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["stack"] = list(self.stack)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stall:
        fields = dict(data)
        location = fields.pop("location")
        fields["stack"] = tuple(fields.get("stack", ()))
        return cls(location=Location(**location) if location else None, **fields)

    def message(self) -> str:
        if self.location is not None:
            where = str(self.location)
        elif self.stack:
            where = "no frame in the project code (stack below)"
        else:
            where = "unknown: the loop stopped before the watchdog could look at it"
        lines = [
            f"loopwarden: the event loop was held for {self.lag_ms:.0f} ms "
            f"(loopwarden_stall_ms = {self.threshold_ms:.0f})",
            f"  at           {where}",
            f"  test         {self.test} ({self.phase})",
            f"  fix          {_DEFAULT_FIX_HINT} (CPU-bound work: a process pool)",
        ]
        if self.stack:
            lines.append("  loop thread stack when caught (innermost last):")
            lines.extend(f"    {entry}" for entry in self.stack[-8:])
        return "\n".join(lines)


@dataclass(frozen=True)
class OptOut:
    test: str
    reason: str | None  # None: a bare @pytest.mark.allow_blocking_io

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StaleAllowance:
    """An allowance that matched no blocking call in the run (like ruff's unused noqa)."""

    kind: str  # "allow" (a [tool.loopwarden.runtime] allow entry) or "marker" (allow_blocking_io)
    name: str  # the allow entry as written, or the test's node id
    origin: str  # where it is written

    def __str__(self) -> str:
        if self.kind == "allow":
            return f"{self.origin} allow: {self.name!r}"
        return f"{self.name}: @pytest.mark.allow_blocking_io"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class GateFailure:
    """A pytest ``longrepr``: a few readable lines instead of blockbuster's traceback.

    ``reprcrash`` makes pytest put the first line on the short ``FAILED ...`` summary line.
    """

    def __init__(self, text: str, path: str, line: int) -> None:
        from _pytest._code.code import ReprFileLocation

        self.text = text
        self.reprcrash = ReprFileLocation(path, line, text.splitlines()[0])

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=line.startswith("loopwarden"))

    def __str__(self) -> str:
        return self.text
