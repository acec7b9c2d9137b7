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


def test_opt_out_without_a_reason_is_a_usage_error(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import pytest

        @pytest.mark.allow_blocking_io
        async def test_legacy():
            pass
        """
    )
    result = service.runpytest("--loopwarden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_notes.py::test_legacy: @pytest.mark.allow_blocking_io needs a reason*"])


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
