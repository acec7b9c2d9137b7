"""Switching the gate on and off: flag, ini paths, marker, --no-loopwarden; no leaks."""

from __future__ import annotations

import pytest

from .conftest import add_ini

TESTS = """
import os
import pytest
from app import store

BEFORE = os.lstat


async def test_blocks(tmp_path):
    await store.stat_swallowed(tmp_path)


@pytest.mark.loopwarden
async def test_marked_blocks(tmp_path):
    await store.stat_swallowed(tmp_path)


async def test_sees_no_patch():
    assert os.lstat is BEFORE
"""


def test_installed_but_not_enabled_does_nothing(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes=TESTS.replace("@pytest.mark.loopwarden\n", ""))
    result = service.runpytest()
    result.assert_outcomes(passed=3)
    assert " loopwarden " not in result.stdout.str()


def test_marker_gates_only_the_marked_test_and_never_leaks(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes=TESTS)
    result = service.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_marked_blocks - *"])


def test_flag_gates_every_test(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes=TESTS.replace("async def test_sees_no_patch", "async def _unused"))
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(failed=2)


def test_no_loopwarden_switches_everything_off(service: pytest.Pytester) -> None:
    add_ini(service, 'loopwarden_paths = ["tests/blocking_io/*"]')
    service.mkdir("tests")
    service.mkdir("tests/blocking_io")
    (service.path / "tests" / "blocking_io" / "test_notes.py").write_text(TESTS)
    result = service.runpytest("--loopwarden", "--no-loopwarden")
    result.assert_outcomes(passed=3)


def test_ini_paths_gate_only_matching_tests(service: pytest.Pytester) -> None:
    add_ini(service, 'loopwarden_paths = ["tests/blocking_io/*"]')
    for directory in ("tests", "tests/blocking_io", "tests/other"):
        service.mkdir(directory)
    plain = TESTS.replace("@pytest.mark.loopwarden\n", "").replace("async def test_sees_no_patch", "async def _unused")
    (service.path / "tests" / "blocking_io" / "test_gated.py").write_text(plain)
    (service.path / "tests" / "other" / "test_free.py").write_text(plain)
    result = service.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED tests/blocking_io/test_gated.py::test_blocks - *",
            "FAILED tests/blocking_io/test_gated.py::test_marked_blocks - *",
        ]
    )


def test_plugin_does_not_import_blockbuster_until_a_test_is_gated(service: pytest.Pytester) -> None:
    service.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            heavy = sorted(m for m in ("blockbuster", "forbiddenfruit", "loopwarden.runtime.gate") if m in sys.modules)
            print("HEAVY MODULES:", heavy)
        """
    )
    service.makepyfile(test_notes="def test_nothing(): pass")
    result = service.runpytest_subprocess("-s", "-p", "no:asyncio", "-p", "no:anyio")
    result.stdout.fnmatch_lines(["*HEAVY MODULES: []"])
    gated = service.runpytest_subprocess("-s", "--loopwarden", "-p", "no:asyncio", "-p", "no:anyio")
    gated.stdout.fnmatch_lines(["*HEAVY MODULES: [[]'blockbuster', 'forbiddenfruit', 'loopwarden.runtime.gate']"])
