"""Expected blocking: hits a test means to provoke do not fail it.

Two ways, both for gate health tests ("the gate catches an unoffloaded call"):

- ``with pytest.raises(BlockingError): await service.blocking()`` in the test's own code:
  the hit whose error ``pytest.raises`` caught is expected (the session wraps the class of
  ``pytest.raises`` context managers while a gated test runs). Only a ``pytest.raises``
  that names ``BlockingError`` (or a subclass) counts: ``pytest.raises(Exception)`` does not.
- ``with expect_blocking(): ...``: every hit recorded inside the block is expected, even
  one that production code swallows; the block's own ``BlockingError`` is absorbed. A block
  in which nothing was caught fails the test: the gate is not catching what it should.

A hit that production code swallows anywhere else still fails the test. While the gate is
off (the test is not gated), ``expect_blocking()`` checks nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopwarden.runtime.gate import Gate
    from loopwarden.runtime.records import Hit

active_gate: Gate | None = None  # set by the session while a gated test runs


@contextmanager
def expect_blocking() -> Iterator[list[Hit]]:
    """Hits inside this block are expected; at least one must be caught (when gated).
    Yields the list of hits caught so far."""
    __tracebackhide__ = True
    gate = active_gate
    caught: list[Hit] = []
    if gate is None:
        yield caught
        return
    gate.expectations.append(caught)
    try:
        yield caught
    except Exception as error:
        hit = getattr(error, "loopwarden_hit", None)
        if hit is None or all(hit is not seen for seen in caught):
            raise
    finally:
        gate.expectations[:] = [open_block for open_block in gate.expectations if open_block is not caught]
    if not caught:
        raise AssertionError("expect_blocking(): no blocking call was caught on the event loop inside this block")


def expects_blocking_error(raises: Any) -> bool:
    """Whether a ``pytest.raises`` context manager names BlockingError (or a subclass)."""
    from blockbuster import BlockingError

    expected = getattr(raises, "expected_exceptions", None) or getattr(raises, "expected_exception", ())
    if not isinstance(expected, tuple):
        expected = (expected,)
    return any(isinstance(kind, type) and issubclass(kind, BlockingError) for kind in expected)


class RaisesHook:
    """Wraps ``__exit__`` of pytest.raises' context manager class while a gated test runs."""

    def __init__(self, gate: Gate) -> None:
        import inspect

        import pytest

        self.gate = gate
        self.owner = type(pytest.raises(BaseException))
        self.defined_here = "__exit__" in vars(self.owner)
        self.original = inspect.getattr_static(self.owner, "__exit__")

    def install(self) -> None:
        original, gate = self.original, self.gate

        def __exit__(raises: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any:
            __tracebackhide__ = True
            handled = original(raises, exc_type, exc_val, exc_tb)
            hit = getattr(exc_val, "loopwarden_hit", None)
            if handled and hit is not None and expects_blocking_error(raises):
                gate.expect(hit)
            return handled

        self.owner.__exit__ = __exit__  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self.defined_here:
            self.owner.__exit__ = self.original  # type: ignore[method-assign]
        else:
            del self.owner.__exit__
