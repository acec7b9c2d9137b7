"""Expected hits: pytest.raises(BlockingError) in the test's code and expect_blocking()."""

from __future__ import annotations

import json

import pytest

HEALTH_TESTS = """
import pytest
from pytest import raises
from blockbuster import BlockingError
from loopwarden.runtime import expect_blocking
from app import store


async def test_gate_catches_an_unoffloaded_call(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("hi")
    with pytest.raises(BlockingError):
        await store.read_blocking(path)


async def test_raises_imported_by_name(tmp_path):
    with raises(BlockingError, match="os.lstat"):
        store.warm_up(tmp_path)


async def test_swallowed_by_production_code_still_fails(tmp_path):
    assert await store.stat_swallowed(tmp_path)


async def test_a_broad_raises_is_not_an_expectation(tmp_path):
    with pytest.raises(Exception):
        await store.read_blocking(tmp_path / "missing.txt")


async def test_expect_blocking_takes_a_swallowed_hit(tmp_path):
    with expect_blocking() as caught:
        assert await store.stat_swallowed(tmp_path)
    assert [hit.symbol for hit in caught] == ["os.lstat"]


async def test_expect_blocking_absorbs_the_error(tmp_path):
    with expect_blocking():
        await store.read_blocking(tmp_path / "note.txt")


async def test_expect_blocking_with_nothing_caught_fails(tmp_path):
    (tmp_path / "note.txt").write_text("hi")
    with expect_blocking():
        await store.read_offloaded(tmp_path / "note.txt")
"""


def test_expected_hits_pass_and_swallowed_ones_fail(service: pytest.Pytester) -> None:
    service.makepyfile(test_health=HEALTH_TESTS)
    result = service.runpytest("--loopwarden", "-rA", "--loopwarden-report", "report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines(
        [
            "PASSED test_health.py::test_gate_catches_an_unoffloaded_call",
            "PASSED test_health.py::test_raises_imported_by_name",
            "PASSED test_health.py::test_expect_blocking_takes_a_swallowed_hit",
            "PASSED test_health.py::test_expect_blocking_absorbs_the_error",
            "FAILED test_health.py::test_swallowed_by_production_code_still_fails*",
            "FAILED test_health.py::test_a_broad_raises_is_not_an_expectation*",
            "FAILED test_health.py::test_expect_blocking_with_nothing_caught_fails*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["E *AssertionError: expect_blocking(): no blocking call was caught on the event loop inside this block"]
    )
    result.stdout.fnmatch_lines(
        [
            "expected (pytest.raises(BlockingError) or expect_blocking()), not failures:",
            "  builtins.open at app/store.py:11 in read_blocking: 2 tests",
            "    test_health.py::test_gate_catches_an_unoffloaded_call (call)",
            "    test_health.py::test_expect_blocking_absorbs_the_error (call)",
        ]
    )
    document = json.loads((service.path / "report.json").read_text())
    assert sorted(hit["test"].partition("::")[2] for hit in document["expected_hits"]) == [
        "test_expect_blocking_absorbs_the_error",
        "test_expect_blocking_takes_a_swallowed_hit",
        "test_gate_catches_an_unoffloaded_call",
        "test_raises_imported_by_name",
    ]
    assert sorted(hit["test"].partition("::")[2] for hit in document["hits"]) == [
        "test_a_broad_raises_is_not_an_expectation",
        "test_swallowed_by_production_code_still_fails",
    ]


def test_expect_blocking_checks_nothing_while_the_gate_is_off(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_health="""
        from loopwarden.runtime import expect_blocking
        from app import store

        async def test_off(tmp_path):
            with expect_blocking():
                assert await store.stat_swallowed(tmp_path)
        """
    )
    service.runpytest().assert_outcomes(passed=1)


def test_the_raises_hook_is_removed_after_each_gated_test(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_health="""
        import pytest

        EXIT = type(pytest.raises(ValueError)).__exit__

        @pytest.mark.loopwarden
        async def test_gated():
            assert type(pytest.raises(ValueError)).__exit__ is not EXIT

        def test_after():
            assert type(pytest.raises(ValueError)).__exit__ is EXIT
        """
    )
    service.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
