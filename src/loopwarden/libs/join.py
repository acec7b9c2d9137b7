"""Library functions in the call graph: never entry points, reported at the project's call.

Library summaries join the project's in one index, so types flow across (a client a library
function returns, a project class deriving from a library one). Then:

- no library function is a root: its ``async def``s, hooks and module bodies start nothing
  (a blocking call that only library code reaches is not reported);
- a call that makes a coroutine of a library ``async def`` (``await client.fetch()``, also
  ``create_task(client.poll())``) counts as a call edge: the coroutine runs on the loop of
  the code that made it. So a library ``async def`` that blocks is reported when project code
  awaits it, also through other library ``async def``s; one that nothing in the project
  reaches, or that only offloaded code reaches, stays silent (offloaded calls make no edge);
- a blocking call inside a library that project code reaches is reported *at the project's
  call into the library* (its path, line and function), with the chain going on into the
  library (``Finding.library`` names the distribution and the library function entered);
- nothing else about library code is reported (hazards, suppression notes, unresolved calls,
  files that could not be analysed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from loopwarden.static.entries import SCOPE_RANK, EntryPoints
from loopwarden.static.findings import (
    PRIORITY_RANK,
    EntryPoint,
    Finding,
    LibraryCall,
    SuppressionNote,
    short_function,
    short_symbol,
)
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import ASYNC_REACHABLE, CallGraph, Edge, Root, SinkHit
from loopwarden.static.refs import AttrRef, SelfRef
from loopwarden.static.summary import CALL, FunctionSummary
from loopwarden.static.values import FuncValue


class LibraryGraph(CallGraph):
    """The call graph, with library functions never taken as roots."""

    def __init__(self, index: ProgramIndex, library_functions: frozenset[str]) -> None:
        self.library_functions = library_functions
        super().__init__(index)

    def roots(self) -> tuple[list[Root], list[Root]]:
        loop, startup = super().roots()
        own = self.library_functions
        return [r for r in loop if r.function not in own], [r for r in startup if r.function not in own]

    def hook_roots(self) -> list[Root]:
        return [r for r in super().hook_roots() if r.function not in self.library_functions]

    def _analyze(self, fn: FunctionSummary) -> tuple[list[Edge], list[SinkHit]]:
        edges, sinks = super()._analyze(fn)
        if fn.class_qualname is not None and fn.qualname in self.library_functions:
            edges += self._self_overrides(fn)
        return edges, sinks

    def _self_overrides(self, fn: FunctionSummary) -> list[Edge]:
        """``self.get_source()`` in a library base class whose own ``get_source`` has a body
        (jinja2's ``BaseLoader.load``): ``self`` may be any subclass, so the overrides in the
        caller's subclasses may run instead. Inferred edges, and only from library code: the
        project's own calls keep their dispatch (a method with a body runs as found)."""
        caller = fn.class_qualname
        found: list[Edge] = []
        for site in fn.calls:
            ref = site.ref
            if site.kind != CALL or site.offloaded or not isinstance(ref, AttrRef) or not isinstance(ref.base, SelfRef):
                continue
            value = self.index.resolve(ref)
            if not isinstance(value, FuncValue) or self.index.is_abstract_method(value.qualname):
                continue  # abstract methods already reach their overrides
            for override in self._sync_overrides(value.qualname):
                owner = self.index.functions[override].class_qualname
                if owner is not None and (owner == caller or caller in self.ancestors(owner)):
                    found.append(Edge(override, site.line, inferred=True))
        return found

    def callers(self) -> dict[str, list[tuple[str, int, bool]]]:
        """The sync call edges reversed, plus the calls making a coroutine of a library
        ``async def``: a project async def is a root of its own, a library one runs where
        the coroutine is awaited, so the search backwards from a blocking call inside it goes
        on to whoever made the coroutine (and stops at a project root, as for sync calls)."""
        if self._callers is None:
            callers = super().callers()
            own = self.library_functions
            touched: set[str] = set()
            for caller, edges in self.async_edges.items():
                for edge in edges:
                    if edge.target in own:
                        callers.setdefault(edge.target, []).append((caller, edge.line, edge.inferred))
                        touched.add(edge.target)
            for target in touched:
                callers[target] = sorted(set(callers[target]), key=lambda c: (c[2], c[0], c[1]))
        assert self._callers is not None
        return self._callers


def restrict_entries(entries: EntryPoints, library_functions: frozenset[str]) -> None:
    """Sync functions a framework registers count as roots only in project code."""
    entries.sync_roots = {q: r for q, r in entries.sync_roots.items() if q not in library_functions}


_COST = {"free": 0, "cheap": 1, "heavy": 2}


def _entry_rank(point: EntryPoint) -> tuple[int, int, int, str, str]:
    return (PRIORITY_RANK[point.priority], SCOPE_RANK[point.scope], len(point.chain), point.function, point.offload_function)


class Reanchor:
    """Moves findings inside library code to the project's calls into the library."""

    def __init__(self, index: ProgramIndex, library_functions: frozenset[str], library_paths: frozenset[str], labels: dict[str, tuple[str, str]]) -> None:
        self.index = index
        self.library_functions = library_functions
        self.library_paths = library_paths
        self.labels = labels  # library file path -> (distribution, version)
        self.suppressed = 0
        self.used_suppressions: set[tuple[str, int]] = set()

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """One finding per project call into a library: the blocking call reached through it
        that ranks first (priority, then cost), naming all the others it reaches."""
        own: list[Finding] = []
        groups: dict[tuple[str, int, int], list[tuple[EntryPoint, Finding, int]]] = {}
        for finding in findings:
            if finding.path not in self.library_paths:
                own.append(finding)
                continue
            for point in finding.entry_points:
                anchor = self._anchor(point)
                if anchor is None:
                    continue
                step = point.chain[anchor]
                key = (step.path, step.line, self._column(step.function, step.line))
                groups.setdefault(key, []).append((point, finding, anchor))
        taken = {(f.path, f.line, f.column) for f in own}
        moved = []
        for key in sorted(groups):
            if key in taken:
                continue
            anchored = self._finding(key, groups[key])
            if anchored is not None:
                moved.append(anchored)
        return sorted([*own, *moved], key=lambda f: f.sort_key)

    def notes(self, notes: Iterable[SuppressionNote]) -> list[SuppressionNote]:
        return [n for n in notes if n.path not in self.library_paths and (n.path, n.line) not in self.used_suppressions]

    # -- one finding ---------------------------------------------------------------------------
    def _anchor(self, point: EntryPoint) -> int | None:
        """The last project step of the chain that calls into library code."""
        chain = point.chain
        own = self.library_functions
        for i in range(len(chain) - 2, -1, -1):
            if chain[i].function not in own and chain[i + 1].function in own:
                return i
        return None

    def _column(self, function: str, line: int) -> int:
        fn = self.index.functions.get(function)
        columns = sorted(s.col for s in fn.calls if s.line == line and s.kind == CALL) if fn is not None else []
        return columns[0] if columns else 0

    def _finding(self, key: tuple[str, int, int], members: list[tuple[EntryPoint, Finding, int]]) -> Finding | None:
        path, line, column = key
        unique: dict[tuple[str, str, tuple[str, ...]], tuple[EntryPoint, Finding, int]] = {}
        for point, finding, anchor in members:
            unique.setdefault((finding.symbol, point.function, tuple(s.function for s in point.chain)), (point, finding, anchor))
        ranked = sorted(unique.values(), key=lambda item: (*_entry_rank(item[0])[:2], -self._cost(item[1].symbol), _entry_rank(item[0])[2:], item[1].symbol))
        best, origin, anchor = ranked[0]
        # Entry points: those of the chosen blocking call, one per entry point function.
        points = tuple({p.function: p for p, f, _ in reversed(ranked) if f.symbol == origin.symbol}.values())
        points = tuple(sorted(points, key=_entry_rank))
        step = best.chain[anchor]
        entered = best.chain[anchor + 1]
        fn = self.index.functions[step.function]
        module = self.index.function_module[step.function]
        if self._suppressed(module.suppressions, origin.category, (line, *fn.def_lines), path):
            return None
        distribution, version = self.labels.get(entered.path, ("?", ""))
        blocking = tuple(sorted({f.symbol for _, f, _ in ranked}))
        library = LibraryCall(distribution=distribution, version=version, function=entered.function, path=entered.path, blocking=blocking)
        return dataclasses.replace(
            origin,
            path=path,
            line=line,
            column=column,
            function=fn.local_name,
            exposure=best.exposure,
            priority=best.priority,
            chain=best.chain,
            reason=self._reason(best, origin, step.function, entered.function, library, len(points)),
            fix=self._fix(best, origin),
            inferred=origin.inferred or best.inferred,
            entry_points=points[:50],
            entry_total=len(points),
            library=library,
        )

    def _cost(self, symbol: str) -> int:
        sink = self.index.catalog.sink(symbol)
        return _COST.get(sink.cost, 2) if sink is not None else 2

    def _suppressed(self, suppressions: dict[int, frozenset[str] | None], category: str, lines: tuple[int, ...], path: str) -> bool:
        for line in sorted(set(lines)):
            if line not in suppressions:
                continue
            categories = suppressions[line]
            if categories is None or category in categories:
                self.suppressed += 1
                self.used_suppressions.add((path, line))
                return True
        return False

    def _name(self, qualname: str) -> str:
        return short_function(qualname, self.index.function_module[qualname])

    def _reason(self, best: EntryPoint, origin: Finding, caller: str, entered: str, library: LibraryCall, total: int) -> str:
        what = f"{short_symbol(origin.symbol)} ({origin.category})"
        inside = f"inside {library.distribution} {library.version}".rstrip()
        more = len(library.blocking) - 1
        if more > 0:
            what += f" and {more} other blocking call(s) ({', '.join(short_symbol(b) for b in library.blocking if b != origin.symbol)})"
        others = f"; {total - 1} more entry point(s) reach it" if total > 1 else ""
        entry = f" (entry point: {best.label})"
        if best.exposure == ASYNC_REACHABLE:
            coroutine = self._coroutine(best)
            if coroutine is not None:
                callee = f"async {self._name(entered)}, which" if coroutine == entered else f"{self._name(entered)}, whose coroutine (async {self._name(coroutine)})"
                return f"{what} runs on the event loop {inside}: {self._name(caller)} calls {callee} blocks without offloading{entry}{others}"
            return f"{what} runs on the event loop {inside}: {self._name(caller)} calls {self._name(entered)} without offloading{entry}{others}"
        return f"{what} runs {inside}, called by {self._name(caller)}: {origin.reason}"

    def _coroutine(self, point: EntryPoint) -> str | None:
        """The first library ``async def`` on the chain after the project's call into the
        library: the blocking call runs in a coroutine the project's code awaits."""
        anchor = self._anchor(point)
        for step in point.chain[anchor + 1 :] if anchor is not None else ():
            fn = self.index.functions.get(step.function)
            if fn is not None and fn.is_async:
                return step.function
        return None

    def _fix(self, best: EntryPoint, origin: Finding) -> str:
        if best.exposure != ASYNC_REACHABLE:
            return origin.fix
        if self._coroutine(best) is not None:
            anchor = self._anchor(best)
            entered = best.chain[(anchor or 0) + 1]
            fn = self.index.functions[entered.function]
            local = fn.local_name
            distribution = self.labels.get(entered.path, ("the library", ""))[0]
            what = f"{local} blocks the loop although it is async" if fn.is_async else f"the coroutine {local} returns blocks the loop"
            return (
                f"{what}: to_thread cannot offload a coroutine; at "
                f"{best.offload_path}:{best.offload_line}, run it on a worker thread's own loop "
                f"(await asyncio.to_thread(asyncio.run, {local}(...))) if it holds no loop-bound state, "
                f"else use a non-blocking alternative or report it to {distribution}"
            )
        chain = best.chain
        position = next((i for i, s in enumerate(chain) if s.function == best.offload_function), 0)
        helper = chain[min(position + 1, len(chain) - 1)].function
        local = self.index.functions[helper].local_name
        owner, _, method = local.rpartition(".")
        name = owner if method in ("__init__", "__post_init__") and owner else local
        return f"offload the call at {best.offload_path}:{best.offload_line}: await asyncio.to_thread({name}, ...)"
