"""Reachability: which functions run on the event loop, and through which call chain.

The call graph has project functions as nodes. Edges are calls evaluated on the caller's
thread; a call handed to an offload wrapper is not an edge. Roots are every ``async def``
and every sync framework hook (exposed on the loop), then module bodies (import time).
A breadth-first search from all roots at once gives each function its shortest chain;
edges inferred from abstract bases are used only where no certain chain exists.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from dataclasses import dataclass
from typing import Any

from loopwarden.catalog import Hook, Sink
from loopwarden.catalog.categories import CATEGORIES, COST_RANK
from loopwarden.static.index import ProgramIndex
from loopwarden.static.refs import AttrRef, CallRef, ElemRef, NameRef, OffResRef, ParamRef, Ref, RefTuple
from loopwarden.static.summary import ATTR, CALL, CONSUME, ENTER, OFFLOAD, CallSite, FunctionSummary, internal_error
from loopwarden.static.values import AnyValue, ClassValue, ExtInstValue, ExtValue, FuncValue, InstValue, Value

DIRECT_ASYNC = "DIRECT_ASYNC"
ASYNC_REACHABLE = "ASYNC_REACHABLE"
SYNC_HOOK = "SYNC_HOOK"
STARTUP = "STARTUP"
CLI = "CLI"  # reached only from a script, a CLI main() or example code
TEST = "TEST"  # reached only from tests
EXPOSURES = (DIRECT_ASYNC, ASYNC_REACHABLE, SYNC_HOOK, STARTUP, CLI, TEST)


@dataclass(frozen=True)
class Edge:
    target: str
    line: int
    inferred: bool = False


@dataclass(frozen=True)
class SinkHit:
    sink: Sink
    site: CallSite
    inferred: bool = False  # matched by method name on a receiver of unknown type


@dataclass(frozen=True)
class Root:
    function: str
    exposure: str
    hook: str | None = None  # e.g. "langchain AgentMiddleware.before_model (no abefore_model)"
    twin: str | None = None


@dataclass(frozen=True)
class Reached:
    root: Root
    parent: str | None  # caller on the shortest chain
    line: int  # line of the call in the parent
    inferred: bool


@dataclass(frozen=True)
class Source:
    """A root reaching a function through sync calls: steps (function, line of the call to
    the next step) from the root to the function, whose own line is 0."""

    root: Root
    steps: tuple[tuple[str, int], ...]
    inferred: bool
    inferred_steps: frozenset[str] = frozenset()  # steps entered through an inferred edge


class CallGraph:
    def __init__(self, index: ProgramIndex) -> None:
        self.index = index
        self.catalog = index.catalog
        self.edges: dict[str, list[Edge]] = {}
        self.sinks: dict[str, list[SinkHit]] = {}
        self.errors: list[tuple[str, str]] = []  # (function, reason): analysis bugs, reported as skipped
        self.async_edges: dict[str, list[Edge]] = {}  # calls creating a coroutine of a project async def
        self._callers: dict[str, list[tuple[str, int, bool]]] | None = None
        self._ancestors: dict[str, list[str]] = {}
        self._hooks: list[Root] | None = None
        self._lifespan: set[str] | None = None
        self._offload_entry = {q for q, fn in index.functions.items() if self._decorated_with_offload(fn)}
        self._long_locks = self._locks_held_long()
        self._project_wrappers = self._find_project_wrappers()
        # Names of the project's properties: an attribute load of any other name runs none.
        self._property_names = {name for cls in index.classes.values() for name, method in cls.methods.items() if (f := index.functions.get(method)) is not None and f.is_property}
        for qualname, fn in index.functions.items():
            try:
                self.edges[qualname], self.sinks[qualname] = self._analyze(fn)
            except Exception as exc:  # a bug here must cost one function, not the whole scan
                self.edges[qualname], self.sinks[qualname] = [], []
                self.errors.append((qualname, internal_error(exc, f"the analysis of function {fn.local_name}")))

    def _locks_held_long(self) -> set[Ref]:
        """Receivers (as written, module-qualified) of ``with`` blocks whose body may do more
        than memory work, and of explicit ``.acquire()`` calls: waiting for such a lock may
        take long. A lock only ever held around dict and list operations is not."""
        found: set[Ref] = set()
        for fn in self.index.functions.values():
            for site in fn.calls:
                ref = site.ref
                if not isinstance(ref, AttrRef):
                    continue
                if (site.kind == ENTER and not site.brief) or (site.kind == CALL and ref.attr == "acquire"):
                    found.add(ref.base)
        return found

    def _short_critical_sections(self, sinks: list[SinkHit], edges: list[Edge]) -> list[SinkHit]:
        """Drop ``with lock:`` hits whose body only works on memory: nothing in it blocks or
        calls project code, and the lock is held that briefly everywhere it is taken."""
        kept = []
        for hit in sinks:
            site = hit.site
            if site.kind == ENTER and site.brief and hit.sink.category == "LOCK_WAIT" and _receiver(site.ref) not in self._long_locks:
                first, last = site.end_line + 1, site.brief
                busy = any(first <= other.site.line <= last for other in sinks if other is not hit)
                busy = busy or any(first <= edge.line <= last for edge in edges)
                if not busy:
                    continue
            kept.append(hit)
        return kept

    # -- per function --------------------------------------------------------------------
    def _analyze(self, fn: FunctionSummary) -> tuple[list[Edge], list[SinkHit]]:
        edges: list[Edge] = []
        sinks: list[SinkHit] = []
        for site in fn.calls:
            if site.offloaded or site.kind == OFFLOAD:
                continue
            if site.kind == CONSUME:
                hit = self._lazy_sink(site)
                if hit is not None:
                    sinks.append(hit)
                edges.extend(self._generator_edges(site))
                continue
            if site.kind == ATTR:
                target = self._property_target(site.ref)
                if target is not None:
                    edges.append(Edge(target, site.line))
                continue
            if site.via and self._handed_to_wrapper(site.via):
                continue
            value = self.index.resolve(site.ref)
            edges.extend(self._edges_to(value, site))
            if site.kind == CALL:
                self._note_async_call(fn.qualname, value, site.line)
            if not site.awaited:
                hit = self._sink(value, site, fn.is_module_body)
                if hit is not None:
                    sinks.append(hit)
        if any(site.brief for site in fn.calls):
            sinks = self._short_critical_sections(sinks, edges)
        return edges, sinks

    def _edges_to(self, value: Value, site: CallSite) -> list[Edge]:
        if value is None or (isinstance(value, ExtValue) and isinstance(site.ref, AttrRef) and self._unknown(site.ref.base)):
            return self._guessed_method(site)
        if isinstance(value, AnyValue):  # one of several classes: each candidate, as an inferred edge
            edges = [e for v in value.members for e in self._edges_to(v, site)]
            return [Edge(e.target, e.line, inferred=True) for e in edges]
        if isinstance(value, ClassValue) and site.kind == CALL:
            return [Edge(m, site.line) for m in self.index.constructor_methods(value.qualname) if self._runs_here(m)]
        if not isinstance(value, FuncValue) or not self._runs_here(value.qualname) or self._returns_coroutine(value.qualname, site):
            return []
        edges = [Edge(value.qualname, site.line)]
        if self.index.is_abstract_method(value.qualname):
            edges += [Edge(o, site.line, inferred=True) for o in self._sync_overrides(value.qualname)]
        return edges

    def _returns_coroutine(self, qualname: str, site: CallSite) -> bool:
        """``embedding(..., aembedding=True)`` where ``embedding`` starts with ``if aembedding:
        return self._aembedding(...)``: with that constant flag the call only makes a
        coroutine (or a task, or an offload), its blocking body does not run here."""
        fn = self.index.functions.get(qualname)
        if fn is None or not fn.flag_returns or not site.consts:
            return False
        for name, index, returned in fn.flag_returns:
            flagged = any(_truthy(v) and (k == name or (index >= 0 and k == index)) for k, v in site.consts)
            if flagged and self._makes_coroutine(returned):
                return True
        return False

    def _makes_coroutine(self, ref: Ref) -> bool:
        if ref is None:
            return False
        if isinstance(ref, OffResRef):  # return asyncio.to_thread(...)
            return True
        if not isinstance(ref, CallRef):
            return False
        value = self.index.resolve(ref.callee)
        if value is None:
            return False
        members: tuple[Value, ...] = value.members if isinstance(value, AnyValue) else (value,)
        for member in members:
            if isinstance(member, FuncValue):
                fn = self.index.functions.get(member.qualname)
                if fn is None or not fn.is_async:
                    return False
            elif not (isinstance(member, ExtValue) and member.name.split(".")[0] == "asyncio"):
                return False
        return True

    def _note_async_call(self, caller: str, value: Value, line: int) -> None:
        for target in self._async_functions(value):
            self.async_edges.setdefault(caller, []).append(Edge(target, line))

    def _async_functions(self, value: Value) -> list[str]:
        if value is None:
            return []
        if isinstance(value, AnyValue):
            return [q for v in value.members for q in self._async_functions(v)]
        if not isinstance(value, FuncValue):
            return []
        fn = self.index.functions.get(value.qualname)
        if fn is None or not fn.is_async:
            return []
        found = [value.qualname]
        if self.index.is_abstract_method(value.qualname):
            found += [o for o in self.index.overrides(value.qualname) if self.index.functions[o].is_async]
        return found

    def _sync_overrides(self, qualname: str) -> list[str]:
        """Overrides a call on an abstract method may reach. When some overrides are async,
        the class family is split into sync and async twins (redis, httpx style), and the
        sync twins are not what async code calls: none is taken."""
        overrides = self.index.overrides(qualname)
        if any(self.index.functions[o].is_async for o in overrides):
            return []
        return [o for o in overrides if self._runs_here(o)]

    def _guessed_method(self, site: CallSite) -> list[Edge]:
        """``self.store.save()`` with ``store`` of unknown type: if exactly one project class
        defines a distinctive ``save``, take it, as an inferred edge."""
        ref = site.ref
        if site.kind != CALL or site.awaited or not isinstance(ref, AttrRef) or not self._unknown(ref.base):
            return []
        name = ref.attr
        if name in self.catalog.common_methods or name.startswith("__") or self.catalog.duck_sink(name) is not None:
            return []
        candidates = self.index.methods_by_name.get(name, ())
        if len(candidates) != 1 or not self._runs_here(candidates[0]):
            return []
        return [Edge(candidates[0], site.line, inferred=True)]

    def _runs_here(self, qualname: str, iterated: bool = False) -> bool:
        """Does calling ``qualname`` run its body on the caller's thread, right there?
        A sync generator's body runs only where it is iterated (``iterated``)."""
        fn = self.index.functions.get(qualname)
        if fn is None or fn.is_async or qualname in self._offload_entry or fn.raises_on_loop:
            return False  # raises_on_loop: on a running loop it raises before doing anything
        return iterated or not fn.is_generator

    def _generator_edges(self, site: CallSite) -> list[Edge]:
        ref = site.ref
        if not isinstance(ref, CallRef):
            return []
        value = self.index.resolve(ref.callee)
        if isinstance(value, FuncValue):
            fn = self.index.functions.get(value.qualname)
            if fn is not None and fn.is_generator and self._runs_here(value.qualname, iterated=True):
                return [Edge(value.qualname, site.line)]
        return []

    def _property_target(self, ref: RefTuple) -> str | None:
        if not isinstance(ref, AttrRef) or ref.attr not in self._property_names:
            return None
        base = self.index.resolve(ref.base)
        if not isinstance(base, InstValue):
            return None
        for cls in self.index.mro(base.cls):
            if isinstance(cls, str):
                return None
            method = cls.methods.get(ref.attr)
            if method is not None:
                fn = self.index.functions.get(method)
                return method if fn is not None and fn.is_property else None
            if ref.attr in cls.attrs:
                return None
        return None

    def _sink(self, value: Value, site: CallSite, module_body: bool = False) -> SinkHit | None:
        if isinstance(value, AnyValue):
            for member in value.members:
                hit = self._sink(member, site, module_body)
                if hit is not None:
                    return SinkHit(hit.sink, site, inferred=True)
            return None
        if isinstance(value, ExtInstValue) and site.kind == CALL:
            value = ExtValue(f"{value.type}.__call__")  # calling an instance: llm(prompt)
        if isinstance(value, ExtValue):
            sink = self.catalog.sink(value.name)
            if sink is None or sink.lazy:
                return None
            if self._derived(site, sink, module_body) or not self._arguments_block(sink, site):
                return None
            return SinkHit(sink, site)
        ref = site.ref
        if site.kind == CALL and isinstance(ref, AttrRef) and self._unknown(ref.base):
            sink = self.catalog.duck_sink(ref.attr)
            if sink is not None and not sink.lazy:
                return SinkHit(sink, site, inferred=True)
        return None

    def _arguments_block(self, sink: Sink, site: CallSite) -> bool:
        """For APIs that take a stream or a path: is this call's argument a real file?
        (And does a constant argument make it return at once: ``join(timeout=0)``?)"""
        if self.catalog.returns_at_once(sink.symbol, site.consts, site.complete):
            return False
        if sink.file_arg is not None:
            kind = self._argument_kind(site, sink.file_arg)
            return kind == "file"
        if sink.path_arg is not None or sink.path_keyword is not None:
            return self._argument_kind(site, sink.path_arg, sink.path_keyword) != "memory"
        return True

    def _argument_kind(self, site: CallSite, index: int | None, keyword: str | None = None) -> str:
        ref = next((r for k, r in site.kwargs if k == keyword), None) if keyword is not None else None
        if ref is None and index is not None and index < len(site.args):
            ref = site.args[index]
        if ref is None:
            return "unknown"
        value = self.index.resolve(ref)
        if not isinstance(value, ExtInstValue):
            return "unknown"
        if value.type in self.catalog.memory_types:
            return "memory"
        sink = self.catalog.sink(f"{value.type}.read")
        return "file" if sink is not None and sink.category == "FILE_IO" else "unknown"

    def _unknown(self, ref: Ref) -> bool:
        value = self.index.resolve(ref)
        return value is None or (isinstance(value, ExtInstValue) and value.type.endswith("()"))

    def _lazy_sink(self, site: CallSite) -> SinkHit | None:
        ref = site.ref
        if not isinstance(ref, CallRef):
            return None
        value = self.index.resolve(ref.callee)
        if isinstance(value, ExtValue):
            sink = self.catalog.sink(value.name)
            if sink is not None and sink.lazy:
                return SinkHit(sink, site)
            return None
        callee = ref.callee
        if isinstance(callee, AttrRef) and self._unknown(callee.base):
            sink = self.catalog.duck_sink(callee.attr)
            if sink is not None and sink.lazy:
                return SinkHit(sink, site, inferred=True)
        return None

    def _derived(self, site: CallSite, sink: Sink, module_body: bool) -> bool:
        """An operation on a handle that a blocking call in this same function opened
        (``fh.read()`` after ``open()``, ``conn.execute()`` after ``connect()``): the call
        that opened it is the finding. Never hides a costlier operation than its origin."""
        # An argument must be the handle itself (json.load(fh)), not something derived from
        # it (open(tmp.name)); a receiver may be reached through attributes (proc.stdout.read()).
        origins: list[tuple[Ref, bool]] = [(r, True) for r in site.args if isinstance(r, (CallRef, NameRef))]
        if isinstance(site.ref, AttrRef):
            origins.append((site.ref.base, False))
        for ref, direct in origins:
            origin = self._origin_sink(ref, 0, module_body, direct)
            if origin is not None and _opens_handle(origin) and COST_RANK[sink.cost] <= COST_RANK[origin.cost]:
                return True
        return False

    def _origin_sink(self, ref: Ref, depth: int, module_body: bool, direct: bool = False) -> Sink | None:
        """The first blocking call met walking down a receiver or argument expression."""
        if ref is None or depth > 6:
            return None
        if isinstance(ref, NameRef) and module_body:  # module-level code binds names as variables
            return self._origin_sink(self.index.variables.get(ref.name), depth + 1, module_body, direct)
        if isinstance(ref, CallRef):
            value = self.index.resolve(ref.callee)
            if isinstance(value, ExtValue):
                sink = self.catalog.sink(value.name)
                if sink is not None:
                    return sink
            callee = ref.callee
            if not direct and isinstance(callee, AttrRef):
                return self._origin_sink(callee.base, depth + 1, module_body)
            return None
        if direct:
            return None
        if isinstance(ref, AttrRef):
            return self._origin_sink(ref.base, depth + 1, module_body)
        if isinstance(ref, ElemRef):
            return self._origin_sink(ref.of, depth + 1, module_body)
        return None

    def _find_project_wrappers(self) -> dict[str, set[int]]:
        """Project functions that hand a parameter to an offload (``def run_blocking(fn, *a):
        return await asyncio.to_thread(fn, *a)``): function -> indexes of such parameters."""
        wrappers: dict[str, set[int]] = {}
        for module in self.index.modules.values():
            for site in module.offloads:
                ref = site.callable_ref
                if isinstance(ref, ParamRef) and ref.function == site.function:
                    wrappers.setdefault(site.function, set()).add(ref.position)
        return wrappers

    def _handed_to_wrapper(self, via: tuple[Any, ...]) -> bool:
        callee, index = via
        value = self.index.resolve(callee)
        return isinstance(value, FuncValue) and index in self._project_wrappers.get(value.qualname, ())

    def _decorated_with_offload(self, fn: FunctionSummary) -> bool:
        for ref in fn.decorators:
            value = self.index.resolve(ref)
            if value is None and isinstance(ref, CallRef):
                value = self.index.resolve(ref.callee)
            if isinstance(value, ExtValue) and self.catalog.offload_by_name(value.name):
                return True
        return False

    # -- roots ---------------------------------------------------------------------------
    def ancestors(self, class_qualname: str) -> list[str]:
        """The index's ancestors of a class, computed once per class."""
        found = self._ancestors.get(class_qualname)
        if found is None:
            found = self._ancestors[class_qualname] = self.index.ancestors(class_qualname)
        return found

    def hook_roots(self) -> list[Root]:
        if self._hooks is None:
            self._hooks = self._hook_roots()
        return self._hooks

    def lifespan_functions(self) -> set[str]:
        if self._lifespan is None:
            self._lifespan = self._lifespan_functions()
        return self._lifespan

    def roots(self) -> tuple[list[Root], list[Root]]:
        """(loop roots, import-time roots), each in a deterministic order."""
        loop: list[Root] = []
        startup: list[Root] = []
        lifespan = self.lifespan_functions()
        for qualname, fn in self.index.functions.items():
            if fn.is_module_body:
                if not qualname.endswith("__main__.<module>"):  # `python -m pkg` runs a script
                    startup.append(Root(qualname, STARTUP))
            elif qualname in lifespan:
                startup.append(Root(qualname, STARTUP, hook="lifespan"))
            elif fn.is_async:
                loop.append(Root(qualname, DIRECT_ASYNC))
        key = self._position
        # Async entry points first: on equal chain length they name the exposure.
        loop.sort(key=lambda r: key(r.function))
        loop.extend(sorted(self.hook_roots(), key=lambda r: key(r.function)))
        return loop, sorted(startup, key=lambda r: key(r.function))

    def _lifespan_functions(self) -> set[str]:
        """Start-up and shutdown code (``lifespan=``, ``on_startup=[...]``,
        ``@app.on_event("startup")``): it runs on the loop, but before requests are served."""
        found = {q for q, fn in self.index.functions.items() if fn.is_startup}
        for module in self.index.modules.values():
            for ref in module.startup_refs:
                value = self.index.resolve(ref)
                if isinstance(value, FuncValue):
                    found.add(value.qualname)
        return found

    def _position(self, qualname: str) -> tuple[str, int, str]:
        module = self.index.function_module[qualname]
        return module.path, self.index.functions[qualname].line, qualname

    def _hook_roots(self) -> list[Root]:
        roots: list[Root] = []
        hooks = self.catalog.hooks
        base_hooks = [(h, h.base) for h in hooks if h.base]
        decorator_hooks = [(h, h.decorator) for h in hooks if h.decorator]
        if base_hooks:
            for qualname in self.index.classes:
                ancestors = self.ancestors(qualname)
                for hook, base in base_hooks:
                    if any(_same_class(a, base) for a in ancestors):
                        roots.extend(self._class_hook_roots(qualname, hook, base))
        if decorator_hooks:
            for qualname, fn in self.index.functions.items():
                if fn.is_async or fn.is_module_body or fn.is_startup:
                    continue
                for hook, decorator in decorator_hooks:
                    if self._has_decorator(fn, decorator):
                        roots.append(Root(qualname, SYNC_HOOK, hook=f"{hook.framework} @{decorator}"))
                        break
        return roots

    def _class_hook_roots(self, class_qualname: str, hook: Hook, hook_base: str) -> list[Root]:
        found = []
        for method, twin in hook.methods:
            member = self.index.class_member(class_qualname, method, instance=False)
            if not isinstance(member, FuncValue):
                continue
            fn = self.index.functions[member.qualname]
            if fn.is_async or fn.class_qualname != class_qualname:
                continue  # reported once, on the class that defines it
            if twin:
                twin_member = self.index.class_member(class_qualname, twin, instance=False)
                if isinstance(twin_member, FuncValue):
                    continue
            base = hook_base.rpartition(".")[2]
            found.append(Root(member[1], SYNC_HOOK, hook=f"{hook.framework} {base}.{method}", twin=twin or None))
        return found

    def _has_decorator(self, fn: FunctionSummary, pattern: str) -> bool:
        for ref, written in zip(fn.decorators, fn.decorator_names, strict=True):
            names = {written}
            value = self.index.resolve(ref.callee if isinstance(ref, CallRef) else ref)
            if isinstance(value, ExtValue):
                names.add(value.name)
            if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                return True
        return False

    # -- search --------------------------------------------------------------------------
    def reach(self) -> dict[str, Reached]:
        loop_roots, startup_roots = self.roots()
        reached: dict[str, Reached] = {}
        self._bfs(loop_roots, reached)
        self._bfs(startup_roots, reached)
        return reached

    def _bfs(self, roots: list[Root], reached: dict[str, Reached]) -> None:
        fresh = [r for r in roots if r.function not in reached]
        for root in fresh:
            reached[root.function] = Reached(root, None, 0, False)
        order = self._search([r.function for r in fresh], reached, allow_inferred=False)
        self._search(order, reached, allow_inferred=True)

    def _search(self, start: list[str], reached: dict[str, Reached], allow_inferred: bool) -> list[str]:
        queue = deque(start)
        order = list(start)
        while queue:
            current = queue.popleft()
            here = reached[current]
            for edge in self.edges.get(current, ()):
                if edge.target in reached or (edge.inferred and not allow_inferred):
                    continue
                reached[edge.target] = Reached(here.root, current, edge.line, here.inferred or edge.inferred)
                queue.append(edge.target)
                order.append(edge.target)
        return order

    # -- reverse search: every root that reaches one function -------------------------------
    def callers(self) -> dict[str, list[tuple[str, int, bool]]]:
        """Reverse of the sync call edges: callee -> [(caller, line, inferred)], in a fixed order."""
        if self._callers is None:
            callers: dict[str, list[tuple[str, int, bool]]] = {}
            for caller, edges in self.edges.items():
                for edge in edges:
                    callers.setdefault(edge.target, []).append((caller, edge.line, edge.inferred))
            for items in callers.values():
                items.sort(key=lambda c: (c[2], c[0], c[1]))
            self._callers = callers
        return self._callers

    def sources(self, function: str, roots: dict[str, Root]) -> list[Source]:
        """Every root whose sync calls reach ``function``, each with its shortest chain.

        One breadth-first search backwards from the function over sync call edges (certain
        edges first, then inferred ones): the cost is the size of the function's sync callers,
        not the number of entry points, and every root gets a chain of its own."""
        callers = self.callers()
        nxt: dict[str, tuple[str | None, int, bool]] = {function: (None, 0, False)}
        entered: set[str] = set()  # callees entered through an inferred edge
        order = [function]
        for allow_inferred in (False, True):
            queue = deque(order if allow_inferred else [function])
            while queue:
                current = queue.popleft()
                inferred_here = nxt[current][2]
                for caller, line, inferred in callers.get(current, ()):
                    if caller in nxt or (inferred and not allow_inferred):
                        continue
                    nxt[caller] = (current, line, inferred_here or inferred)
                    if inferred:
                        entered.add(current)
                    queue.append(caller)
                    order.append(caller)
        found: list[Source] = []
        for qualname in order:
            root = roots.get(qualname)
            if root is None:
                continue
            steps: list[tuple[str, int]] = []
            step: str | None = qualname
            while step is not None:
                following, line, _ = nxt[step]
                steps.append((step, line))
                step = following
            marked = frozenset(step for step, _ in steps[1:] if step in entered) if nxt[qualname][2] else frozenset()
            found.append(Source(root, tuple(steps), nxt[qualname][2], marked))
        return found

    def chain(self, function: str, reached: dict[str, Reached]) -> list[tuple[str, int]]:
        """[(function, line of the call to the next step)] from the root to ``function``."""
        steps: list[tuple[str, int]] = []
        current: str | None = function
        line = 0
        while current is not None:
            steps.append((current, line))
            info = reached[current]
            current, line = info.parent, info.line
        steps.reverse()
        return steps


def _truthy(value: object) -> bool:
    """A constant argument that makes ``if flag:`` true."""
    return isinstance(value, (bool, int, float, str)) and bool(value)


def _same_class(candidate: str, wanted: str) -> bool:
    """``langchain.agents.middleware.types.AgentMiddleware`` matches
    ``langchain.agents.middleware.AgentMiddleware``: same package, same class name."""
    if candidate == wanted:
        return True
    return (
        candidate.rpartition(".")[2] == wanted.rpartition(".")[2]
        and candidate.split(".")[0] == wanted.split(".")[0]
    )


def _receiver(ref: Ref) -> Ref:
    """What ``ref.attr`` is taken from (a ``with`` site's ref is ``AttrRef(lock, "__enter__")``)."""
    return ref.base if isinstance(ref, AttrRef) else None


def _opens_handle(sink: Sink) -> bool:
    """A call that opens a handle (its category says so, catalog/categories.py)."""
    category = CATEGORIES.get(sink.category)
    return category is not None and category.handle
