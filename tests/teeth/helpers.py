"""Running ``loopwarden teeth`` on a copy of a fixture project, as a user would."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_fixture(name: str, dest: Path) -> Path:
    shutil.copytree(FIXTURES / name, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def digests(root: Path) -> dict[str, str]:
    """Every file but caches: path -> sha256."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts:
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def teeth(cwd: Path, *args: str, python: str = sys.executable, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "loopwarden", "teeth", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def outcomes(document: dict) -> dict[str, str]:
    return {s["id"]: s["outcome"] for s in document["sites"]}


def load(result: subprocess.CompletedProcess) -> dict:
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}") from None
