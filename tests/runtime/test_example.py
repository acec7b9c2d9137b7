"""examples/gated_service: --loopwarden fails exactly the tests that block on the loop."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gated_service"


@pytest.fixture
def example(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return pytester


def test_example_passes_without_the_gate(example: pytest.Pytester) -> None:
    example.runpytest().assert_outcomes(passed=9)


def test_example_fails_exactly_the_blocking_tests_with_the_gate(example: pytest.Pytester) -> None:
    result = example.runpytest("--loopwarden", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("failed")) == (5, 4)
    result.stdout.fnmatch_lines(
        [
            "8 gated tests: 4 blocking calls in 4 tests, * 1 opt-out",
            "blocking calls on the event loop:",
            "  tests/test_audit.py::test_record (call): sqlite3.connect at gated_service/audit.py:14 in record",
            "  tests/test_notes.py::test_save (call): builtins.open at gated_service/notes.py:20 in NoteStore.save",
            "  tests/test_notes.py::test_exists (call): pathlib.Path.exists at gated_service/notes.py:27 in NoteStore.exists",
            "  tests/test_resolver.py::test_relay_address_blocking (call): socket.gethostbyname at "
            "gated_service/resolver.py:15 in relay_address_blocking",
        ]
    )
