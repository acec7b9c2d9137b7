"""Findings: one frozen record per blocking call on the loop, with priority, chain and fix."""

from __future__ import annotations

from dataclasses import dataclass

from loopwarden.catalog.categories import CATEGORIES, CHEAP, FREE
from loopwarden.static.entries import CLI_SCOPE, SCOPE_RANK, STARTUP_SCOPE, TEST_SCOPE, UNREFERENCED, EntryPoints
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import (
    ASYNC_REACHABLE,
    CLI,
    DIRECT_ASYNC,
    STARTUP,
    SYNC_HOOK,
    TEST,
    CallGraph,
    Root,
    SinkHit,
    Source,
)
from loopwarden.static.summary import ENTER, ModuleSummary

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
class EntryPoint:
    """One place where the blocking call's chain starts on the loop, and where to fix it."""

    function: str  # the entry point (a route, an async API, a hook, a test, ...), qualified
    path: str
    line: int  # its def line
    kind: str  # route, websocket, handler, tool, node, task, setup, callback, hook, async-api, ...
    scope: str  # serving, api, unreferenced, startup, cli, test
    label: str  # "route GET /notes"
    exposure: str
    priority: str
    chain: tuple[ChainStep, ...]  # from the entry point to the blocking call
    offload_function: str  # the last function of the chain still in async code (or the hook)
    offload_path: str
    offload_line: int  # its call that leaves async code: where the offload goes
    inferred: bool = False
    cached: bool = False
    twin: str | None = None  # a sync hook's missing async twin


@dataclass(frozen=True)
class LibraryCall:
    """A finding inside an installed library (``scan --follow-libs``): it is reported at the
    project's call into the library; this names what that call enters."""

    distribution: str  # "vendor-sdk"
    version: str  # "1.2.0"
    function: str  # the library function the project calls, qualified
    path: str  # its file
    blocking: tuple[str, ...] = ()  # every blocking symbol reached inside through this call


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
    entry_points: tuple[EntryPoint, ...] = ()  # best first, at most MAX_ENTRY_POINTS
    entry_total: int = 0  # how many entry points reach it in all
    library: LibraryCall | None = None  # set when the blocking call is inside a library

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


def _suppressed_by(module: ModuleSummary, hit: SinkHit, def_lines: tuple[int, ...]) -> int | None:
    """The line of the suppression comment that covers this call, if any."""
    for line in sorted({hit.site.line, hit.site.end_line, *def_lines}):
        if line not in module.suppressions:
            continue
        categories = module.suppressions[line]
        if categories is None or hit.sink.category in categories:
            return line
    return None


def priority_of(scope: str, hit: SinkHit, inferred_chain: bool, cached: bool = False, in_loop: bool = False) -> str:
    """One entry point's priority: what serves traffic and blocks for real is HIGH. A cheap
    syscall repeated in a loop (in its function or around a call on its chain) costs like a
    heavy one."""
    if scope in (STARTUP_SCOPE, CLI_SCOPE, TEST_SCOPE) or hit.sink.cost == FREE:
        return LOW
    if scope == UNREFERENCED or hit.inferred or inferred_chain or cached or (hit.sink.cost == CHEAP and not in_loop):
        return MEDIUM
    return HIGH


def _in_loop(index: ProgramIndex, chain: list[ChainStep]) -> bool:
    """Is the blocking call, or a call on the chain leading to it, inside a loop?"""
    for step in chain:
        spans = index.functions[step.function].loop_spans
        if any(first <= step.line <= last for first, last in spans):
            return True
    return False


def _exposure(scope: str, root: Root, function: str) -> str:
    if scope == TEST_SCOPE:
        return TEST
    if scope == CLI_SCOPE:
        return CLI
    if scope == STARTUP_SCOPE or root.exposure == STARTUP:
        return STARTUP
    if root.exposure == SYNC_HOOK:
        return SYNC_HOOK
    return DIRECT_ASYNC if root.function == function else ASYNC_REACHABLE


MAX_ENTRY_POINTS = 50  # per finding; entry_total counts them all


@dataclass
class Suppressions:
    """Suppression comments that suppressed something, to report those that did not."""

    used: set[tuple[str, int]]
    hits: dict[tuple[str, int], set[str]]  # (path, line) -> categories of blocking calls there


def build_findings(index: ProgramIndex, graph: CallGraph, entries: EntryPoints | None = None) -> tuple[list[Finding], int]:
    """All findings, sorted by (path, line, column), and the number suppressed."""
    findings, suppressed, _ = build_findings_and_notes(index, graph, entries)
    return findings, suppressed


def build_findings_and_notes(
    index: ProgramIndex, graph: CallGraph, entries: EntryPoints | None = None
) -> tuple[list[Finding], int, list[SuppressionNote]]:
    entries = entries or EntryPoints(index, graph)
    roots = root_map(graph, entries)
    findings: list[Finding] = []
    suppressed = 0
    marks = Suppressions(set(), {})
    for qualname in sorted(graph.sinks):
        hits = graph.sinks[qualname]
        if not hits:
            continue
        module = index.function_module[qualname]
        for hit in hits:
            marks.hits.setdefault((module.path, hit.site.line), set()).add(hit.sink.category)
        sources = graph.sources(qualname, roots)
        if not sources:
            continue
        fn = index.functions[qualname]
        for hit in hits:
            used = _suppressed_by(module, hit, fn.def_lines)
            if used is not None:
                marks.used.add((module.path, used))
                suppressed += 1
                continue
            findings.append(_finding(index, entries, qualname, module, sources, hit))
    findings.sort(key=lambda f: f.sort_key)
    return findings, suppressed, suppression_notes(index, marks)


def root_map(graph: CallGraph, entries: EntryPoints) -> dict[str, Root]:
    """Every function where code starts on the loop (or at start-up): async defs, sync hooks,
    sync functions a framework registers, module bodies, lifespan handlers."""
    loop, startup = graph.roots()
    roots: dict[str, Root] = {}
    for root in [*startup, *entries.sync_roots.values(), *loop]:
        roots[root.function] = root
    return roots


@dataclass(frozen=True)
class SuppressionNote:
    path: str
    line: int
    message: str


def suppression_notes(index: ProgramIndex, marks: Suppressions) -> list[SuppressionNote]:
    """Suppression comments that suppress nothing (like ruff's RUF100), or name a category
    that the blocking call on their line does not have."""
    notes: list[SuppressionNote] = []
    def_lines: dict[tuple[str, int], bool] = {}
    for qualname, fn in index.functions.items():
        path = index.function_module[qualname].path
        for line in fn.def_lines:
            def_lines[(path, line)] = True
    for module in index.modules.values():
        for line, categories in sorted(module.suppressions.items()):
            if (module.path, line) in marks.used:
                continue
            written = "ignore" if categories is None else f"ignore[{','.join(sorted(categories))}]"
            here = marks.hits.get((module.path, line), set())
            if here and categories is not None and not (here & categories):
                notes.append(SuppressionNote(module.path, line, f"mismatched suppression: {written}, but the blocking call here is {', '.join(sorted(here))}"))
            elif (module.path, line) in def_lines:
                notes.append(SuppressionNote(module.path, line, f"unused suppression: {written} on this function suppresses no finding"))
            else:
                notes.append(SuppressionNote(module.path, line, f"unused suppression: {written} suppresses no finding"))
    notes.sort(key=lambda n: (n.path, n.line))
    return notes


MAX_CHAIN = 64  # longer chains (generated code) keep their first and last 32 steps


def _shortened(chain: list[ChainStep]) -> tuple[ChainStep, ...]:
    if len(chain) <= MAX_CHAIN:
        return tuple(chain)
    half = MAX_CHAIN // 2
    resumed = chain[-half]
    marker = ChainStep(resumed.function, resumed.path, resumed.line, resumed.inferred, elided=len(chain) - MAX_CHAIN)
    return (*chain[:half], marker, *chain[-half + 1 :])


def _finding(index: ProgramIndex, entries: EntryPoints, qualname: str, module: ModuleSummary, sources: list[Source], hit: SinkHit) -> Finding:
    points = sorted((_entry_point(index, entries, qualname, source, hit) for source in sources), key=_entry_rank)
    best = points[0]
    fn = index.functions[qualname]
    return Finding(
        path=module.path,
        line=hit.site.line,
        column=hit.site.col,
        function=fn.local_name,
        symbol=hit.sink.symbol,
        category=hit.sink.category,
        operation=hit.sink.operation,
        exposure=best.exposure,
        priority=best.priority,
        chain=best.chain,
        reason=_reason(index, best, hit, len(points)),
        fix=_fix(index, best, hit),
        inferred=hit.inferred or best.inferred,
        entry_points=tuple(points[:MAX_ENTRY_POINTS]),
        entry_total=len(points),
    )


def _entry_rank(point: EntryPoint) -> tuple[int, int, int, str, str]:
    return (PRIORITY_RANK[point.priority], SCOPE_RANK[point.scope], len(point.chain), point.function, point.offload_function)


def _entry_point(index: ProgramIndex, entries: EntryPoints, qualname: str, source: Source, hit: SinkHit) -> EntryPoint:
    root = source.root
    context = entries.context(root.function)
    lead = entries.path(root.function)[:-1]  # entry point ... the caller of the root
    steps = [*lead, *source.steps]
    chain = []
    for i, (function, line) in enumerate(steps):
        last = i == len(steps) - 1
        chain.append(
            ChainStep(
                function=function,
                path=index.function_module[function].path,
                line=hit.site.line if last else line,
                inferred=function in source.inferred_steps,
            )
        )
    offload = chain[len(lead)]
    if root.exposure == STARTUP and root.hook is None:  # import-time code: nothing to offload to
        offload = ChainStep(offload.function, offload.path, 0)
    scope = context.scope
    exposure = _exposure(scope, root, qualname)
    cached = any(index.functions[step.function].is_cached for step in chain[len(lead) :])
    top = chain[0]
    return EntryPoint(
        function=context.top,
        path=top.path,
        line=index.functions[context.top].line,
        kind=context.kind,
        scope=scope,
        label=context.label,
        exposure=exposure,
        priority=priority_of(scope, hit, source.inferred, cached, in_loop=_in_loop(index, chain)),
        chain=_shortened(chain),
        offload_function=offload.function,
        offload_path=offload.path,
        offload_line=offload.line,
        inferred=source.inferred,
        cached=cached,
        twin=root.twin,
    )


def _callable_name(index: ProgramIndex, qualname: str) -> str:
    """What the user would hand to to_thread: ``NoteStore`` for its constructor, else the local name."""
    local = index.functions[qualname].local_name
    owner, _, method = local.rpartition(".")
    if method in ("__init__", "__post_init__") and owner:
        return owner
    return local


def _name(index: ProgramIndex, qualname: str) -> str:
    return short_function(qualname, index.function_module[qualname])


def _reason(index: ProgramIndex, best: EntryPoint, hit: SinkHit, total: int) -> str:
    what = f"{short_symbol(hit.sink.symbol)} ({hit.sink.category})"
    if hit.inferred:
        what += f", matched by the method name .{hit.sink.operation}() on a value of unknown type"
    entry = f" (entry point: {best.label})" if best.function != best.offload_function or best.kind not in ("async-api",) else ""
    others = f"; {total - 1} more entry point(s) reach it" if total > 1 else ""
    root = best.offload_function
    holder = best.chain[-1].function
    if best.exposure == DIRECT_ASYNC:
        return f"{what} is called directly in async {_name(index, holder)}{entry}{others}"
    if best.exposure == ASYNC_REACHABLE:
        note = f"; {_name(index, best_cached(index, best))} is memoised, so only its first call per key blocks" if best.cached else ""
        away = len(best.chain) - 1 - _index_of(best, root)
        return (
            f"{what} runs on the event loop: async {_name(index, root)} calls "
            f"{_name(index, holder)} without offloading ({away} call(s) away){entry}{note}{others}"
        )
    if best.exposure == SYNC_HOOK:
        return f"{what} runs on the event loop in sync hook {best.label}, which an async runner calls directly{others}"
    if best.exposure == TEST:
        return f"{what} is reached only from tests ({best.label}): not a production finding"
    if best.exposure == CLI:
        return f"{what} runs only in script or CLI code ({best.label}), not while serving"
    if best.kind == "lifespan":
        return f"{what} runs in start-up or shutdown code ({_name(index, best.function)}), before requests are served"
    return f"{what} runs at import time (module-level code)"


def best_cached(index: ProgramIndex, point: EntryPoint) -> str:
    return next(s.function for s in point.chain if index.functions[s.function].is_cached)


def _index_of(point: EntryPoint, function: str) -> int:
    for i, step in enumerate(point.chain):
        if step.function == function:
            return i
    return 0


def _fix(index: ProgramIndex, best: EntryPoint, hit: SinkHit) -> str:
    exposure = best.exposure
    if exposure == TEST:
        return "none needed in production code; offload it in the test if the test's loop must stay responsive"
    if exposure == CLI:
        return "runs in a script or CLI run, not while serving; offload it only if that loop must stay responsive"
    if exposure == STARTUP:
        if best.kind == "lifespan":
            return "runs once at start-up or shutdown; acceptable there, or offload it to keep the loop responsive"
        return "runs once at import; acceptable at start-up, or move it into an explicit initialisation step"
    if exposure == SYNC_HOOK:
        if best.twin:
            return f"define the async twin {best.twin}() and offload the blocking work there with await asyncio.to_thread(...)"
        return "offload the blocking work inside the hook, or register an async handler instead"
    if exposure == ASYNC_REACHABLE:
        helper = best.chain[_index_of(best, best.offload_function) + 1]
        return f"offload the call at {best.offload_path}:{best.offload_line}: await asyncio.to_thread({_callable_name(index, helper.function)}, ...)"
    block = _with_block(index, best.chain[-1].function, hit)
    if block is not None:
        return block
    category = CATEGORIES.get(hit.sink.category)
    return category.fix if category is not None and category.fix else f"offload with await asyncio.to_thread({short_symbol(hit.sink.symbol)}, ...)"


def _with_block(index: ProgramIndex, function: str, hit: SinkHit) -> str | None:
    """``with open(p) as f: ...`` in async code: the whole block belongs off the loop, in one hop
    (a nested def run by to_thread), not just the call that opens it."""
    site = hit.site
    entered = any(
        c.kind == ENTER and c.line == site.line and c.col == site.col for c in index.functions[function].calls
    )
    if not entered:
        return None
    cleanup = ""
    if hit.sink.symbol.startswith("tempfile.") and "Directory" in hit.sink.symbol:
        cleanup = " (its exit deletes the directory tree: keep the cleanup inside the nested def too)"
    return (
        f"move the whole `with {short_symbol(hit.sink.symbol)}(...)` block off the loop in one hop: "
        f"def _work(): with ...: ...; then await asyncio.to_thread(_work){cleanup}"
    )
