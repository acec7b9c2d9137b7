"""The edits, as libcst codemods: formatting and comments outside the edited call are kept.

``apply(source, sites, unsafe=False)`` edits one file for the ``FixSite`` values planned from
its findings and says, for each site, what it did (``Outcome``). Running it again on its own
output changes nothing: an offloaded call is no longer a finding, and a twin is not added twice.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from loopwarden.fix.sites import CONTEXT, DIRECT, DISPLAY, HINT, LAZY, LOCK, OFFLOAD, SAFE, SLEEP, TWIN, UNSAFE, FixSite

ASYNCIO, ANYIO, TRIO = "asyncio", "anyio", "trio"
_CONSUMERS = {"list", "sorted", "tuple", "set", "frozenset"}  # consume an iterator completely


@dataclass(frozen=True)
class Outcome:
    site: FixSite
    safety: str  # safe, unsafe, display-only
    applied: bool
    text: str  # the new code, or the hint


def flavour(module: cst.Module) -> str:
    """The event-loop library the file is written for: trio or anyio when it imports them."""
    names: set[str] = set()
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                names.update(_dotted(alias.name).split(".")[0] for alias in small.names)
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                names.add(_dotted(small.module).split(".")[0])
    return TRIO if TRIO in names else ANYIO if ANYIO in names else ASYNCIO


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _name_of(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


@dataclass
class _Target:
    site: FixSite
    form: str  # "call": to_thread(func, *args); "consume": to_thread(list, call); "sleep"
    safety: str


class _Locate(cst.CSTVisitor):
    """Finds the call each site is about (by line, column or callee, inside the right function)."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, sites: list[FixSite], unsafe: bool = False, loop: str = ASYNCIO) -> None:
        self.sites = sites
        self.unsafe = unsafe
        self.loop = loop
        self.scopes: list[tuple[str, bool]] = []  # (name, is async def); lambdas are ("<lambda>", False)
        self.targets: dict[cst.Call, _Target] = {}
        self.found: set[FixSite] = set()
        self.hints: dict[FixSite, str] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.held: dict[str, str] = {}  # offloaded callable -> the lock an ``async with`` holds around it

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append((node.name.value, False))
        self.classes[self._local()] = node

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append((node.name.value, node.asynchronous is not None))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(("<lambda>", False))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def _local(self) -> str:
        return ".".join(name for name, _ in self.scopes)

    def _in(self, qualname: str) -> bool:
        local = self._local()
        return bool(local) and (qualname == local or qualname.endswith("." + local))

    def visit_Call(self, node: cst.Call) -> None:
        start = self.get_metadata(PositionProvider, node).start
        parent = self.get_metadata(ParentNodeProvider, node)
        self._hazard(node, start.line, start.column, parent)
        if isinstance(parent, cst.Await):
            return
        for site in self.sites:
            if site.kind in (TWIN, HINT, CONTEXT, LOCK) or site.line != start.line or _name_of(node) != site.callee:
                continue
            if site.column is not None and site.column != start.column:
                continue
            if not self._in(site.function):
                continue
            if not self.scopes or not self.scopes[-1][1]:
                self.hints[site] = "the call is not directly in an async def (a lambda or nested def): offload it by hand"
                continue
            if isinstance(parent, cst.WithItem):
                self.hints[site] = f"the call opens a `with` block: move the whole block into a nested def run in one hop ({site.hint})"
                continue
            self.found.add(site)
            self.targets[node] = self._target(site, node, parent)

    def visit_With(self, node: cst.With) -> None:
        """``async with LOCK:`` around an offload: that callable already has its lock (reused)."""
        if node.asynchronous is None or len(node.items) != 1 or not isinstance(node.items[0].item, (cst.Name, cst.Attribute)):
            return
        lock = cst.Module([]).code_for_node(node.items[0].item)
        held = self.held

        class _Offloads(cst.CSTVisitor):
            def visit_Call(self, call: cst.Call) -> None:
                at = _callable_index(call)
                if at is not None and len(call.args) > at:
                    held.setdefault(_callable_name(call), lock)

        node.body.visit(_Offloads())

    def _hazard(self, node: cst.Call, line: int, column: int, parent: cst.CSTNode) -> None:
        """The offload a hazard finding is about (CONTEXT_LOSS, LOST_UPDATE), at its exact position."""
        for site in self.sites:
            if site.kind not in (CONTEXT, LOCK) or (site.line, site.column) != (line, column) or not self._in(site.function):
                continue
            at = _callable_index(node)
            if at is None or len(node.args) <= at or any(a.star or a.keyword for a in node.args[: at + 1]):
                self.hints[site] = f"the offload at line {line} is not a call loopwarden can edit: {site.hint}"
            elif site.kind == LOCK and not isinstance(parent, cst.Await):
                self.hints[site] = f"the offload is not awaited where it is made: hold a lock around its await by hand ({site.hint})"
            else:
                self.found.add(site)
                self.targets[node] = _Target(site, "context" if site.kind == CONTEXT else "lock", SAFE if site.kind == CONTEXT else UNSAFE)

    def _target(self, site: FixSite, node: cst.Call, parent: cst.CSTNode) -> _Target:
        if site.kind == SLEEP:
            return _Target(site, "sleep", SAFE)
        if site.kind == DIRECT and site.symbol == "subprocess.run" and self.unsafe and self.loop == ASYNCIO and _exec_form(node):
            return _Target(site, "exec", UNSAFE)  # the loop's own subprocess support, not a thread
        if site.kind != LAZY:
            return _Target(site, "call", SAFE)
        if isinstance(parent, cst.Arg):
            outer = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(outer, cst.Call) and isinstance(outer.func, cst.Name) and outer.func.value in _CONSUMERS and len(outer.args) == 1:
                return _Target(site, "outer", SAFE)  # apply() moves it onto the consumer call
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return _Target(site, "consume", SAFE)
        # kept in a variable and consumed later: it becomes a list (an unsafe change of type)
        return _Target(site, "consume", UNSAFE)


class _Edit(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, targets: dict[cst.Call, _Target], unsafe: bool, loop: str, context: _Imports, twins: dict[str, FixSite]) -> None:
        self.targets = targets
        self.unsafe = unsafe
        self.loop = loop
        self.context = context
        self.twins = twins  # class local name -> site
        self.done: dict[FixSite, tuple[str, bool, str]] = {}
        self.module: cst.Module | None = None
        self.scopes: list[str] = []
        self.held: dict[str, str] = {}
        self.groups: dict[cst.IndentedBlock, list[_Group]] = {}

    # -- offloads ------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self.targets.get(original_node)
        if target is None or target.form == "lock":
            return updated_node
        if target.form == "context":
            return self._in_context(target, updated_node)
        if target.safety == UNSAFE and not self.unsafe:
            self.done[target.site] = (UNSAFE, False, self._code(self._replacement(target, original_node)))
            return updated_node
        nested = [t for node, t in self.targets.items() if node is not original_node and _contains(original_node, node)]
        new = self._replacement(target, original_node if nested else updated_node, hop=bool(nested))
        for inner in nested:  # evaluated inside this hop now
            self.done[inner.site] = (inner.safety, True, f"inside the hop of line {target.site.line}")
        parent = self.get_metadata(ParentNodeProvider, original_node)
        if (isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is original_node) or (
            isinstance(parent, cst.Call) and parent.func is original_node
        ):
            new = new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        self.done[target.site] = (target.safety, True, self._code(new))
        return new

    def _replacement(self, target: _Target, call: cst.Call, hop: bool = False) -> cst.Await:
        self.context.add(self.loop)
        if target.form == "sleep":
            sleep = cst.Attribute(cst.Name(self.loop), cst.Name("sleep"))
            if _dotted(call.func) in ("time.sleep", "sleep"):
                self.context.unused.add("time")
            return cst.Await(call.with_changes(func=sleep))
        if target.form == "consume":
            return cst.Await(self._thread(cst.Name("list"), [cst.Arg(call)], call))
        if target.form == "exec":
            self.context.module_lines.setdefault(_RUN_SUBPROCESS, _RUN_SUBPROCESS_CODE)
            return cst.Await(call.with_changes(func=cst.Name(_RUN_SUBPROCESS)))
        if target.form == "outer":
            inner = call.args[0].value
            return cst.Await(self._thread(call.func, [cst.Arg(inner)], call))
        keywords = any(arg.keyword is not None or arg.star == "**" for arg in call.args)
        if hop or (keywords and self.loop != ASYNCIO):
            body = call.with_changes(lpar=[], rpar=[])
            return cst.Await(self._thread(cst.Lambda(cst.Parameters(), body), [], None))
        return cst.Await(self._thread(call.func, list(call.args), call))

    def _thread(self, func: cst.BaseExpression, args: list[cst.Arg], like: cst.Call | None) -> cst.Call:
        runner = _expr("asyncio.to_thread" if self.loop == ASYNCIO else f"{self.loop}.to_thread.run_sync")
        first = cst.Arg(func, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if args else cst.MaybeSentinel.DEFAULT)
        call = cst.Call(runner, [first, *args])
        if like is not None:
            call = call.with_changes(whitespace_before_args=like.whitespace_before_args)
        return call

    # -- consecutive dependent blocking statements, one hop ------------------------------
    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        groups = self.groups.get(original_node)
        if not groups:
            return updated_node
        body = list(updated_node.body)
        for group in sorted(groups, key=lambda g: -g.start):
            moved = body[group.start : group.end]
            inner: list[cst.BaseStatement] = [moved[0].with_changes(leading_lines=[]), *moved[1:]]
            if group.returns:
                inner.append(cst.parse_statement(f"return {', '.join(group.returns)}\n"))
            nested = cst.FunctionDef(cst.Name(group.name), cst.Parameters(), cst.IndentedBlock(inner), leading_lines=_lead(moved[0]))
            self.context.add(self.loop)
            runner = "asyncio.to_thread" if self.loop == ASYNCIO else f"{self.loop}.to_thread.run_sync"
            hop = f"await {runner}({group.name})"
            call = cst.parse_statement(f"{', '.join(group.returns)} = {hop}\n" if group.returns else f"{hop}\n")
            body[group.start : group.end] = [nested, call]
            lines = f"{group.sites[0].line}-{group.sites[-1].line}"
            for site in group.sites:
                self.done[site] = (UNSAFE, True, f"lines {lines} run in one hop: def {group.name}(): ...; {self._code(call).strip()}")
        return updated_node.with_changes(body=body)

    # -- hazards: a copy of the context, a lock around the await ----------------------------
    def _in_context(self, target: _Target, call: cst.Call) -> cst.Call:
        """``run_in_executor(None, f, a)`` -> ``run_in_executor(None, contextvars.copy_context().run, f, a)``."""
        at = _callable_index(call) or 0
        self.context.add("contextvars")
        runner = cst.Arg(_expr("contextvars.copy_context().run"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new = call.with_changes(args=[*call.args[:at], runner, *call.args[at:]])
        self.done[target.site] = (SAFE, True, self._code(new))
        return new

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement:
        locks = [(node, t) for node, t in self.targets.items() if t.form == "lock" and _contains(original_node, node)]
        if not locks:
            return updated_node
        node, target = locks[0]
        name = self.held.get(_callable_name(node)) or _lock_name(node)  # the lock other calls already hold for it
        new_lock = name not in self.held.values()
        held = cst.With(
            items=[cst.WithItem(cst.Name(name))],
            body=cst.IndentedBlock([updated_node.with_changes(leading_lines=[])]),
            asynchronous=cst.Asynchronous(),
            leading_lines=updated_node.leading_lines,
        )
        text = f"async with {name}: {self._code(updated_node.with_changes(leading_lines=[])).strip()}"
        if not self.unsafe:
            self.done[target.site] = (UNSAFE, False, f"{text} (module level: {name} = {self.loop}.Lock())" if new_lock else text)
            return updated_node
        if new_lock:
            self.context.add(self.loop)
            self.context.module_lines.setdefault(name, f"{name} = {self.loop}.Lock()  # one read-modify-write at a time (added by loopwarden fix)\n")
        self.done[target.site] = (UNSAFE, True, f"{text} (module level: {name} = {self.loop}.Lock())" if new_lock else f"{text} (the lock the module already holds around it)")
        return held

    # -- async twins of sync hooks -------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        return updated_node

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        local = ".".join(self.scopes)
        self.scopes.pop()
        site = self.twins.get(local)
        if site is None or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        hook_name = site.function.rpartition(".")[2]
        body = list(updated_node.body.body)
        names = {s.name.value for s in body if isinstance(s, cst.FunctionDef)}
        if site.twin in names:
            return updated_node
        at = next((i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == hook_name), None)
        if at is None:
            self.done[site] = (DISPLAY, False, f"hook {hook_name} not found in class {local}: {site.hint}")
            return updated_node
        hook = body[at]
        assert isinstance(hook, cst.FunctionDef)
        twin = self._twin(hook, site.twin or "")
        if twin is None:
            self.done[site] = (DISPLAY, False, f"{hook_name} is a static or class method: {site.hint}")
            return updated_node
        body.insert(at + 1, twin)
        self.done[site] = (SAFE, True, f"async def {site.twin}(...): offloads {hook_name}")
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def _twin(self, hook: cst.FunctionDef, name: str) -> cst.FunctionDef | None:
        if hook.decorators:
            return None
        params = hook.params
        plain = [*params.posonly_params, *params.params]
        if not plain:
            return None
        signature = cst.Module([]).code_for_node(params)
        forward = [p.name.value for p in plain[1:]]
        if isinstance(params.star_arg, cst.Param):
            forward.append(f"*{params.star_arg.name.value}")
        forward += [f"{p.name.value}={p.name.value}" for p in params.kwonly_params]
        if params.star_kwarg is not None:
            forward.append(f"**{params.star_kwarg.name.value}")
        receiver = plain[0].name.value
        call_args = ", ".join([f"{receiver}.{hook.name.value}", *forward])
        self.context.add(self.loop)
        if self.loop == ASYNCIO:  # asyncio.to_thread runs it in a copy of the caller's context
            offload = f"await asyncio.to_thread({call_args})"
        else:
            self.context.add("contextvars")
            self.context.add("functools")
            offload = f"await {self.loop}.to_thread.run_sync(functools.partial(contextvars.copy_context().run, {call_args}))"
        code = (
            f"async def {name}({signature}):\n"
            f'    """Async twin of {hook.name.value} (added by loopwarden fix): runs it off the event loop."""\n'
            f"    return {offload}\n"
        )
        twin = cst.parse_statement(code)
        assert isinstance(twin, cst.FunctionDef)
        return twin.with_changes(leading_lines=[cst.EmptyLine(indent=False)])

    def _code(self, node: cst.CSTNode) -> str:
        return cst.Module([]).code_for_node(node)


class _Imports:
    """Module imports to add (once, after the file's last top-level import) and the ``time``
    import to drop when no ``time.`` / ``sleep`` use is left (the libcst codemod visitors
    would do the same at twice the import cost)."""

    def __init__(self) -> None:
        self.needed: list[str] = []
        self.unused: set[str] = set()
        self.module_lines: dict[str, str] = {}  # name -> a module-level statement to add after the imports

    def add(self, module: str) -> None:
        if module not in self.needed:
            self.needed.append(module)

    def update(self, module: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = list(module.body)
        used = _names_used(module)
        kept: list[cst.BaseStatement] = []
        carried = None  # a dropped statement's leading lines go to the next statement
        for statement in body:
            new = self._drop_unused(statement, used) if self.unused else statement
            if new is None:
                if not kept:  # the file's first statement: the next one starts the file now
                    carried = _lead(statement) if carried is None else carried
                continue
            if carried is not None and _is_import(new):  # the same import block: keep its spacing
                new = new.with_changes(leading_lines=carried)
            carried = None
            kept.append(new)
        body = kept
        present = _imported_modules(body)
        missing = [name for name in self.needed if name not in present]
        if missing:
            body = _insert_imports(body, missing)
        if self.module_lines:
            body = _insert_after_imports(body, [code for name, code in self.module_lines.items() if name not in _assigned(body)])
        return module.with_changes(body=body)

    def _drop_unused(self, statement: cst.BaseStatement, used: set[str]) -> cst.BaseStatement | None:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return statement
        small = statement.body[0]
        if isinstance(small, cst.Import) and len(small.names) == 1:
            alias = small.names[0]
            name = _dotted(alias.name)
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            if name in self.unused and bound not in used:
                return None
        if isinstance(small, cst.ImportFrom) and small.module is not None and _dotted(small.module) in self.unused:
            if isinstance(small.names, cst.ImportStar):
                return statement
            names = [a for a in small.names if (_dotted(a.asname.name) if a.asname else _dotted(a.name)) in used]
            if not names:
                return None
            if len(names) != len(small.names):
                names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return statement.with_changes(body=[small.with_changes(names=names)])
        return statement


def _assigned(body: list[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            names.add(statement.name.value)
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
    return names


def _insert_after_imports(body: list[cst.BaseStatement], codes: list[str]) -> list[cst.BaseStatement]:
    """Module-level statements after the file's leading docstring, imports and ``__future__``."""
    at = 0
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        if _is_docstring(statement, index) or _is_import(statement):
            at = index + 1
    body = list(body)
    for offset, code in enumerate(codes):
        new = cst.parse_statement(code)
        compound = not isinstance(new, cst.SimpleStatementLine)
        if offset == 0 or compound:
            new = new.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * (2 if compound else 1))
        body.insert(at + offset, new)
        follow = at + offset + 1
        if compound and follow < len(body):  # two blank lines after a def, as before one
            blank = sum(1 for line in _lead(body[follow]) if line.comment is None)
            if blank < 2:
                body[follow] = body[follow].with_changes(leading_lines=[cst.EmptyLine(indent=False)] * (2 - blank) + list(_lead(body[follow])))
    return body


def _callable_index(call: cst.Call) -> int | None:
    """Where an offload call takes its callable: ``run_in_executor(executor, f, ...)`` second,
    ``to_thread(f, ...)``, ``run_sync(f, ...)``, ``submit(f, ...)`` first."""
    name = _name_of(call)
    if name == "run_in_executor":
        return 1
    if name in ("to_thread", "run_sync", "submit", "apply_async", "defer_to_thread", "sync_to_async"):
        return 0
    return None


@dataclass(frozen=True)
class _Group:
    """Consecutive dependent blocking statements of an async function's body, run in one hop."""

    start: int  # index of the first statement in the block
    end: int  # index after the last
    returns: tuple[str, ...]  # the names the code after the group reads
    sites: tuple[FixSite, ...]
    name: str  # the nested def


_GROUPED_FORMS = ("call", "consume", "outer")


def _statement_of(call: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.SimpleStatementLine | None:
    node: cst.CSTNode | None = call
    while node is not None and not isinstance(node, cst.SimpleStatementLine):
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
        node = parents.get(node)
    return node


def _names(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class _All(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False

    node.visit(_All())
    return found


def _has(node: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...]) -> bool:
    found = False

    class _Find(cst.CSTVisitor):
        def on_visit(self, inner: cst.CSTNode) -> bool:
            nonlocal found
            found = found or isinstance(inner, kinds)
            return not found

    node.visit(_Find())
    return found


def _reads_and_writes(statement: cst.SimpleStatementLine) -> tuple[set[str], set[str]] | None:
    """What a plain statement (an assignment to names, or an expression) reads and binds;
    None for anything else (it stays out of a group)."""
    if len(statement.body) != 1 or _has(statement, (cst.Await, cst.Yield, cst.Lambda, cst.NamedExpr)):
        return None
    small = statement.body[0]
    if isinstance(small, cst.Expr):
        return _names(small.value), set()
    if isinstance(small, cst.Assign):
        bound: set[str] = set()
        for target in small.targets:
            parts = target.target.elements if isinstance(target.target, cst.Tuple) else [target.target]
            for part in parts:
                value = part.value if isinstance(part, cst.Element) else part
                if not isinstance(value, cst.Name):
                    return None
                bound.add(value.value)
        return _names(small.value), bound
    return None


def _groups(module: cst.Module, targets: dict[cst.Call, _Target], parents: Mapping[cst.CSTNode, cst.CSTNode]) -> dict[cst.IndentedBlock, list[_Group]]:
    """Runs of two or more consecutive statements of an async def's own body, each holding a
    call to offload, where a later one reads what an earlier one binds."""
    by_statement: dict[cst.SimpleStatementLine, list[_Target]] = {}
    for call, target in targets.items():
        if target.form not in _GROUPED_FORMS:
            continue
        statement = _statement_of(call, parents)
        if statement is not None:
            by_statement.setdefault(statement, []).append(target)
    blocks: dict[cst.IndentedBlock, list[_Group]] = {}
    seen: set[cst.IndentedBlock] = set()
    for statement in by_statement:
        block = parents.get(statement)
        function = parents.get(block) if block is not None else None
        if not isinstance(block, cst.IndentedBlock) or block in seen or not isinstance(function, cst.FunctionDef) or function.asynchronous is None:
            continue
        seen.add(block)
        body = list(block.body)
        used = _names(function.body)
        index = 0
        while index < len(body):
            end = index
            while end < len(body) and body[end] in by_statement and _reads_and_writes(body[end]) is not None:  # type: ignore[arg-type]
                end += 1
            if end - index >= 2:
                group = _group(body, index, end, by_statement, used, len(blocks.get(block, [])))
                if group is not None:
                    blocks.setdefault(block, []).append(group)
            index = max(end, index + 1)
    return blocks


def _group(body: list[cst.BaseStatement], start: int, end: int, by_statement: dict[cst.SimpleStatementLine, list[_Target]], used: set[str], number: int) -> _Group | None:
    bound: set[str] = set()
    dependent = False
    for statement in body[start:end]:
        reads, writes = _reads_and_writes(statement)  # type: ignore[misc, arg-type]
        if reads & bound:
            dependent = True
        if reads & writes - bound:  # x = f(x): it would read a name the nested def binds later
            return None
        bound |= writes
    if not dependent:
        return None  # independent calls: each gets its own (safe) hop
    after: set[str] = set()
    for statement in body[end:]:
        after |= _names(statement)
    returns = tuple(sorted(bound & after))
    sites = tuple(t.site for statement in body[start:end] for t in by_statement[statement])  # type: ignore[index]
    return _Group(start, end, returns, sites, "_in_thread" if number == 0 else f"_in_thread_{number + 1}")


_RUN_SUBPROCESS = "_run_subprocess"
_RUN_SUBPROCESS_KEYWORDS = {"capture_output", "text", "check", "input", "cwd", "env"}
_RUN_SUBPROCESS_CODE = '''async def _run_subprocess(args, *, capture_output=False, text=False, check=False, input=None, cwd=None, env=None):
    """subprocess.run on the event loop's subprocess support (added by loopwarden fix)."""
    pipe = asyncio.subprocess.PIPE if capture_output else None
    stdin = asyncio.subprocess.PIPE if input is not None else None
    process = await asyncio.create_subprocess_exec(*args, stdin=stdin, stdout=pipe, stderr=pipe, cwd=cwd, env=env)
    stdout, stderr = await process.communicate(input.encode() if text and input is not None else input)
    if text:
        stdout = stdout.decode() if stdout is not None else None
        stderr = stderr.decode() if stderr is not None else None
    result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result
'''


def _exec_form(call: cst.Call) -> bool:
    """``subprocess.run([...], capture_output=..., text=..., check=..., input=..., cwd=..., env=...)``:
    a literal argument list (never a shell string) and keywords the helper knows."""
    if not call.args or call.args[0].keyword is not None or call.args[0].star or not isinstance(call.args[0].value, (cst.List, cst.Tuple)):
        return False
    rest = call.args[1:]
    return all(arg.keyword is not None and arg.keyword.value in _RUN_SUBPROCESS_KEYWORDS for arg in rest)


def _callable_name(call: cst.Call) -> str:
    at = _callable_index(call) or 0
    func = call.args[at].value if len(call.args) > at else None
    return func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""


def _lock_name(call: cst.Call) -> str:
    """``_<callable>_lock`` for the callable the offload runs."""
    return f"_{_callable_name(call).strip('_') or 'update'}_lock"


def _lead(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """A statement's leading blank and comment lines."""
    return statement.leading_lines if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) else ()


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _names_used(module: cst.Module) -> set[str]:
    """Names read anywhere outside import statements."""
    used: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            used.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    module.visit(_Names())
    return used


def _imported_modules(body: list[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import):
                    names.update(_dotted(a.name) for a in small.names if a.asname is None)
    return names


def _insert_imports(body: list[cst.BaseStatement], names: list[str]) -> list[cst.BaseStatement]:
    """``import NAME`` for each name, where isort would put it: in the file's first import group
    when that group is the standard library's (plain imports sorted, before ``from`` imports),
    else as a group of its own before the first import."""
    body = list(body)
    at = 0
    while at < len(body) and (_is_docstring(body[at], at) or _is_future(body[at])):
        at += 1
    group_end = at
    while group_end < len(body) and _is_import(body[group_end]) and (group_end == at or not _blank_before(body[group_end])):
        group_end += 1
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    first = _first_module(body[at]) if at < group_end else None
    for name in sorted(names):
        new = cst.parse_statement(f"import {name}\n")
        if first is not None and first.split(".")[0] in stdlib:
            pos = at
            while pos < group_end and _plain_import_before(body[pos], name):
                pos += 1
            if pos == at:  # it starts the group: it takes the group's leading lines
                new = new.with_changes(leading_lines=_lead(body[at]))
                body[at] = body[at].with_changes(leading_lines=[])
            body.insert(pos, new)
            group_end += 1
            continue
        # its own group, before the others (or before the code)
        if at < len(body):
            follow = body[at]
            lead = _lead(follow) if _is_import(follow) else ([] if at == 0 else [cst.EmptyLine(indent=False)])
            new = new.with_changes(leading_lines=lead)
            blank = 1 if _is_import(follow) or not isinstance(follow, (cst.FunctionDef, cst.ClassDef)) else 2
            follow_lines = [line for line in _lead(follow) if line.comment is not None]
            body[at] = follow.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * blank + follow_lines)
        body.insert(at, new)
        first, group_end = name, at + 1
    return body


def _is_docstring(statement: cst.BaseStatement, index: int) -> bool:
    return (
        index == 0
        and isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_future(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.ImportFrom)
        and statement.body[0].module is not None
        and _dotted(statement.body[0].module) == "__future__"
    )


def _blank_before(statement: cst.BaseStatement) -> bool:
    return any(line.comment is None for line in _lead(statement))


def _first_module(statement: cst.BaseStatement) -> str | None:
    small = statement.body[0]  # type: ignore[attr-defined]
    if isinstance(small, cst.Import):
        return _dotted(small.names[0].name)
    if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
        return _dotted(small.module)
    return None


def _plain_import_before(statement: cst.BaseStatement, name: str) -> bool:
    small = statement.body[0]  # type: ignore[attr-defined]
    return isinstance(small, cst.Import) and _dotted(small.names[0].name) < name


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    found = False

    class _Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            if node is inner:
                found = True
            return not found

    for arg in outer.children:
        if arg is not getattr(outer, "func", None):
            arg.visit(_Find())
    return found


def apply(source: bytes, sites: list[FixSite], unsafe: bool = False) -> tuple[bytes, list[Outcome]]:
    """The file's new bytes and what happened at each site."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module)
    locate = _Locate(sites, unsafe, flavour(module))
    wrapper.visit(locate)
    # a lazy iterator handed straight to list()/sorted(): offload that consumer call instead
    targets: dict[cst.Call, _Target] = {}
    for node, target in locate.targets.items():
        if target.form == "outer":
            parent = wrapper.resolve(ParentNodeProvider)[node]
            outer = wrapper.resolve(ParentNodeProvider)[parent]
            assert isinstance(outer, cst.Call)
            targets[outer] = target
        else:
            targets[node] = target
    loop = flavour(module)
    context = _Imports()
    twins = {}
    for site in sites:
        if site.kind == TWIN:
            twins[site.function.rpartition(".")[0].split(".")[-1]] = site
    edit = _Edit(targets, unsafe, loop, context, twins)
    edit.held = locate.held
    if unsafe:  # consecutive dependent blocking statements: one nested def, one hop (it moves code)
        edit.groups = _groups(module, targets, wrapper.resolve(ParentNodeProvider))
        grouped = {site for groups in edit.groups.values() for group in groups for site in group.sites}
        edit.targets = {node: t for node, t in targets.items() if t.site not in grouped}
    edited = wrapper.visit(edit)
    if edit.done and any(applied for _, applied, _ in edit.done.values()):
        edited = context.update(edited)
    outcomes: list[Outcome] = []
    for site in sites:
        if site in edit.done:
            safety, applied, text = edit.done[site]
            outcomes.append(Outcome(site, safety, applied, text))
        elif site in locate.hints:
            outcomes.append(Outcome(site, DISPLAY, False, locate.hints[site]))
        elif site.kind == HINT:
            outcomes.append(Outcome(site, DISPLAY, False, site.hint))
        else:
            if site.kind == LAZY:
                text = f"the lazy iterator is consumed here, away from the call that makes it: consume it inside the hop where it is made (to_thread(list, ...)); {site.hint}"
            else:
                what = f"{site.callee}(...)" if site.kind in (OFFLOAD, DIRECT, SLEEP) else site.function
                text = f"no call to {what} found at line {site.line}: {site.hint}"
            outcomes.append(Outcome(site, DISPLAY, False, text))
    return (edited.bytes if edit.done else source), outcomes
