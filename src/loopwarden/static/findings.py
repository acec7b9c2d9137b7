"""Findings: one frozen record per blocking call on the loop, with priority, chain and fix."""

from __future__ import annotations

from dataclasses import dataclass

from loopwarden.catalog.categories import CHEAP, FREE
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import (
    ASYNC_REACHABLE,
    DIRECT_ASYNC,
    STARTUP,
    SYNC_HOOK,
    CallGraph,
    Reached,
    SinkHit,
)
from loopwarden.static.summary import ModuleSummary

HIGH, MEDIUM, LOW = "HIGH", "MEDIUM", "LOW"
PRIORITIES = (HIGH, MEDIUM, LOW)
PRIORITY_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}


@dataclass(frozen=True)
class ChainStep:
    function: str  # module-qualified, e.g. "pkg.web.read_note"
    path: str
    line: int  # the call that leads to the next step (the blocking call, for the last step)
    inferred: bool = False  # reached through a call on an abstract base
    elided: int = 0  # steps left out just before this one (very long chains are shortened)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    function: str  # qualified name inside the module: "Store.get"
    symbol: str  # catalogue symbol: "builtins.open"
    category: str
    operation: str
    exposure: str
    priority: str
    chain: tuple[ChainStep, ...]
    reason: str
    fix: str
    inferred: bool = False

    @property
    def key(self) -> str:
        """The stable identity used by baselines, diff mode and runtime correlation."""
        return f"{self.path}::{self.function}::{self.symbol}"

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.symbol)


def short_symbol(symbol: str) -> str:
    """``pathlib.Path.exists`` -> ``Path.exists``; ``builtins.open`` -> ``open``."""
    if symbol.startswith("builtins."):
        return symbol[len("builtins.") :]
    parts = symbol.split(".")
    for i, part in enumerate(parts[:-1]):
        if part[:1].isupper():
            return ".".join(parts[i:])
    return symbol


def short_function(qualname: str, module: ModuleSummary) -> str:
    """``pkg.web.Store.get`` -> ``web.Store.get`` (last module component + local name)."""
    local = qualname[len(module.module) + 1 :] if qualname.startswith(module.module + ".") else qualname
    return f"{module.module.rpartition('.')[2]}.{local}"


def _is_suppressed(module: ModuleSummary, hit: SinkHit, def_lines: tuple[int, ...]) -> bool:
    lines = {hit.site.line, hit.site.end_line, *def_lines}
    for line in lines:
        if line not in module.suppressions:
            continue
        categories = module.suppressions[line]
        if categories is None or hit.sink.category in categories:
            return True
    return False


def priority_of(exposure: str, hit: SinkHit, is_test: bool, inferred_chain: bool, cached: bool = False) -> str:
    if exposure == STARTUP or is_test or hit.sink.cost == FREE:
        return LOW
    if hit.inferred or inferred_chain or cached or hit.sink.cost == CHEAP:
        return MEDIUM
    return HIGH


def _exposure(function_is_root: bool, reached: Reached) -> str:
    root = reached.root
    if root.exposure == STARTUP:
        return STARTUP
    if root.exposure == SYNC_HOOK:
        return SYNC_HOOK
    return DIRECT_ASYNC if function_is_root else ASYNC_REACHABLE


def build_findings(index: ProgramIndex, graph: CallGraph) -> tuple[list[Finding], int]:
    """All findings, sorted by (path, line, column), and the number suppressed."""
    reached = graph.reach()
    findings: list[Finding] = []
    suppressed = 0
    for qualname, hits in graph.sinks.items():
        if not hits or qualname not in reached:
            continue
        info = reached[qualname]
        fn = index.functions[qualname]
        module = index.function_module[qualname]
        exposure = _exposure(info.root.function == qualname, info)
        steps = graph.chain(qualname, reached)
        for hit in hits:
            if _is_suppressed(module, hit, fn.def_lines):
                suppressed += 1
                continue
            findings.append(_finding(index, graph, reached, qualname, module, exposure, steps, hit))
    findings.sort(key=lambda f: f.sort_key)
    return findings, suppressed


MAX_CHAIN = 64  # longer chains (generated code) keep their first and last 32 steps


def _shortened(chain: list[ChainStep]) -> tuple[ChainStep, ...]:
    if len(chain) <= MAX_CHAIN:
        return tuple(chain)
    half = MAX_CHAIN // 2
    resumed = chain[-half]
    marker = ChainStep(resumed.function, resumed.path, resumed.line, resumed.inferred, elided=len(chain) - MAX_CHAIN)
    return (*chain[:half], marker, *chain[-half + 1 :])


def _finding(index, graph, reached, qualname, module, exposure, steps, hit) -> Finding:
    chain = []
    for i, (function, line) in enumerate(steps):
        step_module = index.function_module[function]
        last = i == len(steps) - 1
        chain.append(
            ChainStep(
                function=function,
                path=step_module.path,
                line=hit.site.line if last else line,
                inferred=_edge_inferred(reached, function),
            )
        )
    info = reached[qualname]
    fn = index.functions[qualname]
    return Finding(
        path=module.path,
        line=hit.site.line,
        column=hit.site.col,
        function=fn.local_name,
        symbol=hit.sink.symbol,
        category=hit.sink.category,
        operation=hit.sink.operation,
        exposure=exposure,
        priority=priority_of(exposure, hit, module.is_test, info.inferred, _cached(index, chain)),
        chain=_shortened(chain),
        reason=_reason(index, exposure, chain, hit, info),
        fix=_fix(index, exposure, chain, hit, info),
        inferred=hit.inferred or info.inferred,
    )


def _cached(index: ProgramIndex, chain: list[ChainStep]) -> bool:
    """A memoised function on the chain blocks on the first call (per key) only."""
    return any(index.functions[step.function].is_cached for step in chain)


def _edge_inferred(reached: dict[str, Reached], function: str) -> bool:
    info = reached[function]
    return info.parent is not None and info.inferred and not reached[info.parent].inferred


def _callable_name(index: ProgramIndex, qualname: str) -> str:
    """What the user would hand to to_thread: ``NoteStore`` for its constructor, else the local name."""
    local = index.functions[qualname].local_name
    owner, _, method = local.rpartition(".")
    if method in ("__init__", "__post_init__") and owner:
        return owner
    return local


def _name(index: ProgramIndex, qualname: str) -> str:
    return short_function(qualname, index.function_module[qualname])


def _reason(index, exposure, chain, hit, info) -> str:
    what = f"{short_symbol(hit.sink.symbol)} ({hit.sink.category})"
    if hit.inferred:
        what += f", matched by the method name .{hit.sink.operation}() on a value of unknown type"
    if exposure == DIRECT_ASYNC:
        return f"{what} is called directly in async {_name(index, chain[-1].function)}"
    if exposure == ASYNC_REACHABLE:
        cached = [_name(index, s.function) for s in chain if index.functions[s.function].is_cached]
        note = f"; {cached[0]} is memoised, so only its first call per key blocks" if cached else ""
        return (
            f"{what} runs on the event loop: async {_name(index, chain[0].function)} calls "
            f"{_name(index, chain[-1].function)} without offloading ({len(chain) - 1} call(s) away){note}"
        )
    if exposure == SYNC_HOOK:
        return f"{what} runs on the event loop in sync hook {info.root.hook}, which an async runner calls directly"
    if info.root.hook == "lifespan":
        return f"{what} runs in start-up or shutdown code ({_name(index, chain[0].function)}), before requests are served"
    return f"{what} runs at import time (module-level code)"


_CATEGORY_FIX = {
    "SLEEP": "use await asyncio.sleep(...)",
    "SUBPROCESS": "use asyncio.create_subprocess_exec(...) or offload with await asyncio.to_thread(...)",
    "NETWORK": "use an async client (httpx.AsyncClient, aiohttp) or offload with await asyncio.to_thread(...)",
    "DNS": "use await loop.getaddrinfo(...)",
    "LOCK_WAIT": "use asyncio primitives (asyncio.Lock, asyncio.Queue) or offload the wait",
    "SDK": "use the SDK's async client (AsyncOpenAI, ainvoke, aioboto3, ...) or offload with await asyncio.to_thread(...)",
    "DB": "use an async driver (aiosqlite, asyncpg, redis.asyncio) or offload with await asyncio.to_thread(...)",
}


def _fix(index, exposure, chain, hit, info) -> str:
    if exposure == STARTUP:
        if info.root.hook == "lifespan":
            return "runs once at start-up or shutdown; acceptable there, or offload it to keep the loop responsive"
        return "runs once at import; acceptable at start-up, or move it into an explicit initialisation step"
    if exposure == SYNC_HOOK:
        twin = info.root.twin
        if twin:
            return f"define the async twin {twin}() and offload the blocking work there with await asyncio.to_thread(...)"
        return "offload the blocking work inside the hook, or register an async handler instead"
    if exposure == ASYNC_REACHABLE:
        entry, helper = chain[0], chain[1]
        return f"offload the call at {entry.path}:{entry.line}: await asyncio.to_thread({_callable_name(index, helper.function)}, ...)"
    return _CATEGORY_FIX.get(hit.sink.category, f"offload with await asyncio.to_thread({short_symbol(hit.sink.symbol)}, ...)")
