"""The terminal summary, the JSON report (static scanner's key format) and xdist."""

from __future__ import annotations

import json

import jsonschema
import pytest

from .conftest import add_ini

LOCATION = {
    "type": ["object", "null"],
    "required": ["path", "line", "function"],
    "properties": {"path": {"type": "string"}, "line": {"type": "integer"}, "function": {"type": "string"}},
}
REPORT_SCHEMA = {
    "type": "object",
    "required": ["tool", "kind", "version", "schema", "hits", "stalls", "opt_outs"],
    "properties": {
        "tool": {"const": "loopwarden"},
        "kind": {"const": "runtime"},
        "schema": {"const": 1},
        "version": {"type": "string"},
        "gated_tests": {"type": "integer"},
        "hits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "key",
                    "test",
                    "phase",
                    "symbol",
                    "category",
                    "operation",
                    "location",
                    "entry_point",
                    "thread",
                ],
                "properties": {
                    "key": {"type": "string", "pattern": "^[^:]+::[^:]+::[A-Za-z_][\\w.]*$"},
                    "phase": {"enum": ["setup", "call", "teardown"]},
                    "location": LOCATION,
                },
            },
        },
        "stalls": {
            "type": "array",
            "items": {"type": "object", "required": ["test", "phase", "lag_ms", "threshold_ms", "location", "stack"]},
        },
        "opt_outs": {
            "type": "array",
            "items": {"type": "object", "required": ["test", "reason"]},
        },
    },
}

TESTS = """
import pytest
from pathlib import Path
from app import store

async def test_stat(tmp_path):
    await store.stat_swallowed(tmp_path)

async def test_exists(tmp_path):
    await store.exists(tmp_path)

async def test_crunch():
    await store.hold_the_loop(0.5)

@pytest.mark.allow_blocking_io(reason="reads its config at start-up")
async def test_config(tmp_path):
    await store.stat_swallowed(tmp_path)

async def test_clean():
    pass
"""


@pytest.fixture
def project(service: pytest.Pytester) -> pytest.Pytester:
    with open(service.path / "app" / "store.py", "a") as handle:
        handle.write("\n\nasync def exists(path):\n    return Path(path).exists()\n")
    add_ini(service, "loopwarden_stall_ms = 50")
    service.makepyfile(test_notes=TESTS)
    return service


def _report(pytester: pytest.Pytester, *args: str) -> dict:
    result = pytester.runpytest("--loopwarden", "--loopwarden-report", "out/loopwarden.json", *args)
    result.assert_outcomes(passed=3, failed=2, warnings=1)
    document = json.loads((pytester.path / "out" / "loopwarden.json").read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    return document


def test_json_report_uses_the_static_scanners_keys(project: pytest.Pytester) -> None:
    document = _report(project)
    assert sorted(hit["key"] for hit in document["hits"]) == [
        "app/store.py::exists::pathlib.Path.exists",
        "app/store.py::stat_swallowed::os.lstat",
    ]
    exists = next(hit for hit in document["hits"] if hit["symbol"] == "pathlib.Path.exists")
    assert exists["intercepted"] in ("os.stat", "pathlib.Path.stat")  # the latter on Python 3.10
    assert exists["category"] == "FS_META"
    assert exists["entry_point"] == "test_notes.py::test_exists"
    assert exists["test"] == "test_notes.py::test_exists" and exists["phase"] == "call"
    [stall] = document["stalls"]
    assert stall["test"] == "test_notes.py::test_crunch" and stall["location"]["function"] == "crunch"
    assert document["opt_outs"] == [{"test": "test_notes.py::test_config", "reason": "reads its config at start-up"}]
    assert document["gated_tests"] == 4


def test_terminal_summary_lists_gated_tests_hits_stalls_and_opt_outs(project: pytest.Pytester) -> None:
    result = project.runpytest("--loopwarden")
    result.stdout.fnmatch_lines(
        [
            "*= loopwarden =*",
            "4 gated tests: 2 blocking calls in 2 tests, 1 stall, 1 opt-out",
            "blocking calls on the event loop:",
            "  test_notes.py::test_stat (call): os.lstat at app/store.py:26 in stat_swallowed",
            "  test_notes.py::test_exists (call): pathlib.Path.exists at app/store.py:* in exists",
            "event-loop stalls:",
            "  test_notes.py::test_crunch (call): loop held * ms at app/store.py:* in crunch",
            "opted out (@pytest.mark.allow_blocking_io):",
            "  test_notes.py::test_config: reads its config at start-up",
        ]
    )


def test_xdist_workers_gate_their_own_tests_and_the_controller_reports(project: pytest.Pytester) -> None:
    document = _report(project, "-n", "2", "-p", "no:randomly")
    assert len(document["hits"]) == 2 and len(document["stalls"]) == 1 and len(document["opt_outs"]) == 1
    assert {hit["thread"] for hit in document["hits"]} == {"MainThread"}


def test_verbose_summary_lists_each_gated_test(project: pytest.Pytester) -> None:
    result = project.runpytest("--loopwarden", "-v")
    result.stdout.fnmatch_lines(["gated tests:", "  test_notes.py::test_stat", "  test_notes.py::test_exists"])
    assert "  test_notes.py::test_config" not in result.stdout.str().split("\ngated tests:\n")[1]
