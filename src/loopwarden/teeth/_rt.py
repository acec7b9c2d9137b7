"""What rewritten modules call at run time, reached as the builtin ``__loopwarden_teeth__``
(set only inside a teeth child process)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class ForcedMutantReached(BaseException):
    """Raised by the forced mutant. A BaseException, so ``except Exception`` in the code
    under test cannot swallow it."""


class TeethRuntime:
    def __init__(self) -> None:
        self.current: str | None = None  # the test running now
        self.hits: dict[int, set[str]] = {}
        self.forced_hits: list[str] = []

    def hit(self, site: int) -> None:
        self.hits.setdefault(site, set()).add(self.current or "<no test>")

    def forced(self, site: int) -> NoReturn:
        self.forced_hits.append(self.current or "<no test>")
        raise ForcedMutantReached(f"loopwarden teeth: forced mutant of site {site} reached")

    @staticmethod
    def inline_coroutine(thunk: Callable[[], T]) -> Coroutine[Any, Any, T]:
        async def inline() -> T:
            return thunk()

        return inline()

    @staticmethod
    def inline_async(fn: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
        async def inline(*args: P.args, **kwargs: P.kwargs) -> T:
            return fn(*args, **kwargs)

        return inline

    @staticmethod
    def unlocked(lock: object) -> _Unlocked:
        """The lock mutant's context manager: the ``async with`` body runs, nothing is acquired."""
        return _Unlocked()

    @staticmethod
    def done_future(thunk: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(thunk())
        except Exception as exc:
            future.set_exception(exc)
        return future


class _Unlocked:
    """``async with`` that acquires nothing (an ``asyncio.Lock``'s ``__aenter__`` gives None too)."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None
