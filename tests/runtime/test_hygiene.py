"""Gate hygiene for CI kept for years: grouped identical hits, stale allowances, the wider scope."""

from __future__ import annotations

import json

import pytest

from .conftest import add_ini, add_runtime_table


def test_one_call_site_hit_by_many_tests_is_one_block(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import pytest
        from app import store

        @pytest.mark.parametrize("n", range(5))
        async def test_same_site(tmp_path, n):
            await store.stat_swallowed(tmp_path)

        async def test_other_site(tmp_path):
            (tmp_path / "x").write_text("x")
            await store.read_blocking(tmp_path / "x")
        """
    )
    result = service.runpytest("--loopwarden", "-p", "no:randomly")
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines(
        [
            "6 gated tests: 6 blocking calls in 6 tests, 0 stalls, 0 opt-outs",
            "blocking calls on the event loop:",
            "  os.lstat at app/store.py:26 in stat_swallowed: 5 tests",
            "    test_notes.py::test_same_site[[]0[]] (call)",
            "    test_notes.py::test_same_site[[]1[]] (call)",
            "    test_notes.py::test_same_site[[]2[]] (call)",
            "    test_notes.py::test_same_site[[]3[]] (call)",
            "    test_notes.py::test_same_site[[]4[]] (call)",
            "  test_notes.py::test_other_site (call): builtins.open at app/store.py:11 in read_blocking",
        ]
    )


def test_stale_allow_entries_and_opt_out_markers_are_reported(service: pytest.Pytester) -> None:
    with open(service.path / "app" / "store.py", "a") as handle:
        handle.write("\n\ndef never_called():\n    return None\n")
    add_runtime_table(service, 'allow = ["app.store:warm_up", "app.store:never_called"]\n')
    service.makepyfile(
        test_notes="""
        import pytest
        from app import store

        async def test_start():
            await store.start()  # warm_up's lstat, allowed: that entry is in use

        @pytest.mark.allow_blocking_io(reason="reads on the loop")
        async def test_really_blocks(tmp_path):
            await store.stat_swallowed(tmp_path)

        @pytest.mark.allow_blocking_io(reason="left over from an old fix")
        async def test_no_longer_blocks(tmp_path):
            (tmp_path / "x").write_text("x")
            await store.read_offloaded(tmp_path / "x")
        """
    )
    result = service.runpytest("--loopwarden", "--loopwarden-report", "report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=3)  # an opted-out test that blocks is observed, not failed
    result.stdout.fnmatch_lines(
        [
            "stale allowances (matched no blocking call in this run):",
            "  pyproject.toml [[]tool.loopwarden.runtime[]] allow: 'app.store:never_called'",
            "  test_notes.py::test_no_longer_blocks: @pytest.mark.allow_blocking_io",
        ]
    )
    assert "'app.store:warm_up'" not in result.stdout.str()
    assert "test_really_blocks: @pytest" not in result.stdout.str()
    document = json.loads((service.path / "report.json").read_text())
    assert [(stale["kind"], stale["name"]) for stale in document["stale_allowances"]] == [
        ("allow", "app.store:never_called"),
        ("marker", "test_notes.py::test_no_longer_blocks"),
    ]


SDK = """
import asyncio
import os


def _background(path):
    os.lstat(path)  # the SDK blocks in its own task


async def _refresh(path):
    await asyncio.sleep(0)
    _background(path)


def start_refresher(path):
    return asyncio.ensure_future(_refresh(path))
"""


@pytest.mark.parametrize("scope", ["project", "called-from-project"])
def test_wider_scope_fails_blocks_in_tasks_the_project_started(service: pytest.Pytester, scope: str) -> None:
    (service.path / "sdk.py").write_text(SDK)
    add_ini(service, 'loopwarden_modules = ["app"]\nloopwarden_scope = "' + scope + '"')
    with open(service.path / "app" / "store.py", "a") as handle:
        handle.write("\n\nasync def connect(path):\n    import sdk\n\n    await sdk.start_refresher(path)\n")
    service.makepyfile(
        test_notes="""
        import asyncio
        import sdk
        from app import store

        async def test_project_started_the_task(tmp_path):
            await store.connect(tmp_path)

        async def test_test_started_the_task(tmp_path):
            await sdk.start_refresher(tmp_path)
        """
    )
    result = service.runpytest("--loopwarden", "-p", "no:randomly")
    if scope == "project":
        result.assert_outcomes(passed=2)
    else:
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "loopwarden: blocking call on the event loop: os.lstat [[]FS_META[]]",
                "  at           app/store.py:* in connect",
                "  entry point  task started at app/store.py:* in connect, task *",
                "FAILED test_notes.py::test_project_started_the_task - *",
            ]
        )


def test_an_unknown_scope_is_a_usage_error(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes="async def test_x():\n    pass\n")
    result = service.runpytest("--loopwarden", "-o", "loopwarden_scope=everything")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: loopwarden_scope = 'everything': expected one of project, called-from-project"])
