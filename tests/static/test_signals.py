"""SIGINT and SIGTERM stop a parallel scan at once: every worker process gone, no report
written, exit 130 / 143. Real subprocesses on a scan slow enough to be interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the worker processes")

# Each file takes a worker a noticeable time (a long chain of nested calls to analyse).
SLOW_FILE = "import time\n\n" + "".join(f"def f{i}():\n    f{i + 1}()\n    time.sleep(0)\n\n" for i in range(1500)) + "async def main():\n    f0()\n"


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_every_worker_and_writes_no_report(tmp_path, signum, code):
    for i in range(120):
        (tmp_path / f"mod{i}.py").write_text(SLOW_FILE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopwarden", "scan", ".", "--jobs", "2", "--format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the scan finished before its workers could be seen"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)  # a worker left alive holds stdout open
        assert proc.returncode == code, err
        assert out == b""
        assert err.decode().strip().splitlines()[-1] == ("loopwarden: terminated" if code == 143 else "loopwarden: interrupted")
        time.sleep(0.2)
        assert [pid for pid in workers if _alive(pid)] == []
    finally:  # never leave processes behind, even when the test fails
        for pid in [proc.pid, *workers]:
            if _alive(pid) and b"loopwarden" in _cmdline(pid):
                os.kill(pid, signal.SIGKILL)
        proc.communicate()


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""
