"""The gate under pytest-asyncio (strict and auto), anyio's plugin, asyncio.run in sync
tests, async fixtures (setup and teardown) and tasks the project spawns."""

from __future__ import annotations

import pytest


def test_pytest_asyncio_strict_mode(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import pytest
        from app import store

        @pytest.mark.asyncio
        async def test_blocks(tmp_path):
            await store.stat_swallowed(tmp_path)

        @pytest.mark.asyncio
        async def test_offloads(tmp_path):
            (tmp_path / "n").write_text("x")
            await store.read_offloaded(tmp_path / "n")
        """
    )
    result = service.runpytest("--loopwarden", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_blocks - *"])


def test_anyio_plugin(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import anyio
        import pytest
        from app import store

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_blocks(tmp_path):
            await store.stat_swallowed(tmp_path)

        @pytest.mark.anyio
        async def test_offloads(tmp_path):
            await anyio.to_thread.run_sync(store.warm_up, str(tmp_path))

        @pytest.mark.anyio
        async def test_blocks_inside_a_task_group(tmp_path):
            (tmp_path / "n").write_text("x")
            async with anyio.create_task_group() as group:
                group.start_soon(store.read_blocking, tmp_path / "n")
        """
    )
    result = service.runpytest("--loopwarden", "-o", "asyncio_mode=strict")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*blocking call on the event loop: builtins.open*",
            "  at           app/store.py:11 in read_blocking",
            "  entry point  app/store.py::read_blocking, task *",
        ]
    )


def test_sync_test_calling_asyncio_run(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import asyncio
        from app import store

        def test_runs_the_service():
            asyncio.run(store.start())

        def test_blocking_outside_any_loop_is_fine(tmp_path):
            store.warm_up(str(tmp_path))
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "loopwarden: blocking call on the event loop: os.lstat [[]FS_META[]]",
            "  at           app/store.py:45 in warm_up",
            "  entry point  app/store.py::start, task *",
        ]
    )


def test_async_fixture_setup_and_teardown_are_gated(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_notes="""
        import pytest
        import pytest_asyncio
        from app import store

        @pytest_asyncio.fixture
        async def blocks_in_setup(tmp_path):
            await store.stat_swallowed(tmp_path)
            yield

        @pytest_asyncio.fixture
        async def blocks_in_teardown(tmp_path):
            yield
            await store.stat_swallowed(tmp_path)

        async def test_setup(blocks_in_setup):
            pass

        async def test_teardown(blocks_in_teardown):
            pass
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_teardown*",
            "  test         test_notes.py::test_teardown (teardown)",
        ]
    )
    result.stdout.fnmatch_lines(["  test         test_notes.py::test_setup (setup)"])


def test_task_spawned_by_the_project_names_its_coroutine_as_entry_point(service: pytest.Pytester) -> None:
    (service.path / "app" / "server.py").write_text(
        "import asyncio\n"
        "from app import store\n\n"
        "async def handle(path):\n"
        "    return await store.read_blocking(path)\n\n"
        "async def serve(path):\n"
        "    task = asyncio.create_task(handle(path), name='handler')\n"
        "    try:\n"
        "        await task\n"
        "    except Exception:\n"
        "        pass\n"
    )
    service.makepyfile(
        test_notes="""
        from app import server

        async def test_serves(tmp_path):
            (tmp_path / "n").write_text("x")
            await server.serve(tmp_path / "n")
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  entry point  app/server.py::handle, task 'handler'"])
