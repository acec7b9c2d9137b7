"""Offload sites to verify, from the scanner: its ``ModuleSummary.offloads`` (exact
positions) and, for NOT_BLOCKING, one narrow question to its call graph: is any catalogued
blocking call reachable from the offloaded callable?"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from collections import deque
from dataclasses import dataclass

from loopwarden.catalog import Catalog
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import CallGraph
from loopwarden.static.refs import Ref
from loopwarden.static.summary import FunctionSummary, ModuleSummary, OffloadSite
from loopwarden.static.values import AnyValue, ClassValue, ExtInstValue, ExtValue, FuncValue, Value
from loopwarden.teeth.mutate import LOCK, SiteSpec, calling_convention, check

_MAX_SINKS = 3
_NO_IMPORT = frozenset({"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "__main__"})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}


@dataclass(frozen=True)
class Site:
    path: str  # as the scanner displays it (relative to the current directory)
    real: str  # real path of the module file
    function: str  # qualified name inside the module ("Store.get"), as in the scanner's keys
    wrapper: str
    line: int
    col: int
    end_line: int
    end_col: int
    callable: str  # the callable's source text
    callable_arg: int
    style: str
    own_keywords: bool
    blocking: tuple[str, ...] | None  # catalogue symbols reachable from the callable; None: unknown
    problem: str | None = None  # why no mutant can be built
    holds: tuple[str, ...] = ()  # a lock site: the ids of the offloads its block holds
    related: tuple[str, ...] = ()  # a lock site: real paths of the modules of those offloads

    @property
    def is_lock(self) -> bool:
        """An ``async with <lock>:`` holding offloads (``callable`` is the lock expression)."""
        return self.style == LOCK

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    @property
    def key(self) -> str:
        """``<path>::<function>::<wrapper>``: the scanner's key format, with the wrapper in
        the symbol slot. Two offloads through the same wrapper in one function share a key;
        ``id`` tells them apart. A lock site: ``<path>::<function>::async with <lock>``."""
        if self.is_lock:
            return f"{self.path}::{self.function}::{self.wrapper} {self.callable}"
        return f"{self.path}::{self.function}::{self.wrapper}"

    @property
    def sort_key(self) -> tuple[str, int, int]:
        return (self.path, self.line, self.col)

    def spec(self, number: int) -> SiteSpec:
        return SiteSpec(number, self.line, self.col, self.end_line, self.end_col, self.callable_arg, self.style, self.own_keywords)


def wrapper_arg(wrapper: str, catalog: Catalog) -> int | None:
    """The callable's index among the wrapper's positional arguments."""
    found = catalog.offload_by_name(wrapper) or catalog.offload_by_method(wrapper.rpartition(".")[2])
    return found.callable_arg if found is not None else None


def collect_sites(modules: list[ModuleSummary], catalog: Catalog, *, locks: bool = True) -> list[Site]:
    """Every offload site outside test code, with what the scanner says it reaches, and
    (unless ``locks`` is False) every ``async with <lock>:`` outside test code that holds one
    of them (``Site.is_lock``; loopwarden guard judges those too)."""
    index = ProgramIndex(modules, catalog)
    graph = CallGraph(index)
    sites: list[Site] = []
    for module in sorted(modules, key=lambda m: m.path):
        if module.is_test or not module.offloads:
            continue
        real = os.path.realpath(module.path)
        tree, lines = _parse(real, module.path)
        for offload in module.offloads:
            sites.append(_site(module, offload, real, lines, tree, index, graph, catalog))
    if locks:
        sites.extend(_lock_sites(index, graph))
    sites.sort(key=lambda s: s.sort_key)
    return sites


def _parse(real: str, path: str) -> tuple[ast.Module | None, list[str]]:
    try:
        with open(real, "rb") as fh:
            source = fh.read()
        return ast.parse(source, filename=path), source.decode("utf-8", "replace").splitlines()
    except (OSError, SyntaxError, ValueError):
        return None, []


def _lock_sites(index: ProgramIndex, graph: CallGraph) -> list[Site]:
    """The lock blocks the hazards rules recognise (``asyncio.Lock``, ``anyio.Lock``, a
    semaphore of one...), module-level, on ``self``, or held by an async caller up the chain."""
    from loopwarden.hazards.rules import Hazards

    sites: list[Site] = []
    for block in Hazards(index, graph).lock_blocks():
        module = index.function_module[block.function]
        if module.is_test:
            continue
        real = os.path.realpath(module.path)
        site = Site(
            path=module.path,
            real=real,
            function=block.local_name,
            wrapper="async with",
            line=block.line,
            col=block.col,
            end_line=block.end_line,
            end_col=block.end_col,
            callable=block.text if len(block.text) <= 60 else block.text[:57] + "...",
            callable_arg=0,
            style=LOCK,
            own_keywords=False,
            blocking=None,
            holds=tuple(f"{path}:{line}:{col}" for path, line, col in block.offloads),
            related=tuple(sorted({os.path.realpath(path) for path, _, _ in block.offloads} - {real})),
        )
        tree, _ = _parse(real, module.path)
        problem = check(tree, site.spec(0)) if tree is not None else "the module does not parse"
        sites.append(site if problem is None else Site(**{**site.__dict__, "problem": problem}))
    return sites


def _site(
    module: ModuleSummary,
    offload: OffloadSite,
    real: str,
    lines: list[str],
    tree: ast.Module | None,
    index: ProgramIndex,
    graph: CallGraph,
    catalog: Catalog,
) -> Site:
    fn = index.functions.get(offload.function)
    function = fn.local_name if fn is not None and not fn.is_module_body else "<module>"
    arg = wrapper_arg(offload.wrapper, catalog)
    style, own_keywords = calling_convention(offload.wrapper)
    problem = None
    if arg is None:
        problem = f"no catalogue entry for the wrapper {offload.wrapper}"
        arg = 0
    site = Site(
        path=module.path,
        real=real,
        function=function,
        wrapper=offload.wrapper,
        line=offload.line,
        col=offload.col,
        end_line=offload.end_line,
        end_col=offload.end_col,
        callable=_text(lines, offload.callable_span),
        callable_arg=arg,
        style=style,
        own_keywords=own_keywords,
        blocking=_reachable_sinks(offload, fn, index, graph, catalog),
        problem=problem,
    )
    if problem is None and tree is not None:
        problem = check(tree, site.spec(0))
        if problem is not None:
            site = Site(**{**site.__dict__, "problem": problem})
    return site


def _text(lines: list[str], span: tuple[int, int, int, int]) -> str:
    line, col, end_line, end_col = span
    if not (1 <= line <= len(lines)) or end_line > len(lines):
        return "?"
    if line == end_line:
        text = lines[line - 1][col:end_col]
    else:
        text = " ".join([lines[line - 1][col:], *(x.strip() for x in lines[line : end_line - 1]), lines[end_line - 1][:end_col].strip()])
    return text if len(text) <= 60 else text[:57] + "..."


def _reachable_sinks(
    offload: OffloadSite, fn: FunctionSummary | None, index: ProgramIndex, graph: CallGraph, catalog: Catalog
) -> tuple[str, ...] | None:
    """Catalogue symbols the scanner finds reachable from the offloaded callable (the first
    few, sorted); ``()`` when none; ``None`` when the scanner cannot see what the callable
    runs. It sees through sync project code (its call graph) and the standard library (the
    catalogue); a third-party callable the catalogue does not list, an object's ``__call__``,
    an ``async def`` handed to a thread (a sign of a wrong resolution) are unknown."""
    sinks: set[str] = set()
    starts: list[str] = []
    refs: list[Ref]
    if offload.callable_ref is not None:
        refs = [offload.callable_ref]
    elif fn is not None:  # a lambda: its calls were recorded in the enclosing function, marked offloaded
        line, col, end_line, _ = offload.callable_span
        refs = [c.ref for c in fn.calls if c.offloaded and c.kind == "call" and (line, col) <= (c.line, c.col) and c.end_line <= end_line]
    else:
        return None
    for ref in refs:
        if not _classify(index.resolve(ref), index, catalog, sinks, starts):
            return None
    seen = set(starts)
    queue = deque(starts)
    while queue and len(sinks) < 50:
        current = queue.popleft()
        for hit in graph.sinks.get(current, ()):
            sinks.add(hit.sink.symbol)
        for edge in graph.edges.get(current, ()):
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    return tuple(sorted(sinks)[:_MAX_SINKS])


def _classify(value: Value, index: ProgramIndex, catalog: Catalog, sinks: set[str], starts: list[str]) -> bool:
    """Adds what ``value`` runs to ``sinks`` / ``starts``; False when that is unknown."""
    if value is None:
        return False
    if isinstance(value, AnyValue):
        return all(_classify(member, index, catalog, sinks, starts) for member in value.members)
    if isinstance(value, FuncValue):
        fn = index.functions.get(value.qualname)
        if fn is None or fn.is_async:
            return False
        starts.append(value.qualname)
        return True
    if isinstance(value, ClassValue):
        starts.extend(index.constructor_methods(value.qualname))
        return True
    if isinstance(value, ExtValue):
        sink = catalog.sink(value.name)
        if sink is not None and not sink.lazy:
            sinks.add(sink.symbol)
            return True
        return _stdlib_object(value.name)
    if isinstance(value, ExtInstValue):
        sink = catalog.sink(f"{value.type}.__call__")
        if sink is not None and not sink.lazy:
            sinks.add(sink.symbol)
            return True
    return False


def _stdlib_object(symbol: str) -> bool:
    """Is ``symbol`` a real object of the standard library (which the catalogue covers)?
    Only standard-library modules are imported to find out."""
    parts = symbol.split(".")
    if parts[0] not in _STDLIB or parts[0] in _NO_IMPORT:
        return False
    import importlib

    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def file_digest(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return "missing"
