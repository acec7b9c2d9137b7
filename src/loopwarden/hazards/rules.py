"""The two static hazard rules: LOST_UPDATE and CONTEXT_LOSS, one finding per offload site."""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass

from loopwarden.hazards.facts import READ, WRITE, Access, Facts, ModuleFacts, dotted, ref_of
from loopwarden.static.entries import CLI_SCOPE, STARTUP_SCOPE, TEST_SCOPE, EntryPoints
from loopwarden.static.findings import LOW, MEDIUM, ChainStep, EntryPoint, Finding
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import CallGraph
from loopwarden.static.refs import AttrRef, NameRef
from loopwarden.static.summary import CALL, OFFLOAD, CallSite, ModuleSummary, OffloadSite
from loopwarden.static.values import AnyValue, ClassValue, ExtInstValue, ExtValue, FuncValue, InstValue, ModuleValue, Value

LOST_UPDATE = "LOST_UPDATE"
CONTEXT_LOSS = "CONTEXT_LOSS"
OFFLOADED = "OFFLOADED"  # the exposure of a hazard: the code runs in a worker, handed off by async code

_MAX_REACHED = 2000  # functions followed from one offloaded callable
_MAX_CALLER_DEPTH = 12  # callers followed up the chain when looking for a lock

_ASYNC_LOCKS = frozenset({"asyncio.Lock", "asyncio.locks.Lock", "anyio.Lock", "anyio._core._synchronization.Lock", "trio.Lock"})
_SEMAPHORES = frozenset({"asyncio.Semaphore", "asyncio.BoundedSemaphore", "asyncio.locks.Semaphore", "asyncio.locks.BoundedSemaphore", "anyio.Semaphore", "trio.Semaphore"})
_CONTEXT_VARS = frozenset({"contextvars.ContextVar"})


@dataclass(frozen=True)
class LockBlock:
    """An ``async with <lock>:`` that holds offloads (positions: the lock expression's)."""

    path: str
    function: str  # qualified name of the function with the block
    local_name: str  # its name inside the module ("Store.save")
    line: int
    col: int
    end_line: int
    end_col: int
    text: str  # the lock expression as written ("self._lock")
    offloads: tuple[tuple[str, int, int], ...]  # (path, line, col) of each offload it holds


@dataclass(frozen=True)
class Offload:
    site: OffloadSite
    module: ModuleSummary
    text: str  # the callable as written, e.g. "self.bump" or "functools.partial(who)"


class Hazards:
    def __init__(self, index: ProgramIndex, graph: CallGraph, cwd: str | None = None, entries: EntryPoints | None = None) -> None:
        self.index = index
        self.graph = graph
        self._entries = entries
        self.facts = Facts(index, cwd)
        self._async_callers: dict[str, list[tuple[str, int]]] | None = None
        self.suppressed: list[tuple[str, int]] = []  # (path, line) of each finding a comment suppressed
        self._locks: dict[tuple[str, int], bool] = {}  # (function, line) -> an async lock is held there

    @property
    def entries(self) -> EntryPoints:
        """Built on first use: only findings need them (lock blocks do not)."""
        if self._entries is None:
            self._entries = EntryPoints(self.index, self.graph)
        return self._entries

    # -- driver ---------------------------------------------------------------------------
    def check(self) -> list[Finding]:
        findings: list[Finding] = []
        for module in sorted(self.index.modules.values(), key=lambda m: m.path):
            sites = [*module.offloads, *self._executor_submits(module)]
            for site in sorted(sites, key=lambda s: (s.line, s.col)):
                holder = self.index.functions.get(site.function)
                if holder is None:
                    continue
                facts = self.facts.module(module)
                call = facts.call_at(self.facts.function_node(site.function), site.line, site.col)
                if call is None:  # source changed or not parsable: nothing to go on
                    continue
                offload = Offload(site, module, _callable_text(call, site))
                for finding in (self._context_loss(offload, call), self._lost_update(offload)):
                    if finding is None:
                        continue
                    if _suppressed(module, finding):
                        self.suppressed.append((module.path, finding.line))
                    else:
                        findings.append(finding)
        findings.sort(key=lambda f: f.sort_key)
        return findings

    def _executor_submits(self, module: ModuleSummary) -> list[OffloadSite]:
        """``executor.submit(fn, ...)`` in async code, on a receiver typed as an executor (the
        summaries record ``submit`` as an offload only when written with its full name)."""
        found: list[OffloadSite] = []
        recorded = {(s.line, s.function) for s in module.offloads}
        for qualname, fn in sorted(module.functions.items()):
            if not fn.is_async:
                continue
            for site in fn.calls:
                ref = site.ref
                if site.kind != CALL or not isinstance(ref, AttrRef) or ref.attr != "submit" or not site.args:
                    continue
                if (site.line, qualname) in recorded:
                    continue
                receiver = self.index.resolve(ref.base)
                if not isinstance(receiver, ExtInstValue) or not receiver.type.endswith("Executor"):
                    continue
                call = self._submit_call(module, qualname, site.line)
                if call is None or not call.args:
                    continue
                target = call.args[0]
                found.append(
                    OffloadSite(
                        wrapper=f"{ast.unparse(call.func)}",
                        line=call.lineno,
                        col=call.col_offset,
                        end_line=call.end_lineno or call.lineno,
                        end_col=call.end_col_offset or 0,
                        callable_ref=site.args[0],
                        callable_span=(target.lineno, target.col_offset, target.end_lineno or target.lineno, target.end_col_offset or 0),
                        function=qualname,
                    )
                )
        return found

    def _submit_call(self, module: ModuleSummary, function: str, line: int) -> ast.Call | None:
        node = self.facts.function_node(function)
        calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)] if node is not None else []
        for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
            if call.lineno == line and isinstance(call.func, ast.Attribute) and call.func.attr == "submit":
                return call
        return None

    # -- reachability from the offloaded callable -------------------------------------------
    def _start(self, offload: Offload) -> tuple[list[str], list[CallSite]]:
        """The functions the callable runs first, and (for a lambda) the call sites of its body."""
        site = offload.site
        if site.callable_ref is None:  # a lambda: its calls are recorded in the holder, marked offloaded
            first, _, last, _ = site.callable_span
            holder = self.index.functions[site.function]
            sites = [c for c in holder.calls if c.offloaded and c.kind != OFFLOAD and first <= c.line <= last]
            functions = [t for c in sites for t in self._targets(c)]
            return functions, sites
        return _functions_of(self.index, self.index.resolve(site.callable_ref)), []

    def _targets(self, site: CallSite) -> list[str]:
        return _functions_of(self.index, self.index.resolve(site.ref))

    def _reached(self, start: list[str]) -> dict[str, tuple[str | None, int]]:
        """Function -> (caller, line of the call) on the shortest chain from the callable."""
        parents: dict[str, tuple[str | None, int]] = {}
        queue: deque[str] = deque()
        for function in start:
            if function not in parents:
                parents[function] = (None, 0)
                queue.append(function)
        while queue and len(parents) < _MAX_REACHED:
            current = queue.popleft()
            for edge in self.graph.edges.get(current, ()):
                if edge.target not in parents and edge.target in self.index.functions and not self.index.functions[edge.target].is_async:
                    parents[edge.target] = (current, edge.line)
                    queue.append(edge.target)
        return parents

    def _chain(self, offload: Offload, parents: dict[str, tuple[str | None, int]], function: str | None, line: int) -> tuple[ChainStep, ...]:
        site = offload.site
        steps = [ChainStep(site.function, offload.module.path, site.line)]
        tail: list[tuple[str, int]] = []
        current, at = function, line
        while current is not None:
            tail.append((current, at))
            parent, call_line = parents[current]
            current, at = parent, call_line
        for name, at in reversed(tail):
            steps.append(ChainStep(name, self.index.function_module[name].path, at))
        return tuple(steps)

    # -- CONTEXT_LOSS ---------------------------------------------------------------------
    def _context_loss(self, offload: Offload, call: ast.Call) -> Finding | None:
        site = offload.site
        holder = self.index.functions[site.function]
        executor = site.wrapper.endswith("run_in_executor") or (site.wrapper.endswith(".submit") and holder.is_async)
        if not executor or _runs_in_copied_context(call, site):
            return None
        start, lambda_sites = self._start(offload)
        hit = next((h for h in (self._context_get(c) for c in lambda_sites) if h), None)
        parents = self._reached(start)
        where: tuple[str | None, CallSite] | None = (None, lambda_sites[0]) if hit else None
        if hit is None:
            for candidate in sorted(parents, key=lambda f: (_depth(parents, f), f)):
                for call_site in self.index.functions[candidate].calls:
                    hit = self._context_get(call_site)
                    if hit:
                        where = (candidate, call_site)
                        break
                if hit:
                    break
        if hit is None or where is None:
            return None
        function, get_site = where
        chain = self._chain(offload, parents, function, get_site.line)
        if function is None:  # in the lambda itself
            chain = (ChainStep(site.function, offload.module.path, get_site.line),)
        module = self.index.function_module[function] if function else offload.module
        at = f"{module.path}:{get_site.line}" + (f" in {self.index.functions[function].local_name}" if function else " in the lambda")
        variable = hit.rpartition(".")[0]
        return self._finding(
            offload,
            symbol=hit,
            category=CONTEXT_LOSS,
            operation="get",
            chain=chain,
            reason=(
                f"{offload.text} runs in an executor thread ({site.wrapper}), which does not carry contextvars, "
                f"and reads ContextVar {variable} (.get() at {at}): it sees the variable's default, not this task's value"
            ),
            fix=(
                f"run it in a copy of the context: ctx = contextvars.copy_context(); "
                f"await loop.run_in_executor(None, ctx.run, {offload.text}, ...), or use await asyncio.to_thread(...), which copies it"
            ),
        )

    def _context_get(self, site: CallSite) -> str | None:
        """``var.get`` (its qualified name) when the call reads a module-level ContextVar."""
        ref = site.ref
        if site.kind != CALL or not isinstance(ref, AttrRef) or ref.attr != "get":
            return None
        base = ref.base
        if not isinstance(base, (NameRef, AttrRef)):
            return None
        value = self.index.resolve(base)
        if isinstance(value, ExtInstValue) and value.type in _CONTEXT_VARS:
            return f"{_name_of(base, self.facts)}.get"
        if isinstance(value, ExtValue):  # a project module the index does not know as such
            defined = self.facts.module_variable(value.name)
            found = self.facts.value_of(defined)
            if found is not None and isinstance(found[1], ast.Call) and found[0].canonical(dotted(found[1].func)) in _CONTEXT_VARS:
                return f"{defined}.get"
        return None

    # -- LOST_UPDATE ----------------------------------------------------------------------
    def _lost_update(self, offload: Offload) -> Finding | None:
        site = offload.site
        start, lambda_sites = self._start(offload)
        parents = self._reached(start)
        found: list[tuple[str | None, Access]] = []
        if lambda_sites or site.callable_ref is None:
            first, col, _, _ = site.callable_span
            found += [(None, a) for a in self.facts.lambda_accesses(offload.module, site.function, first, col)]
        for reached in parents:
            found += [(reached, a) for a in self.facts.accesses(reached)]
        by_resource: dict[str, dict[str, list[tuple[str | None, Access]]]] = {}
        for function, access in found:
            by_resource.setdefault(access.resource, {}).setdefault(access.kind, []).append((function, access))
        shared = sorted(r for r, kinds in by_resource.items() if READ in kinds and WRITE in kinds)
        if not shared or self._locked(site.function, site.line, 0, set()):
            return None
        resource = shared[0]
        order = lambda item: (_depth(parents, item[0]) if item[0] else -1, item[1].line, item[1].col, item[0] or "")  # noqa: E731
        read = min(by_resource[resource][READ], key=order)
        write = min(by_resource[resource][WRITE], key=order)
        more = f"; {len(shared) - 1} more shared resource(s): {', '.join(shared[1:4])}" if len(shared) > 1 else ""
        chain = self._chain(offload, parents, write[0], write[1].line) if write[0] else (ChainStep(site.function, offload.module.path, write[1].line),)
        return self._finding(
            offload,
            symbol=resource,
            category=LOST_UPDATE,
            operation="read-modify-write",
            chain=chain,
            reason=(
                f"{offload.text} runs in a worker thread ({site.wrapper}) and both reads {resource} "
                f"(read at {self._where(offload, read)}) and writes it (write at {self._where(offload, write)}); "
                f"no asyncio lock is held across the await, so two concurrent calls interleave and one update is lost{more}"
            ),
            fix=(
                f"hold an asyncio.Lock (module level, or on the owning object) across the offload, so that the read at "
                f"{_short_where(self._where(offload, read))} and the write at {_short_where(self._where(offload, write))} run one call at a time: "
                f"async with lock: await {site.wrapper}({offload.text}, ...); "
                f"if several processes write it, use a file lock as well"
            ),
        )

    def _finding(self, offload: Offload, *, symbol: str, category: str, operation: str, chain: tuple[ChainStep, ...], reason: str, fix: str) -> Finding:
        """The finding at the offload, with the entry point that reaches it (as for blocking calls)."""
        site = offload.site
        holder = self.index.functions[site.function]
        context = self.entries.context(site.function)
        lead = tuple(
            ChainStep(function, self.index.function_module[function].path, line)
            for function, line in self.entries.path(site.function)[:-1]
        )
        chain = (*lead, *chain)
        priority = LOW if context.scope in (TEST_SCOPE, CLI_SCOPE, STARTUP_SCOPE) else MEDIUM
        point = EntryPoint(
            function=context.top,
            path=self.index.function_module[context.top].path,
            line=self.index.functions[context.top].line,
            kind=context.kind,
            scope=context.scope,
            label=context.label,
            exposure=OFFLOADED,
            priority=priority,
            chain=chain,
            offload_function=site.function,
            offload_path=offload.module.path,
            offload_line=site.line,
        )
        return Finding(
            path=offload.module.path,
            line=site.line,
            column=site.col,
            function=holder.local_name,
            symbol=symbol,
            category=category,
            operation=operation,
            exposure=OFFLOADED,
            priority=priority,
            chain=chain,
            reason=reason,
            fix=fix,
            entry_points=(point,),
            entry_total=1,
        )

    def _where(self, offload: Offload, item: tuple[str | None, Access]) -> str:
        function, access = item
        if function is None:
            return f"{offload.module.path}:{access.line} in the lambda"
        return f"{self.index.function_module[function].path}:{access.line} in {self.index.functions[function].local_name}"

    # -- locks around the offload ---------------------------------------------------------
    def _locked(self, function: str, line: int, depth: int, seen: set[str]) -> bool:
        """Whether an async lock is held at ``line`` of ``function``: by an ``async with`` there,
        or (when there is none) at the call in every async caller."""
        key = (function, line)
        if key in self._locks:
            return self._locks[key]
        if self._async_with_lock(function, line):
            found = True
        else:
            callers = self.async_callers().get(function, [])
            if not callers or depth >= _MAX_CALLER_DEPTH or function in seen:
                return False  # not memoised: another path may go further
            seen = seen | {function}
            found = all(self._locked(caller, at, depth + 1, seen) for caller, at in callers)
        self._locks[key] = found
        return found

    def async_callers(self) -> dict[str, list[tuple[str, int]]]:
        if self._async_callers is None:
            callers: dict[str, list[tuple[str, int]]] = {}
            for caller, edges in sorted(self.graph.async_edges.items()):
                for edge in edges:
                    callers.setdefault(edge.target, []).append((caller, edge.line))
            self._async_callers = callers
        return self._async_callers

    def _async_with_lock(self, function: str, line: int) -> bool:
        return bool(self._lock_items(function, line))

    def _lock_items(self, function: str, line: int) -> list[ast.expr]:
        """The lock expressions of the ``async with`` blocks of ``function`` (not of nested
        functions) whose body holds ``line``, innermost last."""
        node = self.facts.function_node(function)
        if node is None:
            return []
        fn = self.index.functions[function]
        module = self.facts.module(self.index.function_module[function])
        found: list[ast.expr] = []
        stack = list(ast.iter_child_nodes(node))
        while stack:
            sub = stack.pop()
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(sub, ast.AsyncWith) and sub.body and sub.body[0].lineno <= line <= (sub.end_lineno or 0):
                found += [i.context_expr for i in sub.items if self._is_async_lock(i.context_expr, fn.qualname, fn.class_qualname, module)]
            stack.extend(ast.iter_child_nodes(sub))
        return sorted(found, key=lambda e: (e.lineno, e.col_offset))

    def lock_blocks(self) -> list[LockBlock]:
        """Every ``async with <async lock>:`` that holds an offload of the program: around the
        offload in its own function, or around the call of an async caller on the way to it
        (the nearest such block on each path up, as the LOST_UPDATE rule looks for one).
        Sorted by position; each with the offloads it holds."""
        held: dict[tuple[str, int, int], tuple[str, ast.expr, set[tuple[str, int, int]]]] = {}
        for module in sorted(self.index.modules.values(), key=lambda m: m.path):
            if module.is_test:
                continue
            sites = [*module.offloads, *self._executor_submits(module)]
            for site in sorted(sites, key=lambda s: (s.line, s.col)):
                if site.function not in self.index.functions:
                    continue
                where = (module.path, site.line, site.col)
                for function, expr in self._locks_above(site.function, site.line, 0, frozenset()):
                    key = (function, expr.lineno, expr.col_offset)
                    held.setdefault(key, (function, expr, set()))[2].add(where)
        blocks = []
        for function, expr, offloads in held.values():
            blocks.append(
                LockBlock(
                    path=self.index.function_module[function].path,
                    function=function,
                    local_name=self.index.functions[function].local_name,
                    line=expr.lineno,
                    col=expr.col_offset,
                    end_line=expr.end_lineno or expr.lineno,
                    end_col=expr.end_col_offset or 0,
                    text=ast.unparse(expr),
                    offloads=tuple(sorted(offloads)),
                )
            )
        return sorted(blocks, key=lambda b: (b.path, b.line, b.col))

    def _locks_above(self, function: str, line: int, depth: int, seen: frozenset[str]) -> list[tuple[str, ast.expr]]:
        found = [(function, expr) for expr in self._lock_items(function, line)]
        if found or depth >= _MAX_CALLER_DEPTH or function in seen:
            return found
        for caller, at in self.async_callers().get(function, []):
            found += self._locks_above(caller, at, depth + 1, seen | {function})
        return found

    def _is_async_lock(self, expr: ast.expr, function: str, class_qualname: str | None, module: ModuleFacts) -> bool:
        ref = ref_of(expr, module.summary.module, class_qualname)
        value = self.index.resolve(ref) if ref is not None else None
        kind = value.type if isinstance(value, ExtInstValue) else None
        if kind in _ASYNC_LOCKS:
            return True
        if kind in _SEMAPHORES:
            return self._semaphore_of_one(expr, class_qualname, module)
        if not isinstance(value, (ExtInstValue, InstValue)):  # unknown (a dict of per-key locks): go by its name
            return "lock" in ast.unparse(expr).lower()
        return False

    def _semaphore_of_one(self, expr: ast.expr, class_qualname: str | None, module: ModuleFacts) -> bool:
        value = None
        if isinstance(expr, ast.Name):
            found = self.facts.value_of(self.facts.module_variable(f"{module.summary.module}.{expr.id}"))
            value = found[1] if found else None
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self" and class_qualname:
            cls = self.index.classes.get(class_qualname)
            if cls is not None:
                owner = self.facts.module(self.index.class_module[class_qualname])
                value = owner.self_value(cls.line, expr.attr)
        if not isinstance(value, ast.Call):
            return False
        args = [*value.args, *(k.value for k in value.keywords if k.arg in ("value", "initial_value"))]
        if not args:
            return (dotted(value.func) or "").rpartition(".")[2] in ("Semaphore", "BoundedSemaphore") and "anyio" not in (module.canonical(dotted(value.func)) or "")
        return isinstance(args[0], ast.Constant) and args[0].value == 1


def _name_of(ref: NameRef | AttrRef, facts: Facts) -> str:
    """``app.ctx.user`` for ``ctx.user`` (a module imported under a name) or ``user``."""
    if isinstance(ref, NameRef):
        return facts.module_variable(ref.name)
    base = ref.base
    value = facts.index.resolve(base) if base is not None else None
    if isinstance(value, (ModuleValue, ExtValue)):
        return facts.module_variable(f"{value[1]}.{ref.attr}")
    inner = _name_of(base, facts) if isinstance(base, (NameRef, AttrRef)) else "?"
    return f"{inner}.{ref.attr}"


def _functions_of(index: ProgramIndex, value: Value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, AnyValue):
        return [f for v in value.members for f in _functions_of(index, v)]
    if isinstance(value, FuncValue):
        return [value.qualname]
    if isinstance(value, ClassValue):
        return index.constructor_methods(value.qualname)
    if isinstance(value, InstValue):
        member = index.class_member(value.cls, "__call__", instance=True)
        return [member.qualname] if isinstance(member, FuncValue) else []
    return []


def _depth(parents: dict[str, tuple[str | None, int]], function: str | None) -> int:
    depth = 0
    while function is not None and depth < _MAX_REACHED:
        function = parents[function][0]
        depth += 1
    return depth


def _callable_text(call: ast.Call, site: OffloadSite) -> str:
    line, col, _, _ = site.callable_span
    for arg in call.args:
        if (arg.lineno, arg.col_offset) == (line, col):
            text = ast.unparse(arg)
            return text if len(text) <= 60 else text[:57] + "..."
    return "the callable"


def _runs_in_copied_context(call: ast.Call, site: OffloadSite) -> bool:
    """``run_in_executor(None, ctx.run, fn)`` or ``submit(ctx.run, fn)``: a ``.run`` before the callable."""
    line, col, _, _ = site.callable_span
    for arg in call.args:
        if (arg.lineno, arg.col_offset) == (line, col):
            return False
        if isinstance(arg, ast.Attribute) and arg.attr == "run":
            return True
    return False


def _short_where(where: str) -> str:
    """``app/files.py:15 in set_key`` -> ``files.py:15``."""
    return where.partition(" in ")[0].rpartition("/")[2]


def _suppressed(module: ModuleSummary, finding: Finding) -> bool:
    if finding.line not in module.suppressions:
        return False
    categories = module.suppressions[finding.line]
    return categories is None or finding.category in categories
