"""Test helpers for the hazards an offload brings (docs/hazards.md).

``max_concurrency(target)`` wraps a function or method for the duration of a ``with`` block
and records how many executions of it overlapped at most, across threads (and across tasks,
for a coroutine function), so that "two concurrent calls never overlap" is a three-line test::

    async def test_settings_updates_are_serialised():
        with max_concurrency("app.settings._write_settings", hold=0.05) as probe:
            await asyncio.gather(*(app.settings.set_setting(f"k{i}", "v") for i in range(8)))
        assert probe.calls == 8 and probe.max == 1

The wrapper replaces the attribute where it is looked up: a module attribute (``"pkg.mod.fn"``),
a class attribute (``"pkg.mod.Class.method"``: every instance), or ``(obj, "name")`` for one
object. Code that imported the function by value (``from pkg.mod import fn``) before the block
keeps the original: name the attribute that the offload looks up (``"pkg.user.fn"``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Concurrency", "max_concurrency"]

_MISSING = object()


@dataclass
class Concurrency:
    """What ``max_concurrency`` saw: read it after (or during) the block."""

    target: str
    max: int = 0  # the most executions that overlapped
    calls: int = 0  # executions started
    active: int = 0  # executions running now
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _enter(self) -> None:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.max = max(self.max, self.active)

    def _exit(self) -> None:
        with self._lock:
            self.active -= 1


def _resolve(target: str) -> tuple[object, str]:
    """``"pkg.mod.Class.method"`` -> (pkg.mod.Class, "method"), importing the longest module prefix."""
    parts = target.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"max_concurrency: {target!r} is not a dotted path like 'package.module.function'")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for i, part in enumerate(parts[cut:-1], start=cut):
            try:
                owner = getattr(owner, part)
            except AttributeError:
                raise ValueError(f"max_concurrency: {'.'.join(parts[: i + 1])!r} does not exist") from None
        return owner, parts[-1]
    raise ValueError(f"max_concurrency: no module of {target!r} can be imported")


def _wrap(function: Callable[..., Any], probe: Concurrency, hold: float) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def counted_async(*args: Any, **kwargs: Any) -> Any:
            probe._enter()
            try:
                if hold:
                    import asyncio

                    await asyncio.sleep(hold)
                return await function(*args, **kwargs)
            finally:
                probe._exit()

        return counted_async

    @functools.wraps(function)
    def counted(*args: Any, **kwargs: Any) -> Any:
        probe._enter()
        try:
            if hold and not _on_event_loop():
                time.sleep(hold)  # widens the window in which a second call would overlap
            return function(*args, **kwargs)
        finally:
            probe._exit()

    return counted


def _on_event_loop() -> bool:
    """Whether this thread is running an event loop: there, ``hold`` is skipped. Nothing else
    on the loop can overlap while it sleeps, and the runtime gate would report the probe's own
    sleep instead of the function's blocking call (a reverted offload under ``loopwarden teeth``)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def max_concurrency(target: object, name: str | None = None, *, hold: float = 0.0) -> Iterator[Concurrency]:
    """Count overlapping executions of ``target`` during the block.

    ``target`` is a dotted path (``"pkg.mod.fn"``, ``"pkg.mod.Class.method"``), or an object
    with ``name`` the attribute to wrap (a module, a class, or one instance). ``hold`` (seconds)
    keeps each execution counted a little longer before it runs, so that calls which *can*
    overlap do overlap even when the function itself is quick (not for a plain function called
    on an event loop's own thread, where sleeping would only block the loop). The original attribute is
    restored when the block ends, also on an exception."""
    if name is None:
        if not isinstance(target, str):
            raise TypeError("max_concurrency: give a dotted path, or an object and an attribute name")
        owner, name = _resolve(target)
        label = target
    else:
        owner = target
        label = f"{getattr(target, '__qualname__', type(target).__qualname__)}.{name}"
    raw = inspect.getattr_static(owner, name, _MISSING)
    if raw is _MISSING:
        raise ValueError(f"max_concurrency: {label!r} does not exist")
    own = name in getattr(owner, "__dict__", {})
    probe = Concurrency(label)
    if not own and not isinstance(owner, type) and not inspect.ismodule(owner):
        replacement: object = _wrap(getattr(owner, name), probe, hold)  # one instance: its bound method
    elif isinstance(raw, staticmethod):
        replacement = staticmethod(_wrap(raw.__func__, probe, hold))
    elif isinstance(raw, classmethod):
        replacement = classmethod(_wrap(raw.__func__, probe, hold))
    elif callable(raw):
        replacement = _wrap(raw, probe, hold)
    else:
        raise TypeError(f"max_concurrency: {label!r} is not callable")
    setattr(owner, name, replacement)
    try:
        yield probe
    finally:
        if own:
            setattr(owner, name, raw)
        else:
            delattr(owner, name)
