"""Every loopwarden default rule: caught on the loop, allowed in a worker thread.

These drive the Gate directly (no inner pytest run): a tiny "project" module calls each
probe, so the stack passes through project code as it would in a real service.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from pathlib import Path

import pytest
from blockbuster import BlockingError

from loopwarden.runtime.gate import Gate
from loopwarden.runtime.probes import LOOPWARDEN_DEFAULTS, PROBES, probe_by_name
from loopwarden.runtime.project import Project

from .conftest import patch_points

CALLER = """
import asyncio


async def on_loop(call):
    return call()


async def offloaded(call):
    return await asyncio.to_thread(call)


async def in_executor(call):
    return await asyncio.get_running_loop().run_in_executor(None, call)
"""


@pytest.fixture
def project(tmp_path: Path):
    package = tmp_path / "proj"
    package.mkdir()
    (package / "caller.py").write_text(CALLER)
    spec = importlib.util.spec_from_file_location("lw_probe_caller", package / "caller.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Project(str(tmp_path), (str(package) + os.sep,)), module


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.mark.parametrize("name", LOOPWARDEN_DEFAULTS)
def test_default_rule_is_caught_on_the_loop(name: str, project, workdir: Path) -> None:
    project_code, caller = project
    call, clean_up = probe_by_name(name).prepare(workdir)
    gate = Gate(project_code)
    try:
        with gate, pytest.raises(BlockingError):
            asyncio.run(caller.on_loop(call))
    finally:
        clean_up()
    [hit] = gate.take_hits()
    assert hit.location is not None and hit.location.path == "proj/caller.py"
    assert hit.location.function == "on_loop"
    assert hit.symbol == {"io.open": "builtins.open"}.get(name, name)


@pytest.mark.parametrize("name", LOOPWARDEN_DEFAULTS)
@pytest.mark.parametrize("offload", ["offloaded", "in_executor"])
def test_default_rule_is_allowed_in_a_worker_thread(name: str, offload: str, project, workdir: Path) -> None:
    project_code, caller = project
    call, clean_up = probe_by_name(name).prepare(workdir)
    gate = Gate(project_code)
    try:
        with gate:
            asyncio.run(getattr(caller, offload)(call))
    finally:
        clean_up()
    assert gate.take_hits() == []


def test_calls_outside_the_project_are_not_gated(tmp_path: Path, workdir: Path) -> None:
    elsewhere = Project(str(tmp_path), (str(tmp_path / "not-the-caller") + os.sep,))
    call, clean_up = probe_by_name("os.lstat").prepare(workdir)

    async def library_code() -> None:
        call()

    with Gate(elsewhere) as gate:
        asyncio.run(library_code())
    clean_up()
    assert gate.take_hits() == []


def test_blockbuster_default_rules_stay_on(project, workdir: Path) -> None:
    project_code, caller = project
    for name in ("time.sleep", "os.stat", "open+read"):
        call, clean_up = probe_by_name(name).prepare(workdir)
        with Gate(project_code), pytest.raises(BlockingError):
            asyncio.run(caller.on_loop(call))
        clean_up()


def test_every_probe_is_caught_by_the_gate(project, workdir: Path) -> None:
    project_code, caller = project
    gate = Gate(project_code)
    for probe in PROBES:
        call, clean_up = probe.prepare(workdir)
        with gate, pytest.raises(BlockingError):
            asyncio.run(caller.on_loop(call))
        clean_up()
    assert len(gate.take_hits()) == len(PROBES)


def test_deactivate_restores_every_patched_function(project) -> None:
    import io

    before = patch_points()
    gate = Gate(project[0])
    gate.activate()
    assert os.lstat not in before and io.BufferedReader.read not in before
    gate.deactivate()
    assert patch_points() == before


def test_a_contended_lock_wait_is_recorded_without_raising(project) -> None:
    """Raising out of Lock.acquire would leave the caller's lock protocol half done."""
    import threading

    project_code, caller = project
    lock = threading.Lock()
    lock.acquire()
    releaser = threading.Timer(0.05, lock.release)
    releaser.start()
    with Gate(project_code) as gate:
        asyncio.run(caller.on_loop(lambda: lock.acquire()))
    releaser.join()
    assert lock.locked()
    [hit] = gate.take_hits()
    assert (hit.symbol, hit.category) == ("threading.Lock.acquire", "LOCK_WAIT")
