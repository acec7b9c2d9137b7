"""The gate's health checks, run on a small project inside pytester."""

from __future__ import annotations

import pytest

from .conftest import add_ini, patch_points

BLOCKING_TEST = """
from app import store

async def test_reads_note(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("hi")
    assert await store.read_blocking(path) == "hi"
"""


def test_unoffloaded_call_fails_with_a_readable_message(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes=BLOCKING_TEST)
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "loopwarden: blocking call on the event loop: builtins.open [[]FILE_OPEN[]]",
            "  at           app/store.py:11 in read_blocking",
            "  entry point  test_notes.py::test_reads_note, task *",
            "  test         test_notes.py::test_reads_note (call)",
            "  fix          offload with `await asyncio.to_thread(...)`",
            "FAILED test_notes.py::test_reads_note - loopwarden: blocking call on the*",
        ]
    )
    assert "blockbuster.py" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_the_same_call_offloaded_passes(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        from app import store

        async def test_to_thread(tmp_path):
            path = tmp_path / "note.txt"
            path.write_text("hi")
            assert await store.read_offloaded(path) == "hi"

        async def test_executor(tmp_path):
            path = tmp_path / "note.txt"
            path.write_text("hi")
            assert await store.read_in_executor(path) == "hi"
        """
    )
    service.runpytest("--loopwarden").assert_outcomes(passed=2)


def test_blocking_in_test_code_itself_is_not_the_projects(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        async def test_writes_its_fixture_file(tmp_path):
            (tmp_path / "note.txt").write_text("hi")
        """
    )
    service.runpytest("--loopwarden").assert_outcomes(passed=1)


def test_opt_out_skips_the_gate_and_shows_the_reason(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes=BLOCKING_TEST
        + """
import pytest

@pytest.mark.allow_blocking_io(reason="legacy importer, tracked in #12")
async def test_legacy(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("hi")
    await store.read_blocking(path)
"""
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "opted out (@pytest.mark.allow_blocking_io):",
            "  test_notes.py::test_legacy: legacy importer, tracked in #12",
        ]
    )


BARE_MARKER = """
import pytest
from app import store

@pytest.mark.allow_blocking_io
async def test_legacy(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("hi")
    await store.read_blocking(path)

async def test_plain():
    pass
"""


def test_bare_opt_out_marker_changes_nothing_while_the_gate_is_off(service: pytest.Pytester) -> None:
    """A project that already uses a bare marker and merely installs loopwarden: same run."""
    service.makepyfile(test_notes=BARE_MARKER)
    result = service.runpytest("-q", "--strict-markers")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    assert "loopwarden" not in result.stdout.str() + result.stderr.str()


def test_bare_opt_out_marker_is_accepted_when_the_gate_is_on(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes=BARE_MARKER)
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "1 gated test: 0 blocking calls in 0 tests, 0 stalls, 1 opt-out",
            "opted out (@pytest.mark.allow_blocking_io):",
            "  test_notes.py::test_legacy: (no reason given)",
        ]
    )


def test_skipped_tests_are_not_counted_as_gated(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import pytest

        @pytest.mark.skip(reason="not today")
        async def test_marked_skip():
            pass

        async def test_skips_itself():
            pytest.skip("no network")

        async def test_runs():
            pass
        """
    )
    result = service.runpytest("--loopwarden", "-v")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["1 gated test: 0 blocking calls in 0 tests, 0 stalls, 0 opt-outs", "gated tests:", "  test_notes.py::test_runs"])


def test_without_blockbuster_the_gate_is_one_usage_error_naming_the_extra(service: pytest.Pytester) -> None:
    service.makeconftest("import sys\nsys.modules['blockbuster'] = None  # as if not installed\n")
    service.makepyfile(test_notes=BARE_MARKER)
    off = service.runpytest()
    off.assert_outcomes(passed=2)  # installed and not enabled: nothing to import, nothing changes
    on = service.runpytest("--loopwarden")
    assert on.ret == pytest.ExitCode.USAGE_ERROR
    on.stderr.fnmatch_lines(["ERROR: loopwarden: the runtime gate needs blockbuster, *pip install 'loopwarden[[]pytest[]]'"])
    assert len([line for line in on.stderr.lines if line.strip()]) == 1
    marked = service.runpytest("-o", "loopwarden_paths=test_notes.py")
    assert marked.ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.parametrize(
    "body",
    [
        "raise RuntimeError('boom')",
        "await store.read_blocking(__file__)",
        "raise KeyboardInterrupt",
    ],
    ids=["exception", "blocking-error", "keyboard-interrupt"],
)
def test_patches_are_restored_after_the_test_ends_badly(service: pytest.Pytester, body: str) -> None:
    service.makepyfile(
        test_notes=f"""
        from app import store

        async def test_ends_badly():
            {body}
        """
    )
    before = patch_points()
    result = service.runpytest_inprocess("--loopwarden", no_reraise_ctrlc=True)
    if body != "raise KeyboardInterrupt":  # an interrupted run has no outcomes to count
        result.assert_outcomes(failed=1)
    assert patch_points() == before


def test_a_swallowed_blocking_error_still_fails_the_test(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        from app import store

        async def test_stat(tmp_path):
            assert await store.stat_swallowed(tmp_path)
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "loopwarden: blocking call on the event loop: os.lstat [[]FS_META[]]",
            "  at           app/store.py:26 in stat_swallowed",
        ]
    )


def test_a_stall_is_reported_as_a_warning(service: pytest.Pytester) -> None:
    add_ini(service, "loopwarden_stall_ms = 50")
    service.makepyfile(
        test_notes="""
        from app import store

        async def test_crunches():
            await store.hold_the_loop(0.6)
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*LoopwardenStallWarning: loopwarden: the event loop was held for * ms (loopwarden_stall_ms = 50)",
            "*at           app/store.py:* in crunch",
            "event-loop stalls:",
            "  test_notes.py::test_crunches (call): loop held * ms at app/store.py:* in crunch",
        ]
    )


def test_a_stall_fails_the_test_with_stall_fail(service: pytest.Pytester) -> None:
    add_ini(service, 'loopwarden_stall_ms = 50\nloopwarden_stall = "fail"')
    service.makepyfile(
        test_notes="""
        from app import store

        async def test_crunches():
            await store.hold_the_loop(0.6)

        async def test_quick():
            pass
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_crunches - loopwarden: the event loop was held for*"])


def test_a_stall_fails_when_warnings_are_errors(service: pytest.Pytester) -> None:
    add_ini(service, "loopwarden_stall_ms = 50")
    service.makepyfile(
        test_notes="""
        from app import store

        async def test_crunches():
            await store.hold_the_loop(0.6)
        """
    )
    result = service.runpytest("--loopwarden", "-W", "error")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_crunches - loopwarden: the event loop was held for*"])
