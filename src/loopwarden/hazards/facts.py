"""What the per-file summaries do not record, computed from the source of the modules the
hazard rules need: the syntax tree of each function (by the qualname the index uses), the
``async with`` blocks around an offload, and the reads and writes of shared resources.

Each module is parsed at most once per scan (``ModuleFacts`` caches it); nothing here
modifies a file."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from loopwarden.static.index import ProgramIndex
from loopwarden.static.refs import AttrRef, NameRef, Ref, SelfRef
from loopwarden.static.summary import ModuleSummary
from loopwarden.static.values import ExtInstValue, InstValue

READ, WRITE = "read", "write"

# Methods that change the object they are called on (a settings singleton, a module-level dict).
_WRITE_METHODS = frozenset(
    {
        "save", "write", "dump", "store", "put", "update", "set", "setdefault", "append", "extend",
        "insert", "pop", "popitem", "remove", "discard", "add", "clear", "commit", "flush", "persist",
    }
)
_SAVE_METHODS = frozenset({"save", "persist", "commit", "flush", "dump", "write", "store", "sync"})
_PATH_READS = frozenset({"read_text", "read_bytes"})
_PATH_WRITES = frozenset({"write_text", "write_bytes", "unlink", "touch"})
_MOVES = frozenset({"os.replace", "os.rename", "shutil.move", "shutil.copy", "shutil.copy2", "shutil.copyfile"})
_REMOVES = frozenset({"os.remove", "os.unlink"})
_OPENS = frozenset({"open", "builtins.open", "io.open", "codecs.open"})
_PATH_WRAPPERS = frozenset({"Path", "pathlib.Path", "PurePath", "pathlib.PurePath", "str", "os.fspath", "os.path.abspath", "os.path.realpath"})
_MUTABLE_CALLS = frozenset({"dict", "list", "set", "collections.defaultdict", "collections.OrderedDict", "collections.Counter", "defaultdict", "OrderedDict", "Counter"})
_THREAD_LOCKS = frozenset(
    {
        "threading.Lock", "threading.RLock", "threading.Semaphore", "threading.BoundedSemaphore", "threading.Condition",
        "multiprocessing.Lock", "multiprocessing.RLock", "filelock.FileLock", "filelock.SoftFileLock",
    }
)
_FILE_LOCK_CALLS = frozenset({"fcntl.flock", "fcntl.lockf", "msvcrt.locking"})


@dataclass(frozen=True)
class Access:
    """One read or write of a shared resource in a function's own body."""

    resource: str  # "pkg.config.CONFIG_PATH", "pkg.store.Store.path", "'settings.json'"
    kind: str  # READ or WRITE
    line: int
    col: int


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*(:[^=]*)?=(?!=)")


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).splitlines(keepends=True)
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError):
        return []


def _parse_text(text: str, path: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name, for the module's top-level imports."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class ModuleFacts:
    """The source of one module, parsed only as far as needed: a function's own lines (its
    indented block) when a function is asked for, the top-level imports and assignments by
    their lines, and the whole file only when a block cannot be parsed on its own."""

    def __init__(self, summary: ModuleSummary, path: str) -> None:
        self.summary = summary
        self.path = path
        self.lines = _read_lines(path)
        self._tree: ast.Module | None | bool = False  # False: not parsed yet
        self._functions: dict[tuple[int, int], ast.AST | None] = {}
        self._top: tuple[dict[str, str], dict[str, ast.expr]] | None = None
        self.self_values: dict[tuple[int, str], ast.expr | None] = {}  # (class line, attr) -> value

    @property
    def tree(self) -> ast.Module | None:
        if self._tree is False:
            self._tree = _parse_text("".join(self.lines), self.path) if self.lines else None
        return self._tree  # type: ignore[return-value]

    def _top_level(self) -> tuple[dict[str, str], dict[str, ast.expr]]:
        """Top-level imports and ``NAME = value`` statements, each parsed from its own lines."""
        if self._top is None:
            imports: dict[str, str] = {}
            values: dict[str, ast.expr] = {}
            statements = []
            for i, line in enumerate(self.lines):
                if line[:1].isalpha() or line[:1] == "_":
                    head = line.split(None, 1)[0] if line.split() else ""
                    if head in ("import", "from") or _ASSIGNMENT.match(line):
                        statements.append(self._statement(i))
            module = ast.Module(body=[s for s in statements if s is not None], type_ignores=[])
            imports = _imports(module)
            for node in module.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            values[target.id] = node.value
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                    values[node.target.id] = node.value
            self._top = (imports, values)
        return self._top

    def _statement(self, start: int) -> ast.stmt | None:
        """The statement starting at line index ``start`` (continued over up to 40 lines)."""
        for end in range(start + 1, min(start + 41, len(self.lines) + 1)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse("".join(self.lines[start:end]))
            except SyntaxError:
                continue
            except (ValueError, RecursionError, MemoryError):
                return None
            if len(tree.body) != 1:
                return None
            ast.increment_lineno(tree.body[0], start)
            return tree.body[0]
        return None

    @property
    def imports(self) -> dict[str, str]:
        return self._top_level()[0]

    @property
    def module_values(self) -> dict[str, ast.expr]:
        return self._top_level()[1]

    def function(self, line: int, col: int) -> ast.AST | None:
        """The ``def`` (or ``async def``) at ``line``/``col``, parsed from its own block."""
        key = (line, col)
        if key not in self._functions:
            node = self._block(line, col)
            if node is None and self.tree is not None:  # the block alone does not parse: use the file
                node = next(
                    (n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and (n.lineno, n.col_offset) == key),
                    None,
                )
            self._functions[key] = node
        return self._functions[key]

    def _block(self, line: int, col: int) -> ast.AST | None:
        lines = self.lines
        if not 0 < line <= len(lines) or lines[line - 1][:col].strip():
            return None
        end = line - 1  # past the header first: its continuation lines may sit at any indentation
        depth = 0
        while end < len(lines) and end < line + 200:
            code = lines[end].split("#", 1)[0]
            depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
            end += 1
            if depth <= 0 and code.rstrip().endswith(":"):
                break
        while end < len(lines):
            text = lines[end]
            stripped = text.strip()
            if stripped and not stripped.startswith("#") and len(text) - len(text.lstrip()) <= col:
                break
            end += 1
        block = [(text[col:] if len(text) > col else "\n") if not text[:col].strip() else None for text in lines[line - 1 : end]]
        if any(text is None for text in block):
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse("".join(block))  # type: ignore[arg-type]
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        node = tree.body[0]
        shifts = (("lineno", line - 1), ("end_lineno", line - 1), ("col_offset", col), ("end_col_offset", col))
        for sub in ast.walk(node):  # every line of the block lost ``col`` characters
            for attr, shift in shifts:
                value = getattr(sub, attr, None)
                if value is not None:
                    setattr(sub, attr, value + shift)
        return node

    def call_at(self, function: ast.AST | None, line: int, col: int) -> ast.Call | None:
        for node in ast.walk(function) if function is not None else ():
            if isinstance(node, ast.Call) and (node.lineno, node.col_offset) == (line, col):
                return node
        return None

    def lambda_at(self, function: ast.AST | None, line: int, col: int) -> ast.Lambda | None:
        for node in ast.walk(function) if function is not None else ():
            if isinstance(node, ast.Lambda) and (node.lineno, node.col_offset) == (line, col):
                return node
        return None

    def self_value(self, class_line: int, attr: str) -> ast.expr | None:
        """The first value assigned to ``self.<attr>`` in the class defined at ``class_line``."""
        key = (class_line, attr)
        if key not in self.self_values:
            found = None
            node = next((n for n in ast.walk(self.tree) if isinstance(n, ast.ClassDef) and n.lineno == class_line), None) if self.tree else None
            for sub in ast.walk(node) if node is not None else ():
                if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                    target = sub.targets[0]
                    if isinstance(target, ast.Attribute) and target.attr == attr and isinstance(target.value, ast.Name) and target.value.id == "self":
                        found = sub.value
                        break
            self.self_values[key] = found
        return self.self_values[key]

    def canonical(self, name: str | None) -> str | None:
        """``Path`` -> ``pathlib.Path`` through the module's imports."""
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            return self.imports[head] + ("." + rest if rest else "")
        return name


class Facts:
    """Per-scan cache of :class:`ModuleFacts` and of each function's accesses."""

    def __init__(self, index: ProgramIndex, cwd: str | None = None) -> None:
        self.index = index
        self.cwd = cwd or os.getcwd()
        self._modules: dict[str, ModuleFacts] = {}
        self._accesses: dict[str, tuple[Access, ...]] = {}

    def module(self, summary: ModuleSummary) -> ModuleFacts:
        facts = self._modules.get(summary.path)
        if facts is None:
            path = summary.path if os.path.isabs(summary.path) else os.path.join(self.cwd, summary.path)
            facts = self._modules[summary.path] = ModuleFacts(summary, path)
        return facts

    def function_node(self, qualname: str) -> ast.AST | None:
        fn = self.index.functions.get(qualname)
        if fn is None or fn.is_module_body:
            return None
        return self.module(self.index.function_module[qualname]).function(fn.line, fn.col)

    # -- resources ------------------------------------------------------------------------
    def accesses(self, qualname: str) -> tuple[Access, ...]:
        """Reads and writes of shared resources in the function's own body (nested defs,
        lambdas and classes are functions of their own), outside any thread or file lock."""
        if qualname not in self._accesses:
            node = self.function_node(qualname)
            found: tuple[Access, ...] = ()
            if node is not None:
                module = self.index.function_module[qualname]
                fn = self.index.functions[qualname]
                found = tuple(_Collector(self, self.module(module), qualname, fn.class_qualname, node).run())
            self._accesses[qualname] = found
        return self._accesses[qualname]

    def lambda_accesses(self, module: ModuleSummary, holder: str, line: int, col: int) -> tuple[Access, ...]:
        node = self.module(module).lambda_at(self.function_node(holder), line, col)
        if node is None:
            return ()
        fn = self.index.functions.get(holder)
        return tuple(_Collector(self, self.module(module), holder, fn.class_qualname if fn else None, node).run())

    def module_variable(self, qualname: str) -> str:
        """The qualname where a module-level name is defined (through ``from x import y``)."""
        seen = set()
        while qualname not in seen:
            seen.add(qualname)
            ref = self.index.variables.get(qualname)
            if not isinstance(ref, NameRef) or ref.name not in self.index.variables:
                break
            qualname = ref.name
        return qualname

    def value_of(self, qualname: str) -> tuple[ModuleFacts, ast.expr] | None:
        """The expression assigned to a module-level name, and the module it is in."""
        module_name, _, name = qualname.rpartition(".")
        summary = self.index.modules.get(module_name)
        if summary is None:
            return None
        facts = self.module(summary)
        value = facts.module_values.get(name)
        return (facts, value) if value is not None else None

    def is_state_object(self, qualname: str) -> bool:
        """A module-level mutable object: a dict/list/set, or an instance of a project class."""
        found = self.value_of(qualname)
        if found is None:
            return False
        facts, value = found
        if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
            return True
        if isinstance(value, ast.Call):
            name = facts.canonical(dotted(value.func))
            if name in _MUTABLE_CALLS:
                return True
            resolved = self.index.resolve(NameRef(qualname))
            return isinstance(resolved, InstValue)
        return False


class _Collector:
    """The accesses of one function body (or lambda)."""

    def __init__(self, facts: Facts, module: ModuleFacts, qualname: str, class_qualname: str | None, node: ast.AST) -> None:
        self.facts = facts
        self.module = module
        self.qualname = qualname
        self.class_qualname = class_qualname
        self.node = node
        self.found: list[Access] = []
        self.locals: dict[str, ast.expr] = {}
        self.params: set[str] = set()
        self.globals: set[str] = set()
        self.self_name: str | None = None
        self.written: set[int] = set()

    def run(self) -> list[Access]:
        node = self.node
        args = node.args  # type: ignore[attr-defined]
        positional = [*args.posonlyargs, *args.args]
        self.params = {a.arg for a in [*positional, *args.kwonlyargs]}
        if args.vararg:
            self.params.add(args.vararg.arg)
        if args.kwarg:
            self.params.add(args.kwarg.arg)
        if self.class_qualname and positional and not isinstance(node, ast.Lambda):
            self.self_name = positional[0].arg
        body = [node.body] if isinstance(node, ast.Lambda) else node.body  # type: ignore[attr-defined]
        counts: dict[str, int] = {}
        for sub in self._own_nodes(body):
            if isinstance(sub, ast.Call) and self.module.canonical(dotted(sub.func)) in _FILE_LOCK_CALLS:
                return []  # the function takes a file lock: its accesses are serialised
            if isinstance(sub, ast.Assign):
                for target in sub.targets:
                    if isinstance(target, ast.Name):
                        counts[target.id] = counts.get(target.id, 0) + 1
                        self.locals[target.id] = sub.value
            elif isinstance(sub, (ast.AnnAssign, ast.AugAssign)) and isinstance(sub.target, ast.Name):
                counts[sub.target.id] = counts.get(sub.target.id, 0) + 2
            elif isinstance(sub, ast.Global):
                self.globals.update(sub.names)
            elif isinstance(sub, (ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr, ast.comprehension)):
                for name in _bound_names(sub):
                    counts[name] = counts.get(name, 0) + 2
        self.locals = {k: v for k, v in self.locals.items() if counts.get(k) == 1 and k not in self.globals}
        self.assigned = set(counts) - self.globals
        self._visit(body, guarded=False)
        return self.found

    def _own_nodes(self, body: list[ast.AST]) -> Iterator[ast.AST]:
        stack = list(body)
        while stack:
            node = stack.pop()
            yield node
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                    stack.append(child)

    def _visit(self, nodes: Iterable[ast.AST], guarded: bool) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(self._is_thread_lock(item.context_expr) for item in node.items):
                continue  # serialised by a lock: not a lost update
            if not guarded:
                self._node(node)
            self._visit(list(ast.iter_child_nodes(node)), guarded)

    def _is_thread_lock(self, expr: ast.expr) -> bool:
        text = ast.unparse(expr).lower()
        if "lock" in text or "mutex" in text:
            return True
        ref = ref_of(expr, self.module.summary.module, self.class_qualname)
        value = self.facts.index.resolve(ref) if ref is not None else None
        return isinstance(value, ExtInstValue) and value.type in _THREAD_LOCKS

    # -- one node -------------------------------------------------------------------------
    def _add(self, resource: str | None, kind: str, node: ast.AST) -> None:
        if resource is not None:
            self.found.append(Access(resource, kind, node.lineno, node.col_offset))  # type: ignore[attr-defined]

    def _node(self, node: ast.AST) -> None:
        """State objects count as written only by a read-modify-write (the new value reads the
        object: ``COUNTS[k] = COUNTS.get(k, 0) + 1``, ``+=``) or a save: filling a cache with a
        value computed elsewhere (``CACHE[k] = v``) loses no update."""
        if isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, (ast.Subscript, ast.Attribute)):
                    state = self._state(target.value, written=True)
                    if state is not None and self._mentions(node.value, target.value):
                        self._add(state, WRITE, node)
                elif isinstance(target, ast.Name) and target.id in self.globals:
                    state = self._state(target, direct=True)
                    if state is not None and self._mentions(node.value, target):
                        self._add(state, WRITE, node)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, (ast.Subscript, ast.Attribute)):
            state = self._state(node.target.value, written=True)
            self._add(state, READ, node)
            self._add(state, WRITE, node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in self.written:
            self._add(self._state(node, direct=True), READ, node)

    def _mentions(self, value: ast.AST, base: ast.expr) -> bool:
        """Whether ``value`` reads the object ``base`` names (its root name)."""
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not isinstance(base, ast.Name):
            return False
        return any(isinstance(n, ast.Name) and n.id == base.id for n in ast.walk(value))

    def _call(self, node: ast.Call) -> None:
        func = node.func
        name = self.module.canonical(dotted(func))
        if name in _OPENS or (isinstance(func, ast.Attribute) and func.attr == "open" and name not in _OPENS and self._is_pathlike(func.value)):
            is_method = not (name in _OPENS)
            target = func.value if isinstance(func, ast.Attribute) and is_method else (node.args[0] if node.args else None)
            mode_index = 0 if is_method else 1
            mode = _constant(node.args[mode_index]) if len(node.args) > mode_index else None
            for keyword in node.keywords:
                if keyword.arg == "mode":
                    mode = _constant(keyword.value)
            if target is None:
                return
            mode = mode if isinstance(mode, str) else "r"
            resource = self.resource(target)
            if any(c in mode for c in "wax"):
                self._add(resource, WRITE, node)
            if "r" in mode or "+" in mode:
                self._add(resource, READ, node)
            return
        if isinstance(func, ast.Attribute) and (func.attr in _PATH_READS or func.attr in _PATH_WRITES):
            kind = READ if func.attr in _PATH_READS else WRITE
            self._add(self.resource(func.value), kind, node)
            return
        if name in _MOVES and len(node.args) >= 2:
            self._add(self.resource(node.args[1]), WRITE, node)
            return
        if name in _REMOVES and node.args:
            self._add(self.resource(node.args[0]), WRITE, node)
            return
        if isinstance(func, ast.Attribute) and func.attr in _WRITE_METHODS:
            state = self._state(func.value, written=True)
            arguments = [*node.args, *(k.value for k in node.keywords)]
            if state is not None and (func.attr in _SAVE_METHODS or any(self._mentions(a, func.value) for a in arguments)):
                self._add(state, WRITE, node)

    def _is_pathlike(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            return self.module.canonical(dotted(expr.func)) in _PATH_WRAPPERS
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            return True
        return isinstance(expr, (ast.Name, ast.Attribute))

    # -- resources ------------------------------------------------------------------------
    def _state(self, expr: ast.expr, direct: bool = False, written: bool = False) -> str | None:
        """The module-level state object ``expr`` is, or is an attribute of."""
        while not direct and isinstance(expr, (ast.Attribute, ast.Subscript)):
            expr = expr.value
        if not isinstance(expr, ast.Name) or (expr.id in self.assigned or expr.id in self.params):
            return None
        if written:
            self.written.add(id(expr))  # the name under a write is not a read of its own
        qualname = self.facts.module_variable(f"{self.module.summary.module}.{expr.id}")
        return qualname if self.facts.is_state_object(qualname) else None

    def resource(self, expr: ast.expr, depth: int = 0) -> str | None:
        """A name for the file or object ``expr`` denotes, the same in every function."""
        if depth > 8:
            return None
        if isinstance(expr, ast.Call) and self.module.canonical(dotted(expr.func)) in _PATH_WRAPPERS and len(expr.args) == 1:
            return self.resource(expr.args[0], depth + 1)
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return repr(expr.value)
        if isinstance(expr, ast.Name):
            if expr.id in self.locals:
                return self.resource(self.locals[expr.id], depth + 1)
            if expr.id in self.params or expr.id in self.assigned:
                return f"{self.qualname}:{expr.id}"
            return self.facts.module_variable(f"{self.module.summary.module}.{expr.id}")
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id == self.self_name and self.class_qualname:
                return f"{self.class_qualname}.{expr.attr}"
            base = self.resource(expr.value, depth + 1)
            return f"{base}.{expr.attr}" if base is not None else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            left, right = self.resource(expr.left, depth + 1), self.resource(expr.right, depth + 1)
            return f"{left} / {right}" if left is not None and right is not None else None
        return f"{self.qualname}:{ast.unparse(expr)}"


def _constant(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _bound_names(node: ast.AST) -> list[str]:
    target = getattr(node, "target", None) or getattr(node, "optional_vars", None)
    if target is None:
        return []
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def ref_of(expr: ast.expr, module: str, class_qualname: str | None) -> Ref:
    """The summary ref of a name or attribute chain, to resolve it with the index."""
    if isinstance(expr, ast.Name):
        if expr.id == "self" and class_qualname:
            return SelfRef(class_qualname)
        return NameRef(f"{module}.{expr.id}")
    if isinstance(expr, ast.Attribute):
        base = ref_of(expr.value, module, class_qualname)
        return AttrRef(base, expr.attr) if base is not None else None
    return None
