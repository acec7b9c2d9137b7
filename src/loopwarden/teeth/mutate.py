"""AST rewrites of offload sites: the mutant (the offloaded callable runs inline, on the
loop), the trace probe (records that a test executed the site) and the forced mutant (must
fail whenever it runs: proves that rewritten modules really reach the code under test).

Every rewrite replaces one expression with an expression at the same positions, so line
numbers, tracebacks and everything else in the module stay those of the real file.

Sites are found by the exact positions the scanner recorded (``OffloadSite.line``, ``col``,
``end_line``, ``end_col``); the calling convention of the wrapper says how to rebuild the call:

- ``await asyncio.to_thread(f, a, k=b)``             -> ``f(a, k=b)``
- ``await loop.run_in_executor(None, partial(f, a), c)`` -> ``f(a, c)``
- ``await loop.run_in_executor(None, lambda: g(x))``   -> ``g(x)``
- ``await loop.run_in_executor(None, ctx.run, f, a)``  -> ``ctx.run(f, a)``
- ``await sync_to_async(f, thread_sensitive=True)(a)`` -> ``f(a)``
- an offload that is not awaited on the spot (``create_task(to_thread(f))``, ``gather(...)``,
  ``fut = loop.run_in_executor(...)``) becomes a coroutine that runs the call inline when it
  is awaited; ``executor.submit(f)`` becomes a finished ``concurrent.futures.Future``.

Lock sites (style ``"lock"``) are the lock expressions of ``async with`` blocks that hold an
offload; their mutant keeps the block and drops the acquisition:

- ``async with self._lock:``  -> ``async with __loopwarden_teeth__.unlocked(self._lock):``
  (the expression is still evaluated; the context manager acquires nothing)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

# How a wrapper hands its arguments on. One table, keyed by the wrapper's canonical name.
#   "factory": the wrapper returns a function that is called later (sync_to_async(f)(a)).
#   "future":  the wrapper returns a concurrent.futures.Future (executor.submit(f, a)).
#   otherwise it returns an awaitable (to_thread, run_in_executor, run_sync).
FACTORY_WRAPPERS = frozenset(
    {"asgiref.sync.sync_to_async", "channels.db.database_sync_to_async", "asyncer.asyncify", "quart.utils.run_sync"}
)
FUTURE_WRAPPERS = frozenset(
    {"concurrent.futures.ThreadPoolExecutor.submit", "concurrent.futures.ProcessPoolExecutor.submit", "concurrent.futures.Executor.submit"}
)
# Wrappers whose keyword arguments are their own (limiter=, cancellable=), not the callable's.
OWN_KEYWORDS = frozenset(
    {"anyio.to_thread.run_sync", "anyio.to_process.run_sync", "trio.to_thread.run_sync", "run_in_executor"}
)

LOCK = "lock"  # the style of a lock site
_Position = tuple[int, int, int | None, int | None]  # line, col, end_line, end_col (as ast gives them)
RUNTIME_NAME = "__loopwarden_teeth__"  # set in builtins by the child process


@dataclass(frozen=True)
class SiteSpec:
    """What the child needs to find and rewrite one site (plain values: travels as JSON)."""

    id: int
    line: int
    col: int
    end_line: int
    end_col: int
    callable_arg: int
    style: str  # "awaitable" | "factory" | "future" | "lock" (an ``async with`` lock expression)
    own_keywords: bool

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteSpec:
        return cls(**data)


def calling_convention(wrapper: str) -> tuple[str, bool]:
    """(style, wrapper keeps its keywords) for a wrapper's canonical or written name."""
    method = wrapper.rpartition(".")[2]
    style = "factory" if wrapper in FACTORY_WRAPPERS else "future" if wrapper in FUTURE_WRAPPERS else "awaitable"
    return style, wrapper in OWN_KEYWORDS or method in OWN_KEYWORDS


class SiteNotFound(Exception):
    pass


def _runtime(attr: str, node: ast.AST) -> ast.expr:
    ref = ast.Attribute(value=ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), attr=attr, ctx=ast.Load())
    return ast.copy_location(ref, node)


def _is_partial(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name == "partial" and bool(node.args) and not isinstance(node.args[0], ast.Starred)


def inline_call(target: ast.expr, args: list[ast.expr], keywords: list[ast.keyword], where: ast.AST) -> ast.expr:
    """The call the offload would have made in its worker thread, made right here."""
    while isinstance(target, ast.Call) and _is_partial(target):
        args = [*target.args[1:], *args]
        keywords = [*target.keywords, *keywords]
        target = target.args[0]
    if isinstance(target, ast.Lambda) and not args and not keywords and not _has_params(target.args):
        return target.body
    call = ast.Call(func=target, args=args, keywords=keywords)
    return ast.copy_location(call, where)


def _has_params(arguments: ast.arguments) -> bool:
    return bool(arguments.posonlyargs or arguments.args or arguments.vararg or arguments.kwonlyargs or arguments.kwarg)


def _thunk(body: ast.expr, where: ast.AST) -> ast.expr:
    empty = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    return ast.copy_location(ast.Lambda(args=empty, body=body), where)


class _Rewriter(ast.NodeTransformer):
    """Replaces, for each wanted site, the expression that holds it."""

    def __init__(self, sites: list[SiteSpec], mode: str) -> None:
        self.by_pos: dict[_Position, SiteSpec] = {(s.line, s.col, s.end_line, s.end_col): s for s in sites if s.style != LOCK}
        self.locks: dict[_Position, SiteSpec] = {(s.line, s.col, s.end_line, s.end_col): s for s in sites if s.style == LOCK}
        self.mode = mode  # "mutant" | "trace" | "forced"
        self.done: set[int] = set()

    def _site(self, node: ast.AST) -> SiteSpec | None:
        if not isinstance(node, ast.Call):
            return None
        return self.by_pos.get((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        for item in node.items:
            expr = item.context_expr
            site = self.locks.get((expr.lineno, expr.col_offset, expr.end_lineno, expr.end_col_offset))
            inner = self.visit(expr)
            if site is None:
                item.context_expr = inner
            elif self.mode == "trace":  # (hit(id) or <lock>): the lock, once the hit is recorded
                self.done.add(site.id)
                probe = ast.Call(func=_runtime("hit", expr), args=[ast.copy_location(ast.Constant(site.id), expr)], keywords=[])
                item.context_expr = ast.copy_location(ast.BoolOp(op=ast.Or(), values=[ast.copy_location(probe, expr), inner]), expr)
            elif self.mode == "forced":
                self.done.add(site.id)
                forced = ast.Call(func=_runtime("forced", expr), args=[ast.copy_location(ast.Constant(site.id), expr)], keywords=[])
                item.context_expr = ast.copy_location(forced, expr)
            else:
                self.done.add(site.id)
                item.context_expr = ast.copy_location(ast.Call(func=_runtime("unlocked", expr), args=[inner], keywords=[]), expr)
            if item.optional_vars is not None:
                item.optional_vars = self.visit(item.optional_vars)
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_Await(self, node: ast.Await) -> ast.AST:
        if self.mode == "mutant":
            inner = node.value
            site = self._site(inner)
            if site is not None and site.style == "awaitable" and isinstance(inner, ast.Call):
                return self._mutate(site, inner, awaited=True)
            if site is None and isinstance(inner, ast.Call) and isinstance(inner.func, ast.Call):
                site = self._site(inner.func)
                if site is not None and site.style == "factory":
                    return self._mutate_factory_call(site, inner.func, inner, awaited=True)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if self.mode == "mutant":
            site = self._site(node.func)
            if site is not None and site.style == "factory" and isinstance(node.func, ast.Call):
                return self._mutate_factory_call(site, node.func, node, awaited=False)
        site = self._site(node)
        if site is None:
            return self.generic_visit(node)
        if self.mode == "trace":
            self.generic_visit(node)
            self.done.add(site.id)
            probe = ast.Call(func=_runtime("hit", node), args=[ast.copy_location(ast.Constant(site.id), node)], keywords=[])
            return ast.copy_location(ast.BoolOp(op=ast.Or(), values=[ast.copy_location(probe, node), node]), node)
        if self.mode == "forced":
            self.done.add(site.id)
            call = ast.Call(func=_runtime("forced", node), args=[ast.copy_location(ast.Constant(site.id), node)], keywords=[])
            return ast.copy_location(call, node)
        return self._mutate(site, node, awaited=False)

    def _parts(self, site: SiteSpec, call: ast.Call) -> tuple[ast.expr, list[ast.expr], list[ast.keyword]]:
        if len(call.args) <= site.callable_arg or any(isinstance(a, ast.Starred) for a in call.args[: site.callable_arg + 1]):
            raise SiteNotFound(f"line {site.line}: the offloaded callable is not a plain positional argument")
        target = call.args[site.callable_arg]
        rest = [self.visit(a) for a in call.args[site.callable_arg + 1 :]]
        keywords = [] if site.own_keywords else [self.visit(k) for k in call.keywords]
        return self.visit(target), rest, keywords

    def _mutate(self, site: SiteSpec, call: ast.Call, awaited: bool) -> ast.expr:
        self.done.add(site.id)
        if site.style == "factory":  # sync_to_async(f) not called on the spot: an async f running inline
            target, _, _ = self._parts(site, call)
            wrapped = ast.Call(func=_runtime("inline_async", call), args=[target], keywords=[])
            return ast.copy_location(wrapped, call)
        target, rest, keywords = self._parts(site, call)
        inline = inline_call(target, rest, keywords, call)
        if awaited:
            return inline
        helper = "done_future" if site.style == "future" else "inline_coroutine"
        return ast.copy_location(ast.Call(func=_runtime(helper, call), args=[_thunk(inline, call)], keywords=[]), call)

    def _mutate_factory_call(self, site: SiteSpec, factory: ast.Call, outer: ast.Call, awaited: bool) -> ast.expr:
        self.done.add(site.id)
        target, _, _ = self._parts(site, factory)
        args = [self.visit(a) for a in outer.args]
        keywords = [self.visit(k) for k in outer.keywords]
        inline = inline_call(target, args, keywords, outer)
        if awaited:
            return inline
        return ast.copy_location(ast.Call(func=_runtime("inline_coroutine", outer), args=[_thunk(inline, outer)], keywords=[]), outer)


def rewrite(tree: ast.Module, sites: list[SiteSpec], mode: str) -> tuple[ast.Module, set[int]]:
    """Rewrite ``tree`` in place for ``sites``; returns it and the ids of the sites found."""
    rewriter = _Rewriter(sites, mode)
    tree = rewriter.visit(tree)
    ast.fix_missing_locations(tree)
    return tree, rewriter.done


def check(tree: ast.Module, site: SiteSpec) -> str | None:
    """Why no mutant can be built for ``site`` in ``tree`` (None: it can). Read only."""
    position = (site.line, site.col, site.end_line, site.end_col)
    if site.style == LOCK:
        for node in ast.walk(tree):
            if isinstance(node, ast.AsyncWith) and any(
                (i.context_expr.lineno, i.context_expr.col_offset, i.context_expr.end_lineno, i.context_expr.end_col_offset) == position
                for i in node.items
            ):
                return None
        return "no async with lock at the recorded position"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset) == (
            site.line,
            site.col,
            site.end_line,
            site.end_col,
        ):
            if len(node.args) <= site.callable_arg or any(isinstance(a, ast.Starred) for a in node.args[: site.callable_arg + 1]):
                return "the offloaded callable is not a plain positional argument"
            return None
    return "no offload call at the recorded position"
