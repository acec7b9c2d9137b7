"""Per-file analysis: one parsed module -> one :class:`ModuleSummary`.

Walks each function body in order with an environment of local names -> refs, so that
``p = Path(x); p.exists()`` records a call whose callee is ``attr(call(name pathlib.Path),
exists)``. Nothing here looks at other files: cross-file meaning is resolved later.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from loopwarden.catalog import (
    NOT_CONSTANT,
    Catalog,
    Constants,
    Iteration,
    Startup,
    Symbolic,
    ThreadRunner,
    Variant,
    builtin_knowledge,
)
from loopwarden.static.refs import (
    AttrRef,
    CallRef,
    DynAttrRef,
    DynModRef,
    ElemRef,
    IterRef,
    MapRef,
    NameRef,
    OffResRef,
    ParamRef,
    Ref,
    RefTuple,
    SelfRef,
    SeqRef,
    StrRef,
    SuperRef,
    UnionRef,
    UnknownRef,
    VariantRef,
    clear_interned,
)
from loopwarden.static.summary import (
    ATTR,
    CALL,
    CONSUME,
    ENTER,
    OFFLOAD,
    CallSite,
    ClassSummary,
    FunctionSummary,
    ModuleSummary,
    OffloadSite,
    Suppression,
    internal_error,
)

_BUILTIN_NAMES = frozenset(dir(builtins))
_ADDERS = {"append": 0, "add": 0, "appendleft": 0, "insert": 1}  # method -> index of the item
_EMPTY_CONTAINERS = frozenset({"builtins.list", "builtins.set", "collections.deque"})
_PROPERTY_DECORATORS = frozenset({"builtins.property", "functools.cached_property", "cached_property"})
_ABSTRACT_DECORATORS = frozenset({"abc.abstractmethod", "abstractmethod"})
_SEQUENCE_GENERICS = frozenset(
    {
        "list", "set", "frozenset", "tuple", "Sequence", "MutableSequence", "Iterable", "Iterator",
        "Collection", "Generator", "AsyncIterator", "AsyncIterable", "AbstractSet", "Set", "List", "Tuple", "FrozenSet",
    }
)
_MAPPING_GENERICS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "defaultdict", "DefaultDict", "OrderedDict", "ChainMap"}
)
# Typing constructs that name no class the scanner can follow. A typed stream (IO[bytes],
# BinaryIO, TextIO) may be a BytesIO as well as a file: not a disk file.
_OPAQUE_ANNOTATIONS = frozenset(
    {
        "Any", "Final", "ClassVar", "Literal", "Callable", "Self", "NoReturn", "Never", "TypeVar", "TypeAlias",
        "IO", "BinaryIO", "TextIO", "LiteralString", "TypeGuard", "Unpack", "Concatenate", "ParamSpec",
    }
)
_UNWRAP_GENERICS = frozenset({"Optional", "Annotated", "Final", "ClassVar", "Awaitable", "Coroutine", "Required", "NotRequired"})
_SUPPRESSION = re.compile(r"#\s*loopwarden\s*:\s*ignore(?:\[([A-Za-z_,\s]*)\])?")


@dataclass(frozen=True)
class ExtractOptions:
    """The slice of the catalogue the per-file phase needs (small and picklable)."""

    offload_names: dict[str, int] = field(default_factory=dict)  # dotted name -> callable arg
    offload_methods: dict[str, int] = field(default_factory=dict)  # method name -> callable arg
    aliases: dict[str, str] = field(default_factory=dict)
    callback_methods: dict[str, int] = field(default_factory=dict)  # loop.call_soon(cb): cb runs here
    watched: frozenset[str] = frozenset()  # last names of calls whose every argument is recorded
    variants: dict[str, tuple[Variant, ...]] = field(default_factory=dict)  # call -> variants of its result
    # From the catalogue's knowledge.toml tables (built-in unless given: catalogue_knowledge()).
    startup: Startup = field(default_factory=lambda: builtin_knowledge().startup)
    caching_decorators: frozenset[str] = field(default_factory=lambda: builtin_knowledge().caching_decorators)
    field_helpers: frozenset[str] = field(default_factory=lambda: builtin_knowledge().field_helpers)
    iteration: Iteration = field(default_factory=lambda: builtin_knowledge().iteration)
    # [[thread_runner]]: dotted name or method name -> (position, keyword) of the callable
    thread_runners: dict[str, tuple[int, str]] = field(default_factory=lambda: _runners(builtin_knowledge().thread_runners, method=False))
    thread_runner_methods: dict[str, tuple[int, str]] = field(default_factory=lambda: _runners(builtin_knowledge().thread_runners, method=True))

    @cached_property
    def item_preserving(self) -> dict[str, int]:
        return dict(self.iteration.item_preserving)


def catalogue_knowledge(catalog: Catalog) -> dict[str, Any]:
    """The ExtractOptions fields that come from the catalogue's knowledge tables ([startup],
    [names], [iteration], [[thread_runner]]), for ``ExtractOptions(..., **catalogue_knowledge(c))``."""
    return {
        "startup": catalog.startup,
        "caching_decorators": catalog.caching_decorators,
        "field_helpers": catalog.field_helpers,
        "iteration": catalog.iteration,
        "thread_runners": _runners(catalog.thread_runners, method=False),
        "thread_runner_methods": _runners(catalog.thread_runners, method=True),
    }


def _runners(runners: Iterable[ThreadRunner], method: bool) -> dict[str, tuple[int, str]]:
    found = {}
    for runner in runners:
        key = runner.method if method else runner.name
        if key is not None:
            found[key] = (runner.callable_arg, runner.keyword)
    return found


def parse_suppressions(source: str) -> dict[int, Suppression]:
    """``# loopwarden: ignore[...]`` comments by line. Only real comments count (read with
    tokenize): the same text inside a string literal suppresses nothing."""
    found: dict[int, Suppression] = {}
    if "loopwarden" not in source:
        return found
    for number, text in _comments(source):
        match = _SUPPRESSION.search(text)
        if match:
            names = match.group(1)
            found[number] = None if names is None else frozenset(n.strip().upper() for n in names.split(",") if n.strip())
    return found


def _comments(source: str) -> list[tuple[int, str]]:
    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and "loopwarden" in token.string:
                comments.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        # Syntax newer than this tokenizer (PEP 701 f-strings): lines whose suppression
        # stands after the last quote character (never inside a one-line string).
        comments = []
        for number, line in enumerate(source.splitlines(), start=1):
            match = _SUPPRESSION.search(line)
            if match and not any(q in line[match.start() :] for q in "\"'"):
                comments.append((number, line[match.start() :]))
    return comments


def dotted(ref: Ref) -> str | None:
    """``name``/``attr`` chains as a dotted string, e.g. ``asyncio.to_thread``."""
    if ref is None:
        return None
    if isinstance(ref, NameRef):
        return ref.name
    if isinstance(ref, AttrRef):
        head = dotted(ref.base)
        return f"{head}.{ref.attr}" if head else None
    return None


def written_name(node: ast.AST) -> str:
    """The source spelling of a decorator/callee: ``app.on_event`` for ``@app.on_event(...)``."""
    if isinstance(node, ast.Call):
        return written_name(node.func)
    if isinstance(node, ast.Attribute):
        head = written_name(node.value)
        return f"{head}.{node.attr}" if head else node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


class _Scope:
    """Local names of one function (or the module body), chained to the enclosing scope."""

    def __init__(self, parent: _Scope | None = None) -> None:
        self.names: dict[str, Ref] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Ref]:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True, scope.names[name]
            scope = scope.parent
        return False, None


class ModuleExtractor:
    def __init__(self, summary: ModuleSummary, options: ExtractOptions, package: str) -> None:
        self.summary = summary
        self.options = options
        self.package = package  # for relative imports
        self.module = summary.module
        self.module_scope = _Scope()
        self.body = FunctionSummary(
            qualname=summary.body_qualname,
            local_name="<module>",
            is_async=False,
            line=1,
            col=0,
            def_lines=(),
            is_module_body=True,
        )
        summary.functions[self.body.qualname] = self.body

    # -- entry ---------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        self._prebind(tree.body, self.module_scope, self.module, module_level=True)
        ctx = _Context(self, self.body, self.module_scope, class_qualname=None)
        ctx.visit_block(tree.body)

    def note_error(self, exc: Exception, stmt: ast.stmt, fn: FunctionSummary) -> None:
        where = "the module body" if fn.is_module_body else fn.local_name
        what = type(stmt).__name__
        self.summary.errors.append(internal_error(exc, f"the {what} statement at line {stmt.lineno} in {where}"))

    # -- imports -------------------------------------------------------------------------
    def import_target(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".") if self.package else []
        if node.level > 1:
            parts = parts[: len(parts) - (node.level - 1)] if len(parts) >= node.level - 1 else []
        base = ".".join(parts)
        if node.module:
            return f"{base}.{node.module}" if base else node.module
        return base

    def bind_import(self, node: ast.Import | ast.ImportFrom, scope: _Scope, qual_prefix: str | None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    target, local = alias.name, alias.asname
                else:
                    target = local = alias.name.split(".")[0]
                self.summary.import_heads.add(alias.name.split(".")[0])
                self._bind(scope, local, NameRef(target), qual_prefix)
            return
        base = self.import_target(node)
        if base:
            self.summary.import_heads.add(base.split(".")[0])
        for alias in node.names:
            self.summary.import_heads.add((f"{base}.{alias.name}" if base else alias.name).split(".")[0])
            if alias.name == "*":
                if qual_prefix is not None and base not in self.summary.star_imports:
                    self.summary.star_imports.append(base)
                continue
            target = f"{base}.{alias.name}" if base else alias.name
            self._bind(scope, alias.asname or alias.name, NameRef(target), qual_prefix)

    def _bind(self, scope: _Scope, local: str, ref: Ref, qual_prefix: str | None) -> None:
        if qual_prefix is None:
            scope.names[local] = ref
        else:  # module level: the global phase resolves the variable
            self.summary.variables[f"{qual_prefix}.{local}"] = ref
            scope.names[local] = NameRef(f"{qual_prefix}.{local}")

    def expand(self, ref: Ref, depth: int = 0) -> Ref:
        """Replace this module's import bindings (``mod.asyncio`` -> ``asyncio``) so that
        well-known callables can be recognised by name within the file."""
        if ref is None or depth > 8:
            return ref
        if isinstance(ref, NameRef):
            bound = self.summary.variables.get(ref.name)
            if isinstance(bound, NameRef) and bound != ref:
                return self.expand(bound, depth + 1)
            return ref
        if isinstance(ref, AttrRef):
            base = self.expand(ref.base, depth + 1)
            return ref if base is ref.base else AttrRef(base, ref.attr)
        return ref

    # -- pre-binding: names usable before their definition line -----------------------
    def _prebind(self, body: list[ast.stmt], scope: _Scope, prefix: str, module_level: bool) -> None:
        for stmt in _flat_statements(body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.names[stmt.name] = NameRef(f"{prefix}.{stmt.name}")
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.bind_import(stmt, scope, prefix if module_level else None)
            elif module_level and isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        scope.names[target.id] = NameRef(f"{prefix}.{target.id}")


# Methods and builtins that only work on memory: a critical section made of them is short.
_MEMORY_METHODS = frozenset(
    {
        "get", "pop", "popitem", "popleft", "setdefault", "append", "appendleft", "extend", "insert", "remove",
        "discard", "add", "update", "clear", "copy", "keys", "values", "items", "index", "count", "__setitem__",
        "__getitem__", "__delitem__", "__contains__", "move_to_end",
    }
)
_MEMORY_FUNCTIONS = frozenset(
    {
        "len", "isinstance", "dict", "list", "set", "tuple", "frozenset", "min", "max", "id", "hash", "bool", "int",
        "float", "str", "abs", "next", "iter", "monotonic", "time", "perf_counter", "monotonic_ns", "time_ns",
    }
)
_BRIEF_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Pass, ast.Delete, ast.If, ast.Raise)


def _brief_body(body: list[ast.stmt]) -> bool:
    """A ``with lock:`` body that only reads and writes dicts, lists and counters: no loop, no
    other ``with``, no await, and no call but in-memory container methods and builtins."""
    if len(body) > 12:
        return False
    for stmt in body:
        if not isinstance(stmt, _BRIEF_STATEMENTS):
            return False
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                return False
            if isinstance(node, ast.stmt) and not isinstance(node, _BRIEF_STATEMENTS):
                return False
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute):
                    if func.attr not in _MEMORY_METHODS and func.attr not in _MEMORY_FUNCTIONS:
                        return False
                elif not (isinstance(func, ast.Name) and func.id in _MEMORY_FUNCTIONS):
                    return False
    return True


def _flat_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a block, looking into if/try/with blocks (not into defs)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)):
            yield from _flat_statements(stmt.body)
            yield from _flat_statements(getattr(stmt, "orelse", []))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":  # TryStar: 3.11+, same fields
            tried: ast.Try = stmt  # type: ignore[assignment]
            yield from _flat_statements(tried.body)
            for handler in tried.handlers:
                yield from _flat_statements(handler.body)
            yield from _flat_statements(tried.orelse)
            yield from _flat_statements(tried.finalbody)


def _is_startup_decorator(node: ast.expr, startup: Startup) -> bool:
    """``@app.on_event("startup")``: runs once before the app serves requests."""
    return (
        isinstance(node, ast.Call)
        and written_name(node.func).rpartition(".")[2] in startup.decorators
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in startup.events
    )


def _is_accessor(fn: FunctionSummary) -> bool:
    return any(n.endswith((".setter", ".deleter")) for n in fn.decorator_names)


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _is_stub_body(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring or ...
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Raise):
            exc = stmt.exc
            name = written_name(exc) if exc is not None else ""
            if name.endswith("NotImplementedError"):
                continue
        return False
    return True


class _Context:
    """Evaluates statements and expressions of one function body."""

    def __init__(self, ex: ModuleExtractor, fn: FunctionSummary, scope: _Scope, class_qualname: str | None) -> None:
        self.ex = ex
        self.fn = fn
        self.scope = scope
        self.class_qualname = class_qualname  # enclosing class, for self.x = ... attributes
        self.offloaded = False
        self.globals: set[str] = set()  # names declared `global` in this function
        self.lambda_owner: tuple[str, str] | None = None  # (qualname, local name) lambdas are named after
        self.yielded: list[Ref] = []  # what the function yields (a @contextmanager's value)
        self.spans: list[tuple[int, int]] = []  # (first, last) lines of the loops of this body, its own scope only
        self.foreign = 0  # > 0: evaluating code of another scope (a decorator, a default, an inline lambda body)

    # -- names ---------------------------------------------------------------------------
    def lookup(self, name: str) -> Ref:
        found, ref = self.scope.lookup(name)
        if found:
            return ref
        found, ref = self.ex.module_scope.lookup(name)
        if found:
            return ref
        if name in _BUILTIN_NAMES:
            return NameRef(f"builtins.{name}")
        return NameRef(f"{self.ex.module}.{name}")

    def bind(self, target: ast.expr, ref: Ref, value: ast.expr | None = None) -> None:
        if isinstance(target, ast.Name):
            if self.fn.is_module_body or target.id in self.globals:
                key = f"{self.ex.module}.{target.id}"
                # `except ImportError: yaml = None` must not erase what the import bound;
                # assignments in several branches make a union.
                previous = self.ex.summary.variables.get(key)
                if previous is None or ref is None:
                    self.ex.summary.variables[key] = ref if ref is not None else previous
                elif previous != ref:
                    self.ex.summary.variables[key] = _union(previous, ref)
            else:
                previous = self.scope.names.get(target.id)
                if _is_instantiation(previous) and _is_instantiation(ref) and previous != ref:
                    ref = _union(previous, ref)  # `if a: s = S3() else: s = Local()`
                self.scope.names[target.id] = ref
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) else None
            for i, element in enumerate(target.elts):
                if values is not None:
                    self.bind(element, self.ref_of_bound(values[i]), values[i])
                else:
                    self.bind(element, ElemRef(ref) if ref is not None else None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, SeqRef(ElemRef(ref)) if ref is not None else None)
        elif isinstance(target, ast.Attribute):
            self.eval(target.value)
            self.record_self_attr(target, ref)
        elif isinstance(target, ast.Subscript):
            self.eval(target.value)
            self.eval(target.slice)

    def field_default(self, node: ast.expr | None, ref: Ref) -> Ref:
        """``Field(default_factory=Store)``, ``field(default=x)``, ``PrivateAttr()``: the
        default's value, never an instance of the field helper."""
        if not (isinstance(node, ast.Call) and written_name(node.func).rpartition(".")[2] in self.ex.options.field_helpers):
            return ref
        for keyword in node.keywords:
            if keyword.arg == "default_factory" and isinstance(keyword.value, (ast.Name, ast.Attribute)):
                factory = _StaticRef(self).ref(keyword.value)
                return CallRef(factory) if factory is not None else None
            if keyword.arg == "default":
                return _StaticRef(self).ref(keyword.value)
        return None

    def ref_of_bound(self, node: ast.expr) -> Ref:
        """Ref of a tuple element already evaluated as part of the whole value (no re-recording)."""
        return _StaticRef(self).ref(node)

    def record_self_attr(self, target: ast.Attribute, ref: Ref) -> None:
        if self.class_qualname is None or ref is None:
            return
        if isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"):
            cls = self.ex.summary.classes.get(self.class_qualname)
            if cls is not None:  # assigned in several places (__init__, a setter): the union
                cls.attrs[target.attr] = _union(cls.attrs.get(target.attr), ref, canonical=True)

    # -- recording -----------------------------------------------------------------------
    def record(
        self,
        kind: str,
        ref: Ref,
        node: ast.expr | ast.stmt,
        awaited: bool = False,
        args: tuple[Ref, ...] = (),
        consts: Constants = (),
        fnargs: tuple[tuple[int | str, Ref], ...] = (),
        complete: bool = False,
        kwargs: tuple[tuple[str, Ref], ...] = (),
        brief: int = 0,
    ) -> None:
        if ref is None:
            return
        self.fn.calls.append(
            CallSite(
                kind=kind,
                ref=ref,
                line=node.lineno,
                col=node.col_offset,
                end_line=getattr(node, "end_lineno", None) or node.lineno,
                awaited=awaited,
                offloaded=self.offloaded,
                args=args,
                consts=consts,
                fnargs=fnargs,
                complete=complete,
                kwargs=kwargs,
                brief=brief,
            )
        )

    def constants(self, node: ast.Call, watched: bool) -> tuple[Constants, bool]:
        """(consts, complete) of a call. Boolean and number constants always; for a call a
        catalogue rule reads (``watched``), every argument: constants, ``None`` and strings,
        dotted flags as ``Symbolic("socket.SOCK_DGRAM")``, anything else as NOT_CONSTANT, and
        whether that is every argument (no ``*args``/``**kwargs``)."""
        if not watched:
            return _constants(node), False
        found: list[tuple[int | str, object]] = []
        complete = True
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                complete = False
                break
            found.append((i, self._argument_constant(arg)))
        for keyword in node.keywords:
            if keyword.arg is None:
                complete = False
                continue
            found.append((keyword.arg, self._argument_constant(keyword.value)))
        return tuple(found), complete

    def _argument_constant(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 100):
                return value
            return NOT_CONSTANT
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = node.operand.value
            return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else NOT_CONSTANT
        flags = self._flags(node)
        return Symbolic("|".join(flags)) if flags else NOT_CONSTANT

    def _flags(self, node: ast.expr) -> list[str]:
        """``socket.SOCK_DGRAM``, ``fcntl.LOCK_EX | fcntl.LOCK_NB``: dotted constants (the last
        part in capitals), as the module's imports spell them."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = self._flags(node.left), self._flags(node.right)
            return left + right if left and right else []
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(self.ex.expand(_StaticRef(self).ref(node)))
            if name and name.rpartition(".")[2].isupper():
                return [name]
        return []

    # -- statements ----------------------------------------------------------------------
    def visit_block(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.visit_stmt(stmt)

    def visit_stmt(self, stmt: ast.stmt) -> None:
        try:
            method = _STMT_METHODS.get(type(stmt))
            if method is not None:
                method(self, stmt)
            else:  # Raise, Assert, Delete, Match, Try, While, ...
                self._visit_children(stmt)
        except RecursionError:
            raise  # the file is too deep: analyze_file skips it whole, with that reason
        except Exception as exc:  # a bug in loopwarden costs this statement, not the file
            self.ex.note_error(exc, stmt, self.fn)

    def _visit_children(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.eval(child)
            elif isinstance(child, ast.stmt):
                self.visit_stmt(child)
            else:
                self._visit_children(child)

    def stmt_Expr(self, stmt: ast.Expr) -> None:
        self.eval(stmt.value)

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        if isinstance(stmt.value, ast.Lambda) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.bind(stmt.targets[0], self.define_lambda(stmt.targets[0].id, stmt.value))
            return
        ref = self.eval(stmt.value)
        for target in stmt.targets:
            self.bind(target, ref, stmt.value)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        value_ref = self.eval(stmt.value) if stmt.value is not None else None
        ann_ref = self.annotation(stmt.annotation)
        self.bind(stmt.target, _annotated(ann_ref, value_ref), None)

    def stmt_AugAssign(self, stmt: ast.AugAssign) -> None:
        self.eval(stmt.value)
        self.eval(stmt.target)

    def stmt_Return(self, stmt: ast.Return) -> None:
        if stmt.value is not None:
            ref = self.eval(stmt.value)
            if ref is not None and len(self.fn.returns) < 4:
                self.fn.returns.append(ref)

    def stmt_If(self, stmt: ast.If) -> None:
        if self.fn.is_module_body and _is_main_guard(stmt.test):
            self.ex.summary.main_refs.extend(main_guard_refs(self, stmt))
            return  # runs as a script, not at import
        self.eval(stmt.test)
        self.visit_block(stmt.body)
        self.visit_block(stmt.orelse)

    def _loop(self, first: int, last: int | None) -> None:
        if not self.foreign:
            self.spans.append((first, last or first))

    def stmt_While(self, stmt: ast.While) -> None:
        self._loop(stmt.body[0].lineno, stmt.end_lineno)
        self._visit_children(stmt)

    def stmt_For(self, stmt: ast.For) -> None:
        self._loop(stmt.body[0].lineno, stmt.end_lineno)
        iterable = self.eval(stmt.iter)
        self.record(CONSUME, iterable, stmt.iter)
        self.bind(stmt.target, IterRef(iterable) if iterable is not None else None)
        self.visit_block(stmt.body)
        self.visit_block(stmt.orelse)

    def stmt_AsyncFor(self, stmt: ast.AsyncFor) -> None:
        self._loop(stmt.body[0].lineno, stmt.end_lineno)
        iterable = self.eval(stmt.iter)
        self.bind(stmt.target, IterRef(iterable) if iterable is not None else None)
        self.visit_block(stmt.body)
        self.visit_block(stmt.orelse)

    def stmt_With(self, stmt: ast.With) -> None:
        brief = (stmt.end_lineno or stmt.lineno) if len(stmt.items) == 1 and _brief_body(stmt.body) else 0
        for item in stmt.items:
            ref = self.eval(item.context_expr)
            if ref is not None:
                self.record(ENTER, AttrRef(ref, "__enter__"), item.context_expr, brief=brief)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, ref)
        self.visit_block(stmt.body)

    def stmt_AsyncWith(self, stmt: ast.AsyncWith) -> None:
        for item in stmt.items:
            ref = self.eval(item.context_expr, awaited=True)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, ref)
        self.visit_block(stmt.body)

    def stmt_Import(self, stmt: ast.Import) -> None:
        self.ex.bind_import(stmt, self.scope, self.ex.module if self.fn.is_module_body else None)

    stmt_ImportFrom = stmt_Import

    def stmt_Global(self, stmt: ast.Global) -> None:
        # `global _store; _store = Store()` in a getter: the module variable gets that type.
        self.globals.update(stmt.names)

    def stmt_Pass(self, stmt: ast.stmt) -> None:
        return

    stmt_Nonlocal = stmt_Pass
    stmt_Break = stmt_Pass
    stmt_Continue = stmt_Pass

    def stmt_FunctionDef(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.define_function(stmt, class_qualname=None)

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, stmt: ast.ClassDef) -> None:
        self.define_class(stmt)

    # -- definitions ---------------------------------------------------------------------
    def _child_prefix(self) -> str:
        if self.fn.is_module_body:
            return self.ex.module
        return self.fn.qualname

    def _child_local(self, name: str) -> str:
        return name if self.fn.is_module_body else f"{self.fn.local_name}.{name}"

    def define_function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        class_qualname: str | None,
        prefix: str | None = None,
        local_prefix: str | None = None,
    ) -> FunctionSummary:
        qual_prefix = prefix if prefix is not None else self._child_prefix()
        local = f"{local_prefix}.{node.name}" if local_prefix else self._child_local(node.name)
        # Lambdas in decorators and defaults are named after this function, so that their
        # names do not depend on the order of the definitions around it.
        outer_owner, self.lambda_owner = self.lambda_owner, (f"{qual_prefix}.{node.name}", local)
        self.foreign += 1
        try:
            decorator_refs = tuple(self.eval(d) for d in node.decorator_list)
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self.eval(default)
        finally:
            self.lambda_owner = outer_owner
            self.foreign -= 1
        decorator_names = tuple(written_name(d) for d in node.decorator_list)
        dotted_decorators = {dotted(self.ex.expand(r)) for r in decorator_refs}
        qualname = f"{qual_prefix}.{node.name}"
        if qualname in self.ex.summary.functions:
            # A redefinition (two FastAPI routes named `handler`, a property setter): keep both.
            qualname = f"{qualname}@{node.lineno}"
        fn = FunctionSummary(
            qualname=qualname,
            local_name=local,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            line=node.lineno,
            col=node.col_offset,
            def_lines=tuple(sorted({d.lineno for d in node.decorator_list} | {node.lineno})),
            class_qualname=class_qualname,
            decorators=decorator_refs,
            decorator_names=decorator_names,
            is_property=bool(dotted_decorators & _PROPERTY_DECORATORS)
            or any(n.endswith(".setter") for n in decorator_names),
            is_abstract=bool(dotted_decorators & _ABSTRACT_DECORATORS) or _is_stub_body(node.body),
        )
        if node.returns is not None:
            ann = self.annotation(node.returns)
            if ann is not None:
                fn.returns.append(ann)
        self.ex.summary.functions[fn.qualname] = fn
        scope = _Scope(parent=None if self.fn.is_module_body else self.scope)
        self._bind_parameters(node, scope, class_qualname, decorator_names, fn.qualname)
        self.ex._prebind(node.body, scope, fn.qualname, module_level=False)
        inner = _Context(self.ex, fn, scope, class_qualname)
        inner.visit_block(node.body)
        if any(n.endswith("contextmanager") for n in decorator_names):
            fn.is_generator = False  # its body runs on `with`, like a call
            # `with cm() as p`: p is what the function yields (Iterator[Path] -> a Path).
            annotated: list[Ref] = [ElemRef(fn.returns[0])] if node.returns is not None and fn.returns else []
            fn.returns = annotated + inner.yielded
        options = self.ex.options
        fn.is_startup = any(_is_startup_decorator(d, options.startup) for d in node.decorator_list)
        fn.is_cached = any(n.rpartition(".")[2] in options.caching_decorators for n in decorator_names)
        fn.decorator_args = decorator_args(node)
        fn.loop_spans = tuple(sorted(set(inner.spans)))
        if not fn.is_async:
            fn.flag_returns, fn.raises_on_loop = _Preamble(inner, node).read()
        if class_qualname is None and not self.fn.is_module_body:
            self.scope.names[node.name] = NameRef(fn.qualname)
        return fn

    def _bind_parameters(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        scope: _Scope,
        class_qualname: str | None,
        decorator_names: tuple[str, ...],
        qualname: str,
    ) -> None:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        bound = class_qualname is not None and "staticmethod" not in decorator_names
        names = []
        for i, arg in enumerate([*positional, *args.kwonlyargs]):
            if not (bound and i == 0 and arg in positional):
                names.append(arg.arg)
            ref = self.annotation(arg.annotation) if arg.annotation is not None else None
            if ref is None:
                ref = ParamRef(qualname, i - 1 if bound else i)
            if i == 0 and class_qualname is not None and arg in positional:
                if "staticmethod" in decorator_names:
                    pass
                elif "classmethod" in decorator_names:
                    ref = NameRef(class_qualname)
                else:
                    ref = SelfRef(class_qualname)
            scope.names[arg.arg] = ref
        if args.vararg is not None:
            scope.names[args.vararg.arg] = None
        if args.kwarg is not None:
            scope.names[args.kwarg.arg] = None
        self.ex.summary.functions[qualname].params = tuple(names)

    def define_lambda(self, name: str, node: ast.Lambda) -> RefTuple:
        """``fn = lambda: work()``: a function of its own, so that ``to_thread(fn)`` offloads it."""
        if self.lambda_owner is not None:
            qualname, local = f"{self.lambda_owner[0]}.{name}", f"{self.lambda_owner[1]}.{name}"
        else:
            qualname, local = f"{self._child_prefix()}.{name}", self._child_local(name)
        if qualname in self.ex.summary.functions:
            qualname = f"{qualname}@{node.lineno}"
        fn = FunctionSummary(
            qualname=qualname,
            local_name=local,
            is_async=False,
            line=node.lineno,
            col=node.col_offset,
            def_lines=(node.lineno,),
            class_qualname=None,
        )
        self.ex.summary.functions[qualname] = fn
        scope = _Scope(parent=None if self.fn.is_module_body else self.scope)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            scope.names[arg.arg] = None
        inner = _Context(self.ex, fn, scope, None)
        result = inner.eval(node.body)
        if result is not None:
            fn.returns.append(result)
        return NameRef(qualname)

    def define_class(self, node: ast.ClassDef) -> None:
        self.foreign += 1
        try:
            bases = tuple(self._base(b) for b in node.bases)
            for keyword in node.keywords:
                self.eval(keyword.value)
            for decorator in node.decorator_list:
                self.eval(decorator)
        finally:
            self.foreign -= 1
        qualname = f"{self._child_prefix()}.{node.name}"
        local = self._child_local(node.name)
        cls = ClassSummary(qualname=qualname, local_name=local, line=node.lineno, bases=bases)
        self.ex.summary.classes[qualname] = cls
        if not self.fn.is_module_body:
            self.scope.names[node.name] = NameRef(qualname)
        # The class body runs where the class statement runs (import time at module level).
        body_ctx = _Context(self.ex, self.fn, _Scope(parent=self.scope), class_qualname=None)
        body_ctx.lambda_owner = (qualname, local)
        for stmt in node.body:
            try:
                self._class_statement(stmt, cls, qualname, local, body_ctx)
            except RecursionError:
                raise
            except Exception as exc:  # costs this statement of the class body only
                self.ex.note_error(exc, stmt, self.fn)

    def _base(self, node: ast.expr) -> Ref:
        """A base class: ``Repo[str]``, ``Generic[T]``, ``Protocol[T]`` name the class ``Repo``,
        ``Generic``, ``Protocol`` (the parameters only specialise it)."""
        if isinstance(node, ast.Subscript):
            self.eval(node.slice)
            return self.eval(node.value)
        return self.eval(node)

    def _class_statement(self, stmt: ast.stmt, cls: ClassSummary, qualname: str, local: str, body_ctx: _Context) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = self.define_function(stmt, class_qualname=qualname, prefix=qualname, local_prefix=local)
            if stmt.name not in cls.methods or not _is_accessor(fn):
                cls.methods[stmt.name] = fn.qualname  # the getter stays the property
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            value_ref = body_ctx.eval(stmt.value) if stmt.value is not None else None
            ann = self.annotation(stmt.annotation)
            value_ref = body_ctx.field_default(stmt.value, value_ref)
            cls.attrs[stmt.target.id] = _union(cls.attrs.get(stmt.target.id), _annotated(ann, value_ref), canonical=True)
        elif isinstance(stmt, ast.Assign):
            ref = body_ctx.field_default(stmt.value, body_ctx.eval(stmt.value))
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    cls.attrs[target.id] = _union(cls.attrs.get(target.id), ref, canonical=True)
        elif isinstance(stmt, ast.ClassDef):
            body_ctx.define_class(stmt)
        else:
            body_ctx.visit_stmt(stmt)

    # -- annotations ---------------------------------------------------------------------
    def annotation(self, node: ast.expr | None) -> Ref:
        """The ref of a value of the annotated type: ``Path`` -> call(name pathlib.Path)."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            return self.annotation(parsed)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _union(self.annotation(node.left), self.annotation(node.right))
        if isinstance(node, ast.Subscript):
            base = written_name(node.value).rpartition(".")[2]
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if not items:  # tuple[()]: the empty tuple
                return None
            if base == "Union":
                return _union(*(self.annotation(i) for i in items))
            if base in _UNWRAP_GENERICS:  # Annotated[X, ...], Final[X], ClassVar[X]: X
                return self.annotation(items[0] if base != "Coroutine" else items[-1])
            if base in _SEQUENCE_GENERICS:
                inner = self.annotation(items[0])
                return SeqRef(inner) if inner is not None else None
            if base in _MAPPING_GENERICS:  # dict[str, X]: d[key], d.get(key), d.values() give X
                inner = self.annotation(items[-1]) if len(items) == 2 else None
                return MapRef(inner) if inner is not None else None
            if base == "type":
                return _StaticRef(self).ref(items[0])
            if base in _OPAQUE_ANNOTATIONS:
                return None
            return self.annotation(node.value)  # a generic class: Repo[User] is a Repo
        if isinstance(node, (ast.Name, ast.Attribute)):
            ref = _StaticRef(self).ref(node)
            if ref is None or ref in (NameRef("builtins.None"),):
                return None
            name = dotted(self.ex.expand(ref)) or ""
            if name.startswith("builtins.") and name not in ("builtins.open",):
                return None  # str, int, dict...: nothing to resolve
            if name.rpartition(".")[2] in _OPAQUE_ANNOTATIONS and name.split(".")[0] in ("typing", "typing_extensions"):
                return None  # Any is unknown, not a type; bare Final/ClassVar say nothing of the type
            return CallRef(ref)
        return None

    # -- expressions ---------------------------------------------------------------------
    def eval(self, node: ast.expr | None, awaited: bool = False) -> Ref:
        if node is None:
            return None
        if isinstance(node, ast.Call):
            return self.expr_Call(node, awaited)
        method = _EXPR_METHODS.get(type(node))
        if method is not None:
            found: Ref = method(self, node)
            return found
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.eval(child)
            elif isinstance(child, ast.comprehension):
                self._comprehension(child)
        return None

    def expr_Name(self, node: ast.Name) -> Ref:
        return self.lookup(node.id)

    def expr_Constant(self, node: ast.Constant) -> Ref:
        # A string that names a module or class ("pkg.mod:Name", "pkg.mod.Name"): registries
        # load classes from such strings through importlib.import_module + getattr.
        if isinstance(node.value, str) and len(node.value) <= 200 and _IMPORT_PATH.match(node.value):
            return StrRef(node.value)
        return None

    def expr_Dict(self, node: ast.Dict) -> Ref:
        for key in node.keys:
            if key is not None:
                self.eval(key)
        refs = [self.eval(v) for v in node.values]
        strings = [r for r in refs if r is not None]
        if strings and len(strings) <= 32 and all(isinstance(r, StrRef) for r in strings):
            return MapRef(_union(*strings))  # {"s3": "plugins.s3:S3Store", ...}
        return None

    def expr_Attribute(self, node: ast.Attribute) -> Ref:
        base = self.eval(node.value)
        ref = AttrRef(base if base is not None else UnknownRef(), node.attr)
        # A project @property runs on attribute load; only instance-like bases can have one.
        if isinstance(node.ctx, ast.Load) and isinstance(base, (SelfRef, CallRef, AttrRef, ElemRef)):
            self.record(ATTR, ref, node)
        return ref

    def _callee(self, node: ast.expr) -> Ref:
        """The callee's ref, without recording a property access for ``obj.method``."""
        if isinstance(node, ast.Attribute):
            base = self.eval(node.value)
            return AttrRef(base if base is not None else UnknownRef(), node.attr)
        return self.eval(node)

    def expr_Await(self, node: ast.Await) -> Ref:
        return self.eval(node.value, awaited=True)

    def expr_Call(self, node: ast.Call, awaited: bool = False) -> Ref:
        callee = self._callee(node.func)
        if callee == NameRef("builtins.super") and self.class_qualname is not None:
            return SuperRef(self.class_qualname)
        name = dotted(self.ex.expand(callee))
        canonical = self._canonical(name) if name else None
        offload_arg = self._offload_arg(canonical, node.func)
        if offload_arg is not None and len(node.args) > offload_arg:
            callable_ref = self._offload_call(node, canonical or written_name(node.func), offload_arg)
            return OffResRef(callable_ref) if callable_ref is not None else None
        runner = _thread_runner(canonical, node.func, self.ex.options)
        arg_refs = [self._argument(a, callee, i, canonical, runs_elsewhere=runner is not None and runner[0] == i) for i, a in enumerate(node.args)]
        fnargs: list[tuple[int | str, Ref]] = [(i, r) for i, (a, r) in enumerate(zip(node.args, arg_refs, strict=True)) if _may_be_function(a, r)]
        watched = written_name(node.func).rpartition(".")[2] in self.ex.options.watched or (canonical or "") in self.ex.options.variants
        kw_refs: list[tuple[str, Ref]] = []
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Lambda) and canonical in self.ex.options.iteration.inline_callers:
                self._inline(keyword.value.body)  # sorted(items, key=lambda p: p.stat().st_mtime)
            elif isinstance(keyword.value, ast.Lambda):
                elsewhere = runner is not None and keyword.arg is not None and keyword.arg == runner[1]
                self._argument(keyword.value, callee, -1, canonical, runs_elsewhere=elsewhere)
            else:
                value = self.eval(keyword.value)
                if watched and keyword.arg is not None and value is not None:
                    kw_refs.append((keyword.arg, value))
                if keyword.arg is not None and _may_be_function(keyword.value, value):
                    fnargs.append((keyword.arg, value))
                    if keyword.arg == "key" and canonical in self.ex.options.iteration.inline_callers:
                        self.record(CALL, value, keyword.value)  # sorted(paths, key=modified_time)
            if keyword.arg in self.ex.options.startup.keywords:
                self._startup_callables(keyword.value)
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in self.ex.options.startup.registrars
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in self.ex.options.startup.events
        ):
            self._startup_callables(node.args[1])
        if canonical in self.ex.options.iteration.function_first and fnargs and fnargs[0][0] == 0:
            self.record(CALL, fnargs[0][1], node.args[0])  # map(load, paths): load runs here
        consts, complete = self.constants(node, watched)
        self.record(
            CALL,
            callee,
            node,
            awaited=awaited,
            args=tuple(arg_refs[:2]),
            consts=consts,
            fnargs=tuple(fnargs),
            complete=complete,
            kwargs=tuple(kw_refs),
        )
        self._note_container_item(node, arg_refs)
        if isinstance(node.func, ast.Attribute) and node.func.attr in self.ex.options.callback_methods:
            self._loop_callback(node, self.ex.options.callback_methods[node.func.attr])
        if canonical in self.ex.options.iteration.consumers and node.args and not isinstance(node.args[0], ast.Starred):
            self.record(CONSUME, arg_refs[0], node.args[0])
        dynamic = _dynamic_lookup(node, canonical, arg_refs)
        if dynamic is not None:
            if isinstance(dynamic, NameRef):  # importlib.import_module("pkg.mod"): an import
                self.ex.summary.import_heads.add(dynamic.name.split(".")[0])
            return dynamic
        result = _call_result(callee, canonical, arg_refs, self.ex.options.item_preserving)
        variants = self.ex.options.variants.get(canonical or "")
        if variants and result is not None:
            return _variant(result, variants, consts, complete, arg_refs, dict(kw_refs))
        return result

    def returned_call(self, node: ast.Call) -> Ref:
        """The ref of a returned call, without recording anything again: an offload
        (``asyncio.to_thread(f)``) as its result, any other call as ``CallRef(callee)``."""
        callee = _StaticRef(self).ref(node.func)
        name = dotted(self.ex.expand(callee))
        canonical = self._canonical(name) if name else None
        if self._offload_arg(canonical, node.func) is not None:
            return OffResRef(None)
        return CallRef(callee) if callee is not None else None

    def _note_container_item(self, node: ast.Call, arg_refs: list[Ref]) -> None:
        """``futs = set(); futs.add(run_coroutine_threadsafe(...))``: the set holds futures."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in _ADDERS and isinstance(func.value, ast.Name)):
            return
        index = _ADDERS[func.attr]
        name = func.value.id
        if self.fn.is_module_body or len(arg_refs) <= index or arg_refs[index] is None or name not in self.scope.names:
            return
        previous = self.scope.names[name]
        item = arg_refs[index]
        if isinstance(previous, SeqRef):
            item = _union(previous.item, item) if previous.item != item else item
        elif previous is not None and not (isinstance(previous, CallRef) and dotted(self.ex.expand(previous.callee)) in _EMPTY_CONTAINERS):
            return
        self.scope.names[name] = SeqRef(item)

    def _argument(self, node: ast.expr, callee: Ref, index: int, canonical: str | None, runs_elsewhere: bool = False) -> Ref:
        """A lambda handed to a call that is not a builtin iterator helper becomes a function
        of its own, assumed to run here, unless the callee turns out to be an offload wrapper
        of the project (``await run_blocking(lambda: ...)``) or starts a thread with it
        (``Thread(target=lambda: ...)``, ``executor.submit(lambda: ...)``): then it runs there."""
        if not isinstance(node, ast.Lambda) or callee is None or canonical == "functools.partial":
            return self.eval(node)
        if canonical in self.ex.options.iteration.inline_callers:  # sorted(key=lambda ...): runs right here
            self._inline(node.body)
            return None
        ref = self.define_lambda("<lambda>", node)
        if runs_elsewhere:
            return ref
        self.fn.calls.append(
            CallSite(CALL, ref, node.lineno, node.col_offset, node.end_lineno or node.lineno, offloaded=self.offloaded, via=(callee, index))
        )
        return ref

    def _startup_callables(self, node: ast.expr) -> None:
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        for item in items:
            if isinstance(item, (ast.Name, ast.Attribute)):
                ref = _StaticRef(self).ref(item)
                if ref is not None:
                    self.ex.summary.startup_refs.append(ref)

    def _loop_callback(self, node: ast.Call, index: int) -> None:
        """``loop.call_soon(cb)``: cb runs on the loop, as if called here."""
        if len(node.args) <= index:
            return
        target = node.args[index]
        if isinstance(target, ast.Call) and written_name(target.func).rpartition(".")[2] == "partial" and target.args:
            target = target.args[0]
        if isinstance(target, (ast.Name, ast.Attribute)):
            self.record(CALL, _StaticRef(self).ref(target), target)

    def _canonical(self, name: str) -> str:
        aliases = self.ex.options.aliases
        if name in aliases:
            return aliases[name]
        head = name
        while "." in head:
            head = head.rpartition(".")[0]
            if head in aliases:
                return aliases[head] + name[len(head):]
        return name

    def _offload_arg(self, canonical: str | None, func: ast.expr) -> int | None:
        options = self.ex.options
        if canonical is not None and canonical in options.offload_names:
            return options.offload_names[canonical]
        if isinstance(func, ast.Attribute) and func.attr in options.offload_methods:
            return options.offload_methods[func.attr]
        return None

    def _offload_call(self, node: ast.Call, wrapper: str, index: int) -> Ref:
        for arg in node.args[:index]:
            self.eval(arg)
        rest = list(node.args[index:])
        target = rest.pop(0)
        # ctx.run / copy_context().run: the real callable is the next argument.
        if isinstance(target, ast.Attribute) and target.attr == "run" and rest:
            self.eval(target.value)
            target = rest.pop(0)
        callable_ref = self._offload_callable(target)
        for arg in rest:
            self.eval(arg)
        for keyword in node.keywords:
            self.eval(keyword.value)
        self.ex.summary.offloads.append(
            OffloadSite(
                wrapper=wrapper,
                line=node.lineno,
                col=node.col_offset,
                end_line=node.end_lineno or node.lineno,
                end_col=node.end_col_offset or 0,
                callable_ref=callable_ref,
                callable_span=(target.lineno, target.col_offset, target.end_lineno or target.lineno, target.end_col_offset or 0),
                function=self.fn.qualname,
            )
        )
        return callable_ref

    def _offload_callable(self, target: ast.expr) -> Ref:
        if isinstance(target, ast.Lambda):
            was, self.offloaded = self.offloaded, True
            try:
                self._inline(target.body)
            finally:
                self.offloaded = was
            return None
        if isinstance(target, ast.Call) and written_name(target.func).rpartition(".")[2] == "partial" and target.args:
            inner = self._offload_callable(target.args[0])
            for arg in target.args[1:]:
                self.eval(arg)
            for keyword in target.keywords:
                self.eval(keyword.value)
            return inner
        ref = self._callee(target) if isinstance(target, ast.Attribute) else self.eval(target)
        was, self.offloaded = self.offloaded, True
        try:
            self.record(OFFLOAD, ref, target)
        finally:
            self.offloaded = was
        return ref

    def expr_BinOp(self, node: ast.BinOp) -> Ref:
        left = self.eval(node.left)
        self.eval(node.right)
        if isinstance(node.op, ast.Div) and left is not None:
            return CallRef(AttrRef(left, "__truediv__"))
        return None

    def expr_BoolOp(self, node: ast.BoolOp) -> Ref:
        return _union(*(self.eval(v) for v in node.values))

    def expr_IfExp(self, node: ast.IfExp) -> Ref:
        self.eval(node.test)
        return _union(self.eval(node.body), self.eval(node.orelse))

    def expr_NamedExpr(self, node: ast.NamedExpr) -> Ref:
        ref = self.eval(node.value)
        self.bind(node.target, ref)
        return ref

    def expr_Subscript(self, node: ast.Subscript) -> Ref:
        value = self.eval(node.value)
        self.eval(node.slice)
        return ElemRef(value) if value is not None else None

    def expr_Starred(self, node: ast.Starred) -> Ref:
        ref = self.eval(node.value)
        self.record(CONSUME, ref, node.value)
        return None

    def expr_Yield(self, node: ast.Yield) -> Ref:
        self.fn.is_generator = not self.fn.is_async and not self.fn.is_module_body
        ref = self.eval(node.value)
        if ref is not None and len(self.yielded) < 4:
            self.yielded.append(ref)
        return None

    def expr_YieldFrom(self, node: ast.YieldFrom) -> Ref:
        self.fn.is_generator = not self.fn.is_async and not self.fn.is_module_body
        ref = self.eval(node.value)
        self.record(CONSUME, ref, node.value)
        return None

    def expr_List(self, node: ast.List) -> Ref:
        refs = [self.eval(e) for e in node.elts]
        first = next((r for r in refs if r is not None), None)
        if isinstance(first, StrRef) and len(refs) <= 32 and all(r is None or isinstance(r, StrRef) for r in refs):
            return SeqRef(_union(*refs))  # names of plugin classes
        if first is not None:
            return SeqRef(first)
        return CallRef(NameRef("builtins.list")) if not node.elts else None  # `[]`: items come later

    expr_Tuple = expr_List
    expr_Set = expr_List

    def expr_Lambda(self, node: ast.Lambda) -> Ref:
        # Returned, stored in a container, a default value: it runs when something calls it.
        return self.define_lambda("<lambda>", node)

    def _comprehension(self, generator: ast.comprehension) -> None:
        iterable = self.eval(generator.iter)
        if not generator.is_async:
            self.record(CONSUME, iterable, generator.iter)
        self.bind(generator.target, IterRef(iterable) if iterable is not None else None)
        for condition in generator.ifs:
            self.eval(condition)

    def _inline(self, body: ast.expr) -> None:
        """A lambda's body, evaluated here (its calls run here or in an offload) but not one
        of this function's own loops."""
        self.foreign += 1
        try:
            self.eval(body)
        finally:
            self.foreign -= 1

    def _comp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Ref:
        self._loop(node.lineno, node.end_lineno)
        for generator in node.generators:
            self._comprehension(generator)
        if isinstance(node, ast.DictComp):
            self.eval(node.key)
            self.eval(node.value)
            return None
        element = self.eval(node.elt)
        return SeqRef(element) if element is not None else None

    expr_ListComp = _comp
    expr_SetComp = _comp
    expr_GeneratorExp = _comp
    expr_DictComp = _comp


def _dispatch_table(prefix: str) -> dict[type[ast.AST], Callable[..., Any]]:
    """AST class -> the ``_Context`` method named ``prefix`` + the class's name, looked up once
    (not a ``getattr`` of a formatted name per node)."""
    table: dict[type[ast.AST], Callable[..., Any]] = {}
    for name in dir(ast):
        cls = getattr(ast, name)
        if isinstance(cls, type) and issubclass(cls, ast.AST):
            method = getattr(_Context, f"{prefix}{cls.__name__}", None)
            if method is not None:
                table[cls] = method
    return table


_STMT_METHODS = _dispatch_table("stmt_")
_EXPR_METHODS = _dispatch_table("expr_")


class _StaticRef:
    """Refs of simple expressions without recording anything (annotations, re-bound tuples)."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx

    def ref(self, node: ast.expr) -> Ref:
        if isinstance(node, ast.Name):
            return self.ctx.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.ref(node.value)
            return AttrRef(base, node.attr) if base is not None else None
        if isinstance(node, ast.Call):
            callee = self.ref(node.func)
            return CallRef(callee) if callee is not None else None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return self.ref(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return None
        return None




def _thread_runner(canonical: str | None, func: ast.expr, options: ExtractOptions) -> tuple[int, str] | None:
    """(position, keyword) of the callable a call runs on another thread ([[thread_runner]])."""
    if canonical in options.thread_runners:
        return options.thread_runners[canonical]
    if isinstance(func, ast.Attribute) and func.attr in options.thread_runner_methods:
        return options.thread_runner_methods[func.attr]
    return None


def _may_be_function(node: ast.expr, ref: Ref) -> bool:
    """An argument that may be a function passed as a value (``factory=build_store``,
    ``callback=self.done``): a plain name or attribute bound to a name, a method or a
    parameter; or a string naming a class to load (``load_class("plugins.s3:S3Store")``)."""
    if ref is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(ref, StrRef)
    if isinstance(node, ast.Subscript) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"):
        return isinstance(ref, (ElemRef, CallRef))  # REGISTRY[kind], REGISTRY.get(kind): a string, perhaps
    return isinstance(node, (ast.Name, ast.Attribute)) and isinstance(ref, (NameRef, AttrRef, ParamRef))


def _dynamic_lookup(node: ast.Call, canonical: str | None, arg_refs: list[Ref]) -> Ref:
    """``importlib.import_module("pkg.mod")`` is the module ``pkg.mod``; ``getattr(obj, "name")``
    is ``obj.name`` (registries that load classes by constant names)."""
    args = node.args
    if canonical == "importlib.import_module" and len(args) == 1 and isinstance(args[0], ast.Constant):
        name = args[0].value
        if isinstance(name, str) and name and not name.startswith(".") and all(p.isidentifier() for p in name.split(".")):
            return NameRef(name)
    if canonical == "importlib.import_module" and len(args) == 1 and arg_refs[0] is not None:
        return DynModRef(arg_refs[0])  # a module named by a string that flows here
    if canonical == "builtins.getattr" and len(args) >= 2 and isinstance(args[1], ast.Constant) and arg_refs[0] is not None:
        attr = args[1].value
        if isinstance(attr, str) and attr.isidentifier():
            return AttrRef(arg_refs[0], attr)
    if canonical == "builtins.getattr" and len(args) >= 2 and arg_refs[1] is not None:
        return DynAttrRef(arg_refs[0], arg_refs[1])  # getattr(module, class_name)
    return None


def _constants(node: ast.Call) -> Constants:
    """Boolean and number constants among a call's arguments: ``join(timeout=0)`` returns at once."""
    found: list[tuple[int | str, object]] = [
        (i, a.value) for i, a in enumerate(node.args) if isinstance(a, ast.Constant) and isinstance(a.value, (bool, int, float))
    ]
    found += [
        (k.arg, k.value.value)
        for k in node.keywords
        if k.arg is not None and isinstance(k.value, ast.Constant) and isinstance(k.value.value, (bool, int, float))
    ]
    return tuple(found)


def _call_result(callee: Ref, canonical: str | None, arg_refs: list[Ref], item_preserving: dict[str, int]) -> Ref:
    if canonical == "functools.partial" and arg_refs and arg_refs[0] is not None:
        return arg_refs[0]  # calling the partial calls the function
    index = item_preserving.get(canonical or "")
    if index is not None and len(arg_refs) > index and arg_refs[index] is not None:
        return SeqRef(ElemRef(arg_refs[index]))  # sorted(p.glob("*")) holds Paths
    return CallRef(callee) if callee is not None else None


def _annotated(annotation: Ref, value: Ref) -> Ref:
    """An annotated assignment's value: the annotation's type, unless the value is a variant
    its call's arguments decided (``q: queue.Queue = queue.Queue()`` is an unbounded queue)."""
    if isinstance(value, VariantRef):
        return value
    return annotation if annotation is not None else value


_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|(?:\.[A-Za-z_]\w*))$")
_LOOP_GETTERS = frozenset({"asyncio.get_running_loop", "asyncio._get_running_loop", "asyncio.events._get_running_loop", "asyncio.get_event_loop"})
_RUNNING_LOOP_GETTERS = _LOOP_GETTERS - {"asyncio.get_event_loop"}  # these fail or give None without a running loop
_KWARG_GETTERS = frozenset({"get", "pop"})


class _Preamble:
    """What a sync function does before anything else, read from its first statements:
    ``if flag: return self._async_impl(...)`` (called with ``flag=True`` it only makes a
    coroutine), or a check that raises when an event loop is running (it never blocks one).
    Only statements without other calls may come before."""

    def __init__(self, ctx: _Context, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.ctx = ctx
        self.node = node
        args = node.args
        self.params = set(ctx.fn.params)
        self.kwargs = args.kwarg.arg if args.kwarg is not None else None
        self.flags: dict[str, str] = {}  # local name -> the parameter or keyword it holds
        self.loops: dict[str, bool] = {}  # local name -> holds a loop (True: only when one runs)

    def read(self) -> tuple[tuple[tuple[str, int, Ref], ...], bool]:
        found: list[tuple[str, int, Ref]] = []
        for position, stmt in enumerate(self.node.body[:12]):
            if position == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            if isinstance(stmt, ast.If):
                if self._raises_on_loop(stmt):
                    return tuple(found), True
                flag = self._flag(stmt.test)
                if flag is not None and not self._calls(stmt.test):
                    returned = self._returned(stmt.body)
                    if returned is not None:
                        index = self.ctx.fn.params.index(flag) if flag in self.params else -1
                        found.append((flag, index, returned))
                        if not stmt.orelse:
                            continue
                if self._calls(stmt):
                    break
                continue
            if isinstance(stmt, ast.Try) and self._try_raises_on_loop(stmt):
                return tuple(found), True
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                flag = self._flag(stmt.value)
                if flag is not None:
                    self.flags[name] = flag
                    continue
                getter = self._loop_getter(stmt.value)
                if getter is not None:
                    self.loops[name] = getter in _RUNNING_LOOP_GETTERS
                    continue
            if self._calls(stmt):
                break
        return tuple(found), False

    def _calls(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Call) for n in ast.walk(node))

    def _name(self, node: ast.expr) -> str:
        return dotted(self.ctx.ex.expand(_StaticRef(self.ctx).ref(node))) or ""

    def _flag(self, test: ast.expr) -> str | None:
        """``flag``, ``flag is True``, ``flag == True``, ``kwargs.get("flag")``, ``kwargs.get("flag", False) is True``."""
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq)):
            right = test.comparators[0]
            if isinstance(right, ast.Constant) and right.value is True:
                return self._flag(test.left)
            return None
        if isinstance(test, ast.Name):
            if test.id in self.flags:
                return self.flags[test.id]
            return test.id if test.id in self.params else None
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Attribute)
            and test.func.attr in _KWARG_GETTERS
            and isinstance(test.func.value, ast.Name)
            and test.func.value.id == self.kwargs
            and test.args
            and isinstance(test.args[0], ast.Constant)
            and isinstance(test.args[0].value, str)
            and all(isinstance(a, ast.Constant) for a in test.args[1:])
        ):
            return test.args[0].value
        if isinstance(test, ast.Subscript) and isinstance(test.value, ast.Name) and test.value.id == self.kwargs:
            key = test.slice
            return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        return None

    def _returned(self, body: list[ast.stmt]) -> Ref:
        """``return <call>`` as the branch's first statement (after a docstring-free
        preamble without calls): the ref of the call, made on the caller's thread."""
        for stmt in body:
            if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Call):
                return self.ctx.returned_call(stmt.value)
            if self._calls(stmt):
                return None
        return None

    def _loop_getter(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and not node.args:
            name = self._name(node.func)
            if name in _LOOP_GETTERS:
                return name
        return None

    def _running(self, test: ast.expr) -> bool:
        """A test that holds when an event loop is running in this thread."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return any(self._running(v) for v in test.values) and all(self._running(v) or self._loop_value(v) for v in test.values)
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "is_running" and not test.args:
            return self._loop_value(test.func.value)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.IsNot):
            right = test.comparators[0]
            return isinstance(right, ast.Constant) and right.value is None and self._running_loop(test.left)
        return self._running_loop(test)

    def _loop_value(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.loops
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.IsNot):
            return self._loop_value(node.left)
        return self._loop_getter(node) is not None

    def _running_loop(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return self.loops.get(node.id, False)
        getter = self._loop_getter(node)
        return getter is not None and getter in _RUNNING_LOOP_GETTERS and getter != "asyncio.get_running_loop"

    def _raises_on_loop(self, stmt: ast.If) -> bool:
        return bool(stmt.body) and isinstance(stmt.body[0], ast.Raise) and self._running(stmt.test) and not self._calls_besides_loop(stmt.test)

    def _calls_besides_loop(self, test: ast.expr) -> bool:
        for node in ast.walk(test):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr == "is_running":
                    continue
                if self._loop_getter(node) is None:
                    return True
        return False

    def _try_raises_on_loop(self, stmt: ast.Try) -> bool:
        """``try: asyncio.get_running_loop() except RuntimeError: ... else: raise ...``, or the
        same that keeps the loop (``loop = ...; except RuntimeError: loop = None``) for a later
        ``if loop: raise``."""
        if len(stmt.body) != 1 or stmt.finalbody:
            return False
        only = stmt.body[0]
        value = only.value if isinstance(only, (ast.Expr, ast.Assign)) else None
        if value is None or self._loop_getter(value) != "asyncio.get_running_loop":
            return False
        if not stmt.handlers or any(self._calls(h) for h in stmt.handlers):
            return False
        if stmt.orelse:
            return isinstance(stmt.orelse[0], ast.Raise)
        if isinstance(only, ast.Assign) and len(only.targets) == 1 and isinstance(only.targets[0], ast.Name):
            self.loops[only.targets[0].id] = True  # bound only when a loop runs (else None)
        return False


def _variant(result: Ref, variants: tuple[Variant, ...], consts: Constants, complete: bool, arg_refs: list[Ref], kw_refs: dict[str, Ref]) -> Ref:
    """``socket.socket(AF_INET, SOCK_DGRAM)``: the result is the ``datagram`` variant of a
    socket; ``csv.writer(buf)``: the ``memory`` variant when ``buf`` turns out to be an
    in-memory buffer (decided by the whole-program phase)."""
    for variant in variants:
        rule = variant.rule
        if variant.memory:
            argument = None
            if rule.keyword is not None:
                argument = kw_refs.get(rule.keyword)
            if argument is None and rule.position is not None and rule.position < len(arg_refs):
                argument = arg_refs[rule.position]
            if argument is not None:
                return VariantRef(result, argument, variant.name)
        elif rule.matches(consts, complete):
            return VariantRef(result, None, variant.name)
    return result


def _is_instantiation(ref: Ref) -> bool:
    if ref is None:
        return False
    if isinstance(ref, UnionRef):
        return all(_is_instantiation(r) for r in ref.members)
    if isinstance(ref, NameRef):  # `r = Google` in one branch, `r = Shell` in another
        return True
    return isinstance(ref, CallRef) and isinstance(ref.callee, NameRef)


def _union(*refs: Ref, canonical: bool = False) -> Ref:
    """One of several values, flattened, without repeats, in statement order; in a canonical
    order when the parts come from definitions that may come in any order (an attribute
    assigned in several methods), so that the union does not depend on that order."""
    members: list[RefTuple] = []
    for ref in refs:
        if ref is None:
            continue
        for member in ref.members if isinstance(ref, UnionRef) else (ref,):
            if member not in members:
                members.append(member)
    if not members:
        return None
    if len(members) == 1:
        return members[0]
    return UnionRef(tuple(sorted(members, key=repr)) if canonical else tuple(members))


def decorator_args(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str | None, ...]:
    """The first string argument of each decorator (``@app.get("/notes")`` -> "/notes")."""
    found: list[str | None] = []
    for decorator in node.decorator_list:
        first = decorator.args[0] if isinstance(decorator, ast.Call) and decorator.args else None
        found.append(first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None)
    return tuple(found)


def main_guard_refs(ctx: _Context, stmt: ast.If) -> list[Ref]:
    """Functions called under ``if __name__ == "__main__":`` (``asyncio.run(main())`` -> main):
    script entry points, run once, not at import."""
    refs: list[Ref] = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            ref = _StaticRef(ctx).ref(node.func)
            if ref is not None:
                refs.append(ref)
    return refs


def extract_module(tree: ast.Module, summary: ModuleSummary, options: ExtractOptions, package: str) -> ModuleSummary:
    clear_interned()  # one object per distinct ref within the summary, memory bounded across files
    ModuleExtractor(summary, options, package).run(tree)
    return summary
