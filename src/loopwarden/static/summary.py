"""Plain, picklable per-file summaries: everything the whole-program phase needs.

Values in a summary are described by *refs* (``refs.py``: one small frozen class per kind,
``NameRef("pkg.mod.func")``, ``CallRef(ref)``, ``AttrRef(ref, "name")``, ...), already
qualified with the module's imports so they mean the same thing in any process. ``None`` is
the unknown ref. The whole-program phase (``index.py``) resolves refs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from loopwarden.static.refs import Ref, RefTuple

Suppression = frozenset[str] | None  # the categories a comment names; None: all

# Kinds of call sites.
CALL = "call"  # a call evaluated on the caller's thread
CONSUME = "consume"  # iteration over ref (for-loop, list(...), comprehension)
OFFLOAD = "offload"  # ref is handed to an offload wrapper: runs off the loop
ATTR = "attr"  # attribute load (a project @property runs here)
ENTER = "enter"  # with-statement: ref.__enter__ runs here


class CallSite(NamedTuple):
    """One call (or iteration, attribute load, ``with``) in a function body. A named tuple,
    not a dataclass: summaries hold tens of thousands of them and cross process boundaries,
    where tuples pickle several times faster."""

    kind: str
    ref: RefTuple  # never None: calls to nothing known are not recorded
    line: int
    col: int
    end_line: int
    awaited: bool = False
    offloaded: bool = False  # inside the callable of an offload (a lambda body)
    args: tuple[Ref, ...] = ()  # refs of the first positional arguments (to spot file objects)
    via: tuple[Any, ...] = ()  # (callee ref, argument index): a lambda handed to callee, assumed run here
    consts: tuple[tuple[int | str, object], ...] = ()  # ((position or keyword, value), ...): constant arguments
    fnargs: tuple[tuple[int | str, Ref], ...] = ()  # ((position or keyword, ref), ...): arguments that may be functions (callbacks)
    complete: bool = False  # consts lists every argument (calls a catalogue rule reads; non-constants as Symbolic("?"))
    kwargs: tuple[tuple[str, Ref], ...] = ()  # ((keyword, ref), ...): keyword arguments of such calls (fileobj=io.BytesIO(...))
    brief: int = 0  # a `with` whose body looks like memory work only (dict/list methods, builtins): its last line


@dataclass(frozen=True)
class OffloadSite:
    """An offload call, with exact positions: teeth verification mutates these later."""

    wrapper: str
    line: int
    col: int
    end_line: int
    end_col: int
    callable_ref: Ref
    callable_span: tuple[int, int, int, int]  # line, col, end_line, end_col of the callable
    function: str  # qualname of the function holding the offload


@dataclass
class FunctionSummary:
    qualname: str  # module-qualified, e.g. "pkg.web.Store.get"
    local_name: str  # inside the module, e.g. "Store.get"
    is_async: bool
    line: int
    col: int
    def_lines: tuple[int, ...]  # decorator lines and the def line (suppression comments)
    class_qualname: str | None = None
    decorators: tuple[Ref, ...] = ()
    decorator_names: tuple[str, ...] = ()  # as written, e.g. "app.on_event"
    returns: list[Ref] = field(default_factory=list)  # annotation first, then return values
    calls: list[CallSite] = field(default_factory=list)
    is_property: bool = False
    is_abstract: bool = False
    is_module_body: bool = False
    is_generator: bool = False  # a sync generator: its body runs where it is iterated
    is_startup: bool = False  # lifespan / on_event("startup") handler: runs before serving
    is_cached: bool = False  # @lru_cache, @cache, @cached_property: its body runs once per key
    params: tuple[str, ...] = ()  # parameter names, self/cls excluded: ("param", f, i) is params[i]
    decorator_args: tuple[str | None, ...] = ()  # first string argument of each decorator (a route path)
    loop_spans: tuple[tuple[int, int], ...] = ()  # (first, last) lines of its for/while loops and comprehensions
    # `if flag: return self._async_variant(...)` before any other call: (parameter name, its
    # index among params or -1 when it comes through **kwargs, ref of what is returned)
    flag_returns: tuple[tuple[str, int, Ref], ...] = ()
    raises_on_loop: bool = False  # raises before any other call when an event loop is running


@dataclass
class ClassSummary:
    qualname: str
    local_name: str
    line: int
    bases: tuple[Ref, ...]
    methods: dict[str, str] = field(default_factory=dict)  # name -> function qualname
    attrs: dict[str, Ref] = field(default_factory=dict)  # instance/class attribute types


@dataclass
class ModuleSummary:
    path: str  # display path (relative to the current directory when under it)
    module: str  # primary dotted module name
    aliases: tuple[str, ...]  # other names the module may be imported under
    is_test: bool
    lines: int
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    variables: dict[str, Ref] = field(default_factory=dict)  # module-level names -> value
    suppressions: dict[int, Suppression] = field(default_factory=dict)  # None: all
    offloads: list[OffloadSite] = field(default_factory=list)
    startup_refs: list[Ref] = field(default_factory=list)  # lifespan=..., on_startup=[...]
    star_imports: list[str] = field(default_factory=list)  # modules of `from m import *`
    errors: list[str] = field(default_factory=list)  # internal errors that cost one unit each
    main_refs: list[Ref] = field(default_factory=list)  # called under `if __name__ == "__main__":`
    # First parts of the module names it imports (``import a.b``, ``from .c import d``,
    # ``importlib.import_module("e")``): only a module importing an ambiguous name of a
    # monorepo needs its names rewritten (index.prefer_own_root).
    import_heads: set[str] = field(default_factory=set)

    @property
    def body_qualname(self) -> str:
        return f"{self.module}.<module>"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


Result = ModuleSummary | Skipped


INTERNAL_ERROR = "internal error"
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../loopwarden


def internal_error(exc: BaseException, unit: str = "") -> str:
    """The ``skipped`` reason for a bug in loopwarden that cost one unit (a file, a class, a
    statement, a function): ``internal error: IndexError: ... (at loopwarden/static/extract.py:612)``,
    naming the innermost loopwarden frame, so that a report of it points at the code."""
    where = "unknown location"
    tb = exc.__traceback__
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if filename.startswith(_PACKAGE_ROOT + os.sep):
            relative = os.path.relpath(filename, os.path.dirname(_PACKAGE_ROOT)).replace(os.sep, "/")
            where = f"{relative}:{tb.tb_lineno}"
        tb = tb.tb_next
    message = str(exc).replace("\n", " ")[:200]
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    lost = f"; skipped {unit}" if unit else ""
    return f"{INTERNAL_ERROR}: {text} (at {where}){lost}"
