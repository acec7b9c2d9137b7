"""The AST rewrites: each offload form becomes its inline call, at the same positions."""

from __future__ import annotations

import ast
import textwrap

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.teeth.mutate import SiteSpec, calling_convention, check, rewrite
from loopwarden.teeth.sites import wrapper_arg


def _site_of(source: str, wrapper: str, which: int = 0) -> SiteSpec:
    """The n-th call whose callee is written ``wrapper`` (or ends with it)."""
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith(wrapper)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    call = calls[which]
    canonical = {"to_thread": "asyncio.to_thread", "sync_to_async": "asgiref.sync.sync_to_async", "submit": "concurrent.futures.Executor.submit",
                 "run_sync": "anyio.to_thread.run_sync"}.get(wrapper, wrapper)
    style, own = calling_convention(canonical)
    arg = wrapper_arg(canonical, default_catalog())
    return SiteSpec(0, call.lineno, call.col_offset, call.end_lineno, call.end_col_offset, arg, style, own)


def _mutant(source: str, wrapper: str, mode: str = "mutant") -> tuple[str, ast.Module]:
    source = textwrap.dedent(source)
    site = _site_of(source, wrapper)
    tree, done = rewrite(ast.parse(source), [site], mode)
    assert done == {0}
    # (Python 3.10's unparse writes ``lambda : x``)
    return ast.unparse(tree).strip().splitlines()[-1].strip().replace("lambda :", "lambda:"), tree


@pytest.mark.parametrize(
    ("source", "wrapper", "expected"),
    [
        ("async def f():\n    return await asyncio.to_thread(load, a, k=b)", "to_thread", "return load(a, k=b)"),
        ("async def f():\n    await loop.run_in_executor(None, functools.partial(save, p, t, mode='w'), x)", "run_in_executor",
         "save(p, t, x, mode='w')"),
        ("async def f():\n    return await loop.run_in_executor(None, lambda: g(x))", "run_in_executor", "return g(x)"),
        ("async def f():\n    return await loop.run_in_executor(None, lambda y: g(y), 3)", "run_in_executor", "return (lambda y: g(y))(3)"),
        ("async def f():\n    return await loop.run_in_executor(None, ctx.run, work, a)", "run_in_executor", "return ctx.run(work, a)"),
        ("async def f():\n    return await sync_to_async(get, thread_sensitive=True)(a, k=1)", "sync_to_async", "return get(a, k=1)"),
        ("async def f():\n    return await anyio.to_thread.run_sync(load, a, limiter=lim)", "run_sync", "return load(a)"),
        ("async def f():\n    return await asyncio.gather(asyncio.to_thread(load, a))", "to_thread",
         "return await asyncio.gather(__loopwarden_teeth__.inline_coroutine(lambda: load(a)))"),
        ("def f():\n    return pool.submit(load, a)", "submit", "return __loopwarden_teeth__.done_future(lambda: load(a))"),
        ("h = sync_to_async(get)", "sync_to_async", "h = __loopwarden_teeth__.inline_async(get)"),
    ],
)
def test_each_form_becomes_its_inline_call(source: str, wrapper: str, expected: str) -> None:
    assert _mutant(source, wrapper)[0] == expected


def test_the_inline_call_keeps_the_lines_of_the_original() -> None:
    source = "async def f():\n    x = 1\n    return await asyncio.to_thread(\n        load,\n        a,\n    )\n"
    _, tree = _mutant(source, "to_thread")
    ret = tree.body[0].body[1]
    assert (ret.value.lineno, ret.value.func.lineno, ret.value.args[0].lineno) == (3, 4, 5)
    compile(tree, "m.py", "exec")


def test_trace_mode_probes_the_site_and_keeps_its_value() -> None:
    line, _ = _mutant("async def f():\n    return await asyncio.to_thread(load, a)", "to_thread", mode="trace")
    assert line == "return await (__loopwarden_teeth__.hit(0) or asyncio.to_thread(load, a))"


def test_forced_mode_replaces_the_site() -> None:
    line, _ = _mutant("async def f():\n    return await asyncio.to_thread(load, a)", "to_thread", mode="forced")
    assert line == "return await __loopwarden_teeth__.forced(0)"


def test_a_starred_callable_cannot_be_mutated() -> None:
    source = "async def f():\n    return await asyncio.to_thread(*args)"
    site = _site_of(source, "to_thread")
    assert check(ast.parse(source), site) == "the offloaded callable is not a plain positional argument"
    moved = SiteSpec(0, site.line + 5, site.col, site.end_line + 5, site.end_col, 0, "awaitable", False)
    assert check(ast.parse(source), moved) == "no offload call at the recorded position"


def test_a_configured_wrapper_is_mutated_like_to_thread() -> None:
    """``[[tool.loopwarden.catalog.offload]] method = "async_add_executor_job"``: the scanner
    finds the site, teeth inlines it with the other arguments going to the callable."""
    from loopwarden.catalog import load_catalog
    from loopwarden.static.scan import scan
    from loopwarden.teeth.sites import collect_sites

    catalog = load_catalog({"offload": [{"method": "async_add_executor_job", "callable_arg": 0}]})
    source = "import os\n\n\nasync def size(hass, path):\n    return await hass.async_add_executor_job(os.path.getsize, path)\n"
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "integration.py"
        module.write_text(source, encoding="utf-8")
        sites = collect_sites(scan([str(module)], catalog).modules, catalog)
    assert [(s.line, s.col, s.wrapper.rpartition(".")[2], s.callable_arg, s.blocking, s.problem) for s in sites] == [
        (5, 17, "async_add_executor_job", 0, ("os.path.getsize",), None)
    ]
    tree, done = rewrite(ast.parse(source), [sites[0].spec(0)], "mutant")
    assert done == {0}
    assert ast.unparse(tree).splitlines()[-1].strip() == "return os.path.getsize(path)"


_LOCKED = """\
async def save(self, line):
    async with self._lock, other:
        await asyncio.to_thread(self._append, line)
"""


def _lock_spec(source: str, text: str) -> SiteSpec:
    tree = ast.parse(source)
    expr = next(i.context_expr for n in ast.walk(tree) if isinstance(n, ast.AsyncWith) for i in n.items if ast.unparse(i.context_expr) == text)
    return SiteSpec(0, expr.lineno, expr.col_offset, expr.end_lineno, expr.end_col_offset, 0, "lock", False)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("mutant", "async with __loopwarden_teeth__.unlocked(self._lock), other:"),
        ("trace", "async with __loopwarden_teeth__.hit(0) or self._lock, other:"),
        ("forced", "async with __loopwarden_teeth__.forced(0), other:"),
    ],
)
def test_a_lock_site_loses_only_its_acquisition(mode: str, expected: str) -> None:
    site = _lock_spec(_LOCKED, "self._lock")
    tree, done = rewrite(ast.parse(_LOCKED), [site], mode)
    assert done == {0}
    lines = ast.unparse(tree).splitlines()
    assert lines[1].strip() == expected
    assert lines[2].strip() == "await asyncio.to_thread(self._append, line)"  # the body is kept
    block = tree.body[0].body[0]
    assert (block.lineno, block.items[0].context_expr.lineno, block.body[0].lineno) == (2, 2, 3)
    compile(tree, "m.py", "exec")


def test_a_lock_site_and_an_offload_inside_it_are_mutated_together() -> None:
    lock = _lock_spec(_LOCKED, "self._lock")
    call = _site_of(_LOCKED, "to_thread")
    offload = SiteSpec(1, call.line, call.col, call.end_line, call.end_col, call.callable_arg, call.style, call.own_keywords)
    tree, done = rewrite(ast.parse(_LOCKED), [lock, offload], "trace")
    assert done == {0, 1}
    assert ast.unparse(tree).splitlines()[2].strip() == "await (__loopwarden_teeth__.hit(1) or asyncio.to_thread(self._append, line))"


def test_a_lock_site_is_checked_at_its_position() -> None:
    site = _lock_spec(_LOCKED, "self._lock")
    assert check(ast.parse(_LOCKED), site) is None
    moved = SiteSpec(0, site.line, site.col + 1, site.end_line, site.end_col, 0, "lock", False)
    assert check(ast.parse(_LOCKED), moved) == "no async with lock at the recorded position"


def test_the_unlocked_context_manager_acquires_nothing() -> None:
    import asyncio

    from loopwarden.teeth._rt import TeethRuntime

    async def main() -> tuple[bool, object]:
        lock = asyncio.Lock()
        await lock.acquire()  # held elsewhere: the real ``async with lock`` would wait forever
        async with TeethRuntime.unlocked(lock) as value:
            return lock.locked(), value

    assert asyncio.run(main()) == (True, None)


def test_the_result_cache_keeps_to_its_own_folder_of_the_shared_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """$LOOPWARDEN_CACHE_DIR also holds the scan cache (which ``loopwarden clean`` removes whole)."""
    from loopwarden.teeth.command import _default_cache_dir

    monkeypatch.setenv("LOOPWARDEN_CACHE_DIR", str(tmp_path))
    assert _default_cache_dir() == str(tmp_path / "teeth")
    monkeypatch.delenv("LOOPWARDEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _default_cache_dir() == str(tmp_path / "xdg" / "loopwarden" / "teeth")
