"""Stall watchdog: measures event-loop lag from a helper thread.

While the gate is active, every loop that enters ``run_forever`` (asyncio.run, pytest-asyncio,
anyio's runner all get there) is watched. The watchdog thread schedules a probe callback with
``call_soon_threadsafe`` and waits for it to run. A probe still waiting after the threshold
means one callback is holding the loop: the watchdog captures the loop thread's stack at that
moment, which names the culprit even when no interception rule knows it (C extensions,
CPU-bound loops).

The gate's own work is never a stall: the time its checks spend on a loop thread (counted by
the gate per thread) is taken off the measured lag, and no stack is captured while that
thread is inside a check.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, replace

from loopwarden.runtime.project import Project
from loopwarden.runtime.records import Location, Stall

_RUNTIME_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MIN_INTERVAL_S = 0.005
_IDLE_INTERVAL_S = 0.25
_STACK_DEPTH = 40


@dataclass
class _Watched:
    loop: asyncio.AbstractEventLoop
    thread_id: int
    thread_name: str
    probe_sent: float | None = None
    own_at_probe: float = 0.0  # the gate's own time on this thread when the probe was sent
    probe_id: int = 0
    stall_index: int | None = None  # index in Watchdog.stalls of the stall being measured


class Watchdog:
    def __init__(
        self,
        project: Project,
        threshold_ms: float,
        context: Callable[[], tuple[str, str]],
        own_time: dict[int, float] | None = None,
        busy: set[int] | None = None,
    ) -> None:
        self.project = project
        self.own_time = own_time if own_time is not None else {}  # thread id -> seconds of gate work
        self.busy = busy if busy is not None else set()  # thread ids inside a gate check now
        self.threshold_s = threshold_ms / 1000
        self.context = context  # () -> (test nodeid, phase)
        self.stalls: list[Stall] = []
        self._watched: dict[int, _Watched] = {}
        # An RLock, not a Lock: blockbuster intercepts Lock.acquire, and _probe_ran takes this
        # lock on the loop thread.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a loop started: stop idling now, not in 250 ms
        self._thread: threading.Thread | None = None
        self._original_run_forever: Callable[..., None] | None = None
        self._gating = False  # stalls count only while a gated test runs

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Hook ``run_forever`` and start the thread (once; it idles between gated tests)."""
        if self._original_run_forever is None:
            self._hook_run_forever()
        self._gating = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="loopwarden-watchdog", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        """Unhook ``run_forever`` after a gated test. Loops still running (a server thread
        started by a fixture) stay watched, but what they do between gated tests is charged
        to no test: pending probes are dropped."""
        with self._lock:
            self._gating = False
            for watched in self._watched.values():
                _forget_probe(watched)
        if self._original_run_forever is not None:
            asyncio.BaseEventLoop.run_forever = self._original_run_forever  # type: ignore[method-assign]
            self._original_run_forever = None

    def stop(self) -> None:
        self.pause()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def take_stalls(self) -> list[Stall]:
        with self._lock:
            stalls, self.stalls = self.stalls, []
            for watched in self._watched.values():
                watched.stall_index = None
        return stalls

    # -- loops ---------------------------------------------------------------------------------
    def _hook_run_forever(self) -> None:
        original = asyncio.BaseEventLoop.run_forever
        watchdog = self

        def run_forever(loop: asyncio.BaseEventLoop) -> None:
            watchdog._watch(loop)
            try:
                original(loop)
            finally:
                watchdog._unwatch(loop)

        self._original_run_forever = original
        asyncio.BaseEventLoop.run_forever = run_forever  # type: ignore[method-assign, assignment]

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        thread = threading.current_thread()
        with self._lock:
            self._watched[id(loop)] = _Watched(loop, thread.ident or 0, thread.name)
        self._wake.set()

    def _unwatch(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.perf_counter()
        with self._lock:
            watched = self._watched.pop(id(loop), None)
            if watched is not None and watched.probe_sent is not None:
                # The loop stopped before the probe ran: the last callback held it until now.
                if self._gating:
                    self._measured(watched, self._lag(watched, now), frame=None)
                _forget_probe(watched)  # a probe left in the loop's queue must not count later

    # -- the watchdog thread ---------------------------------------------------------------------
    def _run(self) -> None:
        interval = max(self.threshold_s / 4, _MIN_INTERVAL_S)
        while not self._stop.is_set():
            self._wake.wait(interval if self._watched else _IDLE_INTERVAL_S)
            self._wake.clear()
            now = time.perf_counter()
            with self._lock:
                if not self._gating:
                    continue
                for watched in list(self._watched.values()):
                    self._check(watched, now)

    def _check(self, watched: _Watched, now: float) -> None:
        if watched.probe_sent is None:
            watched.probe_id += 1
            watched.probe_sent = now
            watched.own_at_probe = self.own_time.get(watched.thread_id, 0.0)
            try:
                watched.loop.call_soon_threadsafe(self._probe_ran, watched, watched.probe_id)
            except RuntimeError:  # the loop closed under us
                watched.probe_sent = None
        elif watched.stall_index is None and watched.thread_id not in self.busy:
            lag = self._lag(watched, now)
            if lag >= self.threshold_s:
                frame = sys._current_frames().get(watched.thread_id)
                if watched.thread_id not in self.busy:  # entered a check meanwhile: look next time
                    self._measured(watched, lag, frame)

    def _probe_ran(self, watched: _Watched, probe_id: int) -> None:
        """Runs on the loop thread once the callback that held the loop has returned."""
        now = time.perf_counter()
        with self._lock:
            current = self._watched.get(id(watched.loop))
            if current is not watched or watched.probe_id != probe_id or watched.probe_sent is None:
                return  # a probe from an earlier run of this loop, or from between tests
            self._measured(watched, self._lag(watched, now), frame=None)
            watched.probe_sent = None
            watched.stall_index = None

    def _lag(self, watched: _Watched, now: float) -> float:
        """Time since the probe was sent, less the gate's own work on that loop thread."""
        assert watched.probe_sent is not None
        own = self.own_time.get(watched.thread_id, 0.0) - watched.own_at_probe
        return now - watched.probe_sent - own

    def _measured(self, watched: _Watched, lag_s: float, frame: types.FrameType | None) -> None:
        """Record a new stall, or update the duration of the one already caught (lock held)."""
        if lag_s < self.threshold_s:
            return
        if watched.stall_index is not None:
            index = watched.stall_index
            self.stalls[index] = replace(self.stalls[index], lag_ms=lag_s * 1000)
            return
        test, phase = self.context()
        location, stack = self._describe(frame)
        stall = Stall(test, phase, lag_s * 1000, self.threshold_s * 1000, location, stack, watched.thread_name)
        watched.stall_index = len(self.stalls)
        self.stalls.append(stall)

    def _describe(self, frame: types.FrameType | None) -> tuple[Location | None, tuple[str, ...]]:
        """The first frame in the project's code (else in the tests) and the stack."""
        entries: list[str] = []
        in_project = in_tests = None
        while frame is not None and len(entries) < _STACK_DEPTH:
            code = frame.f_code
            if code.co_filename.startswith(_RUNTIME_PACKAGE):  # the run_forever hook
                frame = frame.f_back
                continue
            qualname = getattr(code, "co_qualname", code.co_name)
            entry = Location(self.project.relpath(code.co_filename), frame.f_lineno, qualname)
            entries.append(str(entry))
            if in_project is None and self.project.contains(code.co_filename):
                in_project = entry
            if in_tests is None and self.project.is_local(code.co_filename):
                in_tests = entry
            frame = frame.f_back
        return in_project or in_tests, tuple(reversed(entries))


def _forget_probe(watched: _Watched) -> None:
    watched.probe_sent = None
    watched.probe_id += 1
    watched.stall_index = None
