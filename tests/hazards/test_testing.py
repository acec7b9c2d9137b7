"""loopwarden.testing.max_concurrency across real threads and tasks."""

from __future__ import annotations

import asyncio
import sys
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from loopwarden.testing import max_concurrency

_BARRIER_TIMEOUT = 10  # only reached if the code under test is broken


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A throwaway importable module: app_under_test.work and app_under_test.Store."""
    mod = types.ModuleType("app_under_test")
    state = {"barrier": None}

    def work(x):
        if state["barrier"] is not None:
            state["barrier"].wait(_BARRIER_TIMEOUT)
        return x * 2

    class Store:
        def __init__(self):
            self.lock = asyncio.Lock()
            self.items = []

        def append(self, x):
            self.items.append(x)

        @staticmethod
        def helper(x):
            return x

        async def add(self, x):
            async with self.lock:
                await asyncio.to_thread(self.append, x)

        async def add_unlocked(self, x):
            await asyncio.to_thread(self.append, x)

    mod.work, mod.Store, mod.state = work, Store, state
    monkeypatch.setitem(sys.modules, "app_under_test", mod)
    return mod


def test_counts_threads_that_overlap(module) -> None:
    module.state["barrier"] = threading.Barrier(4)
    with max_concurrency("app_under_test.work") as probe, ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(module.work, range(4))) == [0, 2, 4, 6]
    assert (probe.calls, probe.max, probe.active) == (4, 4, 0)


def test_serialised_calls_never_overlap(module) -> None:
    lock = threading.Lock()
    original = module.work

    def serialised(x):
        with lock:
            return module.work(x)

    with max_concurrency("app_under_test.work", hold=0.01) as probe, ThreadPoolExecutor(4) as pool:
        list(pool.map(serialised, range(6)))
    assert (probe.calls, probe.max) == (6, 1)
    assert module.work is original  # restored


def test_asyncio_lock_around_to_thread_is_seen(module) -> None:
    store = module.Store()

    async def run(method: str) -> None:
        await asyncio.gather(*(getattr(store, method)(i) for i in range(6)))

    with max_concurrency("app_under_test.Store.append", hold=0.02) as locked:
        asyncio.run(run("add"))
    assert (locked.calls, locked.max) == (6, 1)
    with max_concurrency(module.Store, "append", hold=0.02) as unlocked:
        asyncio.run(run("add_unlocked"))
    assert unlocked.calls == 6 and unlocked.max >= 2
    assert sorted(store.items) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert "append" not in vars(store) and module.Store.append.__name__ == "append"


def test_one_instance_and_static_methods(module) -> None:
    one, other = module.Store(), module.Store()
    with max_concurrency(one, "append") as probe:
        one.append(1)
        other.append(2)
    assert probe.calls == 1 and "append" not in vars(one)
    with max_concurrency("app_under_test.Store.helper") as static:
        assert module.Store.helper(3) == 3 and one.helper(4) == 4
    assert static.calls == 2
    assert isinstance(vars(module.Store)["helper"], staticmethod)


def test_coroutine_functions_count_overlapping_awaits(module) -> None:
    async def fetch(x):
        await asyncio.sleep(0)
        return x

    module.fetch = fetch

    async def main():
        return await asyncio.gather(*(module.fetch(i) for i in range(5)))

    with max_concurrency("app_under_test.fetch", hold=0.01) as probe:
        assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert (probe.calls, probe.max) == (5, 5)


def test_hold_sleeps_in_worker_threads_but_not_on_the_loop(module, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the loop's own thread nothing could overlap during the hold, and the runtime gate
    would report the probe's sleep instead of the function's own blocking call."""
    import loopwarden.testing

    slept: list[str] = []
    monkeypatch.setattr(loopwarden.testing.time, "sleep", lambda seconds: slept.append(threading.current_thread().name))

    async def main() -> list[int]:
        on_loop = module.work(1)  # a reverted offload: the function runs on the loop
        in_worker = await asyncio.to_thread(module.work, 2)
        return [on_loop, in_worker]

    with max_concurrency("app_under_test.work", hold=5) as probe:
        assert asyncio.run(main()) == [2, 4]
    assert probe.calls == 2
    assert len(slept) == 1 and slept[0] != threading.main_thread().name


def test_restored_after_an_exception(module) -> None:
    original = module.work
    with pytest.raises(RuntimeError), max_concurrency("app_under_test.work"):
        raise RuntimeError("boom")
    assert module.work is original


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nodots", "not a dotted path"),
        ("app_under_test.missing", "does not exist"),
        ("app_under_test.Nope.method", "'app_under_test.Nope' does not exist"),
        ("no_such_package_xyz.fn", "no module"),
    ],
)
def test_bad_targets_name_the_reason(module, target: str, message: str) -> None:
    with pytest.raises(ValueError, match=message), max_concurrency(target):
        pass
