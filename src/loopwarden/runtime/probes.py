"""Probes: one small real call per blocking primitive, to measure what an interceptor catches.

Used by the tests (every loopwarden default rule is caught on the loop and allowed in a
worker thread) and by ``benchmarks/runtime_bench.py`` (which primitives blockbuster's own
default rules miss). Each probe prepares its resources outside the gate and returns a
zero-argument callable that performs exactly one blocking primitive.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Prepared = tuple[Callable[[], Any], Callable[[], None]]  # (the call, its clean-up)


@dataclass(frozen=True)
class Probe:
    name: str  # the primitive, as the issue and the catalogue name it
    prepare: Callable[[Path], Prepared]
    loopwarden_rule: bool  # one of the primitives loopwarden adds a default rule for


def _file(workdir: Path, content: bytes = b"loopwarden\n") -> Path:
    path = workdir / "probe.txt"
    path.write_bytes(content)
    return path


def _nothing() -> None:
    return None


def _bare_open(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: open(path, "rb").close()), _nothing


def _io_open(workdir: Path) -> Prepared:

    path = _file(workdir)
    return (lambda: open(path, "rb").close()), _nothing


def _os_open(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: os.close(os.open(path, os.O_RDONLY))), _nothing


def _open_and_read(workdir: Path) -> Prepared:
    path = _file(workdir)

    def open_and_read() -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    return open_and_read, _nothing


def _os_stat(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: os.stat(path)), _nothing


def _os_lstat(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: os.lstat(path)), _nothing


def _os_chmod(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: os.chmod(path, 0o644)), _nothing


def _os_utime(workdir: Path) -> Prepared:
    path = _file(workdir)
    return (lambda: os.utime(path)), _nothing


def _os_fsync(workdir: Path) -> Prepared:
    fd = os.open(_file(workdir), os.O_RDWR)
    return (lambda: os.fsync(fd)), (lambda: os.close(fd))


def _sqlite_connect(workdir: Path) -> Prepared:
    database = workdir / "probe.sqlite3"
    return (lambda: sqlite3.connect(database, check_same_thread=False).close()), _nothing


def _getaddrinfo(workdir: Path) -> Prepared:
    return (lambda: socket.getaddrinfo("localhost", 80)), _nothing


def _gethostbyname(workdir: Path) -> Prepared:
    return (lambda: socket.gethostbyname("localhost")), _nothing


def _popen(workdir: Path) -> Prepared:
    started: list[subprocess.Popen[bytes]] = []
    command = [shutil.which("true") or sys.executable, *([] if shutil.which("true") else ["-c", ""])]

    def start() -> None:
        started.append(subprocess.Popen(command))

    def reap() -> None:
        for process in started:
            process.wait()

    return start, reap


def _time_sleep(workdir: Path) -> Prepared:
    import time

    return (lambda: time.sleep(0)), _nothing


PROBES: tuple[Probe, ...] = (
    Probe("time.sleep", _time_sleep, False),
    Probe("os.stat", _os_stat, False),
    Probe("open+read", _open_and_read, False),
    Probe("builtins.open", _bare_open, True),
    Probe("io.open", _io_open, True),
    Probe("os.open", _os_open, True),
    Probe("os.lstat", _os_lstat, True),
    Probe("os.chmod", _os_chmod, True),
    Probe("os.fsync", _os_fsync, True),
    Probe("os.utime", _os_utime, True),
    Probe("sqlite3.connect", _sqlite_connect, True),
    Probe("socket.getaddrinfo", _getaddrinfo, True),
    Probe("socket.gethostbyname", _gethostbyname, True),
    Probe("subprocess.Popen", _popen, True),
)

# The primitives the issue asks loopwarden to catch beyond blockbuster's defaults.
LOOPWARDEN_DEFAULTS = tuple(probe.name for probe in PROBES if probe.loopwarden_rule)


def probe_by_name(name: str) -> Probe:
    return next(probe for probe in PROBES if probe.name == name)
