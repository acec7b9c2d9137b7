"""The gate's own work is never a stall."""

from __future__ import annotations

import pytest

from .conftest import add_ini

DEEP = """
import os
import sys


def deep(depth, path, calls):
    if depth:
        return deep(depth - 1, path, calls)
    for _ in range(calls):
        os.stat(path)  # test code, not the project's: allowed, but each call is checked
"""

BUSY_GATE = DEEP + """

async def test_many_allowed_calls_with_deep_stacks(tmp_path):
    sys.setrecursionlimit(10000)
    deep(2000, tmp_path, 800)
"""


def test_a_busy_gate_raises_no_stall_warning_under_w_error(service: pytest.Pytester) -> None:
    """800 checked calls, each walking a 2000-frame stack: the gate's own time holds the loop
    for about a second, several times the threshold, the calls themselves for a few ms; none
    of it is a stall. (The threshold is raised so that a loaded machine descheduling the
    process is not a stall either.)"""
    service.makepyfile(test_busy=BUSY_GATE)
    add_ini(service, "loopwarden_stall_ms = 250")
    result = service.runpytest("--loopwarden", "-W", "error")
    result.assert_outcomes(passed=1)
    assert "LoopwardenStallWarning" not in result.stdout.str()
    result.stdout.fnmatch_lines(["1 gated test: 0 blocking calls in 0 tests, 0 stalls, 0 opt-outs"])


def test_a_real_stall_is_still_caught_beside_a_busy_gate(service: pytest.Pytester) -> None:
    add_ini(service, "loopwarden_stall_ms = 250")
    service.makepyfile(
        test_busy=DEEP
        + """
from app import store

async def test_crunch():
    sys.setrecursionlimit(10000)
    deep(2000, ".", 200)
    await store.hold_the_loop(0.8)
"""
    )
    result = service.runpytest("--loopwarden", "-W", "error", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_busy.py::test_crunch (call): loop held * ms at app/store.py:* in crunch"])
