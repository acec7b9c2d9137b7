"""Fixtures for the runtime gate's tests: a small asyncio project inside pytester."""

from __future__ import annotations

import textwrap

import pytest

PYPROJECT = """
[project]
name = "app"

[tool.pytest.ini_options]
pythonpath = ["."]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""

STORE = """
import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


async def read_blocking(path):
    with open(path) as handle:
        return handle.read()


async def read_offloaded(path):
    return await asyncio.to_thread(Path(path).read_text)


async def read_in_executor(path):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, Path(path).read_text)


async def stat_swallowed(path):
    try:
        os.lstat(path)
    except Exception:
        log.exception("ignored")
    return True


def crunch(seconds):
    import time

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def hold_the_loop(seconds):
    crunch(seconds)


def warm_up(path):
    return os.lstat(path)


async def start():
    warm_up(".")
"""


@pytest.fixture
def service(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester with an ``app`` package (async code, some of it blocking) and its pyproject."""
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.mkpydir("app")
    (pytester.path / "app" / "store.py").write_text(STORE)
    return pytester


def add_runtime_table(pytester: pytest.Pytester, table: str) -> None:
    path = pytester.path / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.loopwarden.runtime]\n" + textwrap.dedent(table))


def add_ini(pytester: pytest.Pytester, lines: str) -> None:
    path = pytester.path / "pyproject.toml"
    text = path.read_text().replace(
        "[tool.pytest.ini_options]\n", "[tool.pytest.ini_options]\n" + textwrap.dedent(lines).strip() + "\n"
    )
    path.write_text(text)


def patch_points() -> tuple[object, ...]:
    """What the gate patches and must always put back (compared before and after a run)."""
    import asyncio
    import builtins
    import io
    import os
    import socket
    import subprocess
    import time

    return (
        builtins.open,
        io.open,
        os.stat,
        os.lstat,
        time.sleep,
        socket.getaddrinfo,
        subprocess.Popen.__init__,
        io.BufferedReader.read,
        io.TextIOWrapper.read,
        io.TextIOWrapper.write,
        asyncio.BaseEventLoop.run_forever,
    )
