"""The gate: blockbuster's interception plus loopwarden's rules, with every hit recorded.

blockbuster decides (is a loop running in this thread, does the stack pass through the
project, is the caller allowed) and raises ``BlockingError``. loopwarden wraps each of
blockbuster's checkers once more to record the hit before the error propagates, so a hit
that production code swallows still fails the test.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import threading
import types
import weakref
from asyncio.events import _get_running_loop
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from threading import get_ident
from time import perf_counter
from typing import TYPE_CHECKING, Any

from blockbuster import BlockBuster, BlockBusterFunction, BlockingError

from loopwarden.runtime.project import Project
from loopwarden.runtime.records import Hit, Location
from loopwarden.runtime.rules import DEFAULT_RULES, AllowedFrame, RuleSpec, Target, resolve

if TYPE_CHECKING:
    from loopwarden.catalog import Catalog

_RUNTIME_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_COROUTINE_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE

_CATEGORY_BY_PREFIX = (
    ("builtins.open", "FILE_OPEN"),
    ("os.open", "FILE_OPEN"),
    ("builtins.input", "INPUT"),
    ("io.", "FILE_IO"),
    ("os.read", "FILE_IO"),
    ("os.write", "FILE_IO"),
    ("os.sendfile", "FILE_IO"),
    ("os.", "FS_META"),
    ("socket.", "NETWORK"),
    ("ssl.", "NETWORK"),
    ("sqlite3.", "DB"),
    ("subprocess.", "SUBPROCESS"),
    ("time.sleep", "SLEEP"),
    ("threading.", "LOCK_WAIT"),
)


@dataclass(frozen=True)
class Symbol:
    name: str
    category: str | None
    operation: str


def catalogue_symbol(dotted: str, catalog: Catalog) -> Symbol:
    """Name a function as the catalogue names it (``io.open`` -> ``builtins.open``)."""
    name = catalog.canonical(dotted)
    if name.endswith(".__init__"):
        name = name[: -len(".__init__")]
    sink = catalog.sink(name)
    if sink is not None:
        return Symbol(sink.symbol, sink.category, sink.operation)
    category = next((cat for prefix, cat in _CATEGORY_BY_PREFIX if name.startswith(prefix)), None)
    return Symbol(name, category, name.rpartition(".")[2])


def _stand_in_modules(paths: Iterable[str]) -> list[types.ModuleType]:
    """blockbuster takes modules and matches their path as a prefix: hand it stand-in module
    objects carrying the project's paths, so nothing of the project is imported here."""
    stand_ins = []
    for index, path in enumerate(paths):
        module = types.ModuleType(f"loopwarden_stand_in_{index}")
        if path.endswith(os.sep):
            module.__path__ = [path]
        else:
            module.__file__ = path
        stand_ins.append(module)
    return stand_ins


def _project_modules(project: Project) -> list[types.ModuleType]:
    return _stand_in_modules(project.roots)


def _excluded_modules(project: Project) -> list[types.ModuleType]:
    """loopwarden itself, and tests that live inside a project package (``pkg/tests/``)."""
    return _stand_in_modules((_RUNTIME_PACKAGE, *project.test_roots))


class _Patch:
    """One intercepted function: blockbuster's rule for it (modules, allowances, predicate),
    checked and recorded by loopwarden's own single wrapper.

    blockbuster's ``BlockBusterFunction`` supplies the rule; its wrapper is not installed.
    The wrapper below does the same check in one layer instead of two, classifies each code
    object once (not each frame each time), and charges its own time to the gate so that
    the stall watchdog never counts it.
    """

    def __init__(self, function: BlockBusterFunction, name: str, gate: Gate) -> None:
        self.function = function
        self.name = name  # the rule's name, named as the catalogue names it on the first hit
        self._symbol: Symbol | None = None
        self.gate = gate
        # Raising out of Lock.acquire breaks the caller's lock protocol (a half-held
        # Condition, a worker thread waiting forever): lock waits are recorded, not raised.
        self.raises = not name_is_lock_wait(name)
        self.files: dict[str, tuple[bool, frozenset[str]]] = {}
        self._raw: Any = None  # the class attribute as stored (restored as is)
        self._installed: Any = None  # what install() put there
        self._restore: Any = None
        self._is_class = isinstance(function.module, type)
        self._builtin_type = False  # set once setattr failed: patch through forbiddenfruit directly
        self._cached: tuple[Any, Any] = (None, None)  # (original, its checker): reused test after test

    @property
    def symbol(self) -> Symbol:
        if self._symbol is None:
            self._symbol = catalogue_symbol(self.name, self.gate.catalog)
        return self._symbol

    @property
    def intercepted(self) -> str:
        return self.gate.catalog.canonical(self.name)

    # Installing and removing run around every gated test, ~70 patches each: kept to plain
    # attribute work (no inspect.getattr_static, no TypeError per built-in type, the checker
    # closure reused while the original is the same).
    def install(self) -> None:
        owner, name = self.function.module, self.function.func_name
        # What is there now, not what was there when the gate was built: a test's monkeypatch
        # of time.sleep must be wrapped now and restored afterwards, never leaked or lost.
        original = getattr(owner, name, None)
        if original is None:
            return
        self.function.original_func = original
        self._raw = _static_lookup(owner, name) if isinstance(owner, type) else None  # self._is_class
        if self._cached[0] is original:
            checker = self._cached[1]
        else:
            checker = self._checker(original)
            if isinstance(self._raw, (staticmethod, classmethod)):
                checker = staticmethod(checker)  # the checker already holds the bound original
            self._cached = (original, checker)
        self._set(checker)
        self._installed = checker
        self._restore = self._raw if self._raw is not None else original

    def uninstall(self) -> None:
        if self._installed is None:
            return
        owner, name = self.function.module, self.function.func_name
        current = _static_lookup(owner, name) if isinstance(owner, type) else getattr(owner, name, None)  # self._is_class
        # Replaced during the test (a fixture's teardown put the real function back): what
        # is there now is right, restoring our stale original would be wrong.
        if current is self._installed:
            self._set(self._restore)
        self._installed = self._restore = None

    def _set(self, value: Any) -> None:
        owner, name = self.function.module, self.function.func_name
        if not self._builtin_type:
            try:
                setattr(owner, name, value)
                return
            except TypeError:  # a built-in type (io.BufferedReader): same mechanism as blockbuster
                self._builtin_type = True
        import forbiddenfruit

        forbiddenfruit.curse(owner, name, value)

    def blocks(self, frame: types.FrameType | None) -> bool:
        """blockbuster's rule: a frame of the project on the stack and no allowing frame.
        Each file is classified once (code objects compare equal across files, so the
        cache is keyed by file name). With ``loopwarden_scope = "called-from-project"``, a
        call with no project frame also blocks when it runs in a task the project started."""
        files, in_project = self.files, not self.gate.scanned_paths
        while frame is not None:
            code = frame.f_code
            entry = files.get(code.co_filename)
            if entry is None:
                entry = files[code.co_filename] = self._classify(code.co_filename)
            project, allowed = entry
            if allowed and code.co_name in allowed:
                self._allowed_by(code, in_project, frame.f_back)
                return False
            if project:
                in_project = True
            frame = frame.f_back
        if not in_project and self.gate.task_origins is not None:
            return self.gate.task_origin() is not None
        return in_project

    def _allowed_by(self, code: types.CodeType, in_project: bool, outer: types.FrameType | None) -> None:
        """Note an allowance that stopped what would have been a hit (for stale allowances)."""
        files = self.files
        while not in_project and outer is not None:
            entry = files.get(outer.f_code.co_filename)
            if entry is None:
                entry = files[outer.f_code.co_filename] = self._classify(outer.f_code.co_filename)
            in_project, outer = entry[0], outer.f_back
        if in_project:
            self.gate.allowances_used.add((code.co_filename.replace("\\", "/"), code.co_name))

    def _classify(self, filename: str) -> tuple[bool, frozenset[str]]:
        """Whether the file is the project's, and the functions in it that allow blocking."""
        project = filename.startswith(self.gate.scanned_paths) and not filename.startswith(self.gate.excluded_paths)
        posix = filename.replace("\\", "/")
        allowed = frozenset(
            name for suffix, functions in self.function.can_block_functions if posix.endswith(suffix) for name in functions
        )
        return project, allowed

    def _checker(self, original: Callable[..., Any]) -> Callable[..., Any]:
        patch, gate = self, self.gate
        predicate = self.function.can_block_predicate
        busy, own_time = gate.busy, gate.own_time

        def loopwarden_checked(*args: Any, **kwargs: Any) -> Any:
            if _get_running_loop() is None:
                return original(*args, **kwargs)
            thread = get_ident()
            if thread in busy:  # a patched function called by the gate's own work
                return original(*args, **kwargs)
            started = perf_counter()
            busy.add(thread)
            error = None
            try:
                if not predicate(*args, **kwargs) and patch.blocks(sys._getframe(1)):
                    error = gate.hit(patch, sys._getframe(1))
            finally:
                busy.discard(thread)
                own_time[thread] = own_time.get(thread, 0.0) + (perf_counter() - started)
            if error is not None and patch.raises and not gate.observing:
                raise error
            return original(*args, **kwargs)

        return loopwarden_checked


def name_is_lock_wait(intercepted: str) -> bool:
    return intercepted.startswith("threading.Lock.")


def _static_lookup(owner: type, name: str) -> Any:
    """The attribute as stored in the class or a base (what ``inspect.getattr_static`` finds
    for these classes), without the descriptor protocol."""
    for klass in owner.__mro__:
        namespace = klass.__dict__
        if name in namespace:
            return namespace[name]
    return None


class Gate:
    """Intercepts blocking calls on event-loop threads while active; records each hit."""

    def __init__(
        self,
        project: Project,
        extra: Iterable[Target] = (),
        allowed: Iterable[AllowedFrame] = (),
        catalog: Catalog | None = None,
        scope: str = "project",
    ) -> None:
        self.project = project
        self._catalog = catalog  # loaded on the first hit: a clean suite never pays for it
        self.hits: deque[Hit] = deque()  # appended from any loop thread; deque ops are atomic
        self.expected: deque[Hit] = deque()  # hits the test expected (pytest.raises, expect_blocking)
        self._expected_ids: set[int] = set()
        self.expectations: list[list[Hit]] = []  # expect_blocking() blocks now open, innermost last
        self.test = "<no test>"
        self.phase = "call"
        self.active = False
        # the gate's own work, per thread: threads inside a check now, and seconds spent checking
        self.busy: set[int] = set()
        self.own_time: dict[int, float] = {}
        self._symbols: dict[str, Symbol] = {}
        self.observing = False  # an opted-out test: count would-be hits, raise and fail nothing
        self.observed = 0
        self.allowances_used: set[tuple[str, str]] = set()  # (file, function) of allowing frames
        # loopwarden_scope = "called-from-project": tasks the project started -> where
        self.task_origins: weakref.WeakKeyDictionary[asyncio.Task[Any], Location] | None = (
            weakref.WeakKeyDictionary() if scope == "called-from-project" else None
        )
        self._original_create_task: Any = None
        self.scanned_paths = tuple(project.roots)
        self.excluded_paths = (_RUNTIME_PACKAGE, *project.test_roots)
        scanned, excluded = _project_modules(project), _excluded_modules(project)
        functions = dict(BlockBuster(scanned, excluded_modules=excluded).functions)
        for rule in DEFAULT_RULES:
            functions.setdefault(
                rule.target, _function_for(resolve(rule.target, "loopwarden"), rule, scanned, excluded)
            )
        for target in extra:
            functions.setdefault(target.dotted, _function_for(target, RuleSpec(target.dotted), scanned, excluded))
        self.quiet_files: set[int] = set()  # ids of files whose writes cannot block (pytest's log file)
        for name in _WRITE_FUNCTIONS:
            if name in functions:
                _allow_quiet_writes(functions[name], self.quiet_files)
        allowed = tuple(allowed)
        self.patches = [self._patch_for(name, fn, allowed) for name, fn in _unique_targets(functions)]

    def _patch_for(self, name: str, function: BlockBusterFunction, allowed: Iterable[AllowedFrame]) -> _Patch:
        for frame in allowed:
            function.can_block_in(frame.filename, set(frame.functions))
        return _Patch(function, name, self)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from loopwarden.catalog import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    # -- switching ---------------------------------------------------------------------------
    def activate(self) -> None:
        if self.active:
            return
        installed: list[_Patch] = []
        try:
            for patch in self.patches:
                patch.install()
                installed.append(patch)
        except BaseException:
            for patch in reversed(installed):
                patch.uninstall()
            raise
        if self.task_origins is not None:
            self._hook_create_task()
        self.active = True

    def deactivate(self) -> None:
        if self._original_create_task is not None:
            asyncio.BaseEventLoop.create_task = self._original_create_task  # type: ignore[method-assign]
            self._original_create_task = None
        for patch in reversed(self.patches):
            patch.uninstall()
        self.active = False

    def __enter__(self) -> Gate:
        self.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.deactivate()

    # -- the wider scope: tasks the project started ---------------------------------------------
    def _hook_create_task(self) -> None:
        """Every task creation (asyncio.create_task, ensure_future, TaskGroup) goes through
        ``loop.create_task``: remember the tasks created from project code, or from such a task."""
        original = self._original_create_task = asyncio.BaseEventLoop.create_task
        gate, origins = self, self.task_origins
        assert origins is not None

        def create_task(loop: asyncio.BaseEventLoop, coro: Any, *args: Any, **kwargs: Any) -> Any:
            task = original(loop, coro, *args, **kwargs)
            origin = gate._project_frame(sys._getframe(1)) or gate.task_origin()
            if origin is not None:
                origins[task] = origin
            return task

        asyncio.BaseEventLoop.create_task = create_task  # type: ignore[method-assign, assignment]

    def _project_frame(self, frame: types.FrameType | None) -> Location | None:
        while frame is not None:
            if self.project.contains(frame.f_code.co_filename):
                return self._location(frame)
            frame = frame.f_back
        return None

    def task_origin(self) -> Location | None:
        """Where the project started the running task (wider scope only)."""
        if self.task_origins is None:
            return None
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return None
        return self.task_origins.get(task) if task is not None else None

    # -- recording ---------------------------------------------------------------------------
    def hit(self, patch: _Patch, caller: types.FrameType | None) -> BlockingError | None:
        """Record a hit; returns the error to raise, which names the call site (what a log
        line shows when production code swallows it) and carries the hit."""
        if self.observing:
            self.observed += 1
            return None
        hit = self.record(patch, caller)
        error = BlockingError(patch.function.full_name)
        error.loopwarden_hit = hit  # type: ignore[attr-defined]
        error.args = (hit.one_line(),)
        return error

    def record(self, patch: _Patch, caller: types.FrameType | None) -> Hit:
        """Runs on the loop thread with the patches active: frame walking and strings only
        (no source lines are read)."""
        location, called, entry_point = self._describe_stack(caller)
        if location is None and self.task_origins is not None:
            origin = self.task_origin()
            if origin is not None:  # third-party code in a task the project started
                entry_point = entry_point or f"task started at {origin}"
                location = origin
        symbol = patch.symbol
        if called is not None:
            called_symbol = self._symbol(called)
            if called_symbol is not None:
                symbol = called_symbol
        task = asyncio.current_task()
        hit = Hit(
            test=self.test,
            phase=self.phase,
            symbol=symbol.name,
            intercepted=patch.intercepted,
            category=symbol.category,
            operation=symbol.operation,
            location=location,
            entry_point=entry_point,
            task=task.get_name() if task is not None else None,
            thread=threading.current_thread().name,
        )
        if self.expectations:
            self.expectations[-1].append(hit)
            self.expect(hit)
        self.hits.append(hit)
        return hit

    def _symbol(self, called: str) -> Symbol | None:
        """The catalogued API a project frame called, looked up once per name."""
        if called not in self._symbols:
            symbol = catalogue_symbol(called, self.catalog)
            self._symbols[called] = symbol if self.catalog.sink(symbol.name) is not None else None  # type: ignore[assignment]
        return self._symbols[called]

    def expect(self, hit: Hit) -> None:
        """This hit was expected by the test (it will not fail it)."""
        self._expected_ids.add(id(hit))

    def _describe_stack(self, frame: types.FrameType | None) -> tuple[Location | None, str | None, str | None]:
        """First project frame, the API it called (``pathlib.Path.exists`` above ``os.stat``),
        and the outermost project coroutine (the async entry point)."""
        location = called = entry_point = None
        inner: types.FrameType | None = None
        while frame is not None:
            code = frame.f_code
            if location is None and self.project.contains(code.co_filename):
                location = self._location(frame)
                called = _dotted_name(inner) if inner is not None else None
            if code.co_flags & _COROUTINE_FLAGS and self.project.is_local(code.co_filename):
                entry_point = f"{self.project.relpath(code.co_filename)}::{_qualname(frame)}"
            inner, frame = frame, frame.f_back
        return location, called, entry_point

    def _location(self, frame: types.FrameType) -> Location:
        return Location(self.project.relpath(frame.f_code.co_filename), frame.f_lineno, _qualname(frame))

    def take_hits(self) -> list[Hit]:
        """The hits so far that fail the test; the expected ones move to ``self.expected``."""
        hits = []
        while self.hits:
            hit = self.hits.popleft()
            if id(hit) in self._expected_ids:
                self._expected_ids.discard(id(hit))
                self.expected.append(hit)
            else:
                hits.append(hit)
        return hits

    def take_expected(self) -> list[Hit]:
        expected = []
        while self.expected:
            expected.append(self.expected.popleft())
        return expected


_WRITE_FUNCTIONS = ("io.TextIOWrapper.write", "io.BufferedWriter.write", "io.BufferedRandom.write")


def _allow_quiet_writes(function: BlockBusterFunction, quiet_files: set[int]) -> None:
    """Writes to os.devnull, or to files the gate was told about, cannot hold the loop."""
    predicate = function.can_block_predicate

    def can_block(file: Any, *args: Any, **kwargs: Any) -> bool:
        if id(file) in quiet_files or getattr(file, "name", None) == os.devnull:
            return True
        return predicate(file, *args, **kwargs)

    function.can_block_predicate = can_block


def _function_for(
    target: Target, rule: RuleSpec, scanned: list[types.ModuleType], excluded: list[types.ModuleType]
) -> BlockBusterFunction:
    function = BlockBusterFunction(target.owner, target.attribute, scanned_modules=scanned, excluded_modules=excluded)
    for frame in rule.allowed:
        function.can_block_in(frame.filename, set(frame.functions))
    return function


def _unique_targets(functions: dict[str, BlockBusterFunction]) -> list[tuple[str, BlockBusterFunction]]:
    """``builtins.open`` and ``io.open`` are two attributes: both are patched. The same
    attribute reached by two names (a user's extra repeating a default) is patched once."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for name, function in functions.items():
        key = (id(function.module), function.func_name)
        if key not in seen:
            seen.add(key)
            unique.append((name, function))
    return unique


def _qualname(frame: types.FrameType) -> str:
    code = frame.f_code
    qualname = getattr(code, "co_qualname", None)  # Python 3.11+
    return qualname if qualname is not None else _method_qualname(frame) or code.co_name


def _method_qualname(frame: types.FrameType) -> str | None:
    """Python 3.10: ``Class.method`` from the class that defines this code object, found
    along the MRO of the frame's ``self`` or ``cls``."""
    code = frame.f_code
    if not code.co_argcount:
        return None
    first = frame.f_locals.get(code.co_varnames[0])
    klass = first if isinstance(first, type) else type(first)
    for owner in getattr(klass, "__mro__", ()):
        member = owner.__dict__.get(code.co_name)
        member = getattr(member, "__func__", getattr(member, "fget", member))
        if getattr(member, "__code__", None) is code:
            return f"{owner.__qualname__}.{code.co_name}"
    return None


def _dotted_name(frame: types.FrameType) -> str | None:
    module = frame.f_globals.get("__name__")
    return f"{module}.{_qualname(frame)}" if isinstance(module, str) else None
