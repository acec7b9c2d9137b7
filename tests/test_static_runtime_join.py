"""One key everywhere: every runtime hit of the gate names a finding of the static scanner.

Runs the gate on examples/gated_service with --loopwarden-report, scans the same project
statically, and joins the two on `<path>::<function>::<symbol>`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.static.scan import scan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gated_service"


def test_runtime_hits_join_static_findings(pytester: pytest.Pytester) -> None:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    pytester.runpytest("--loopwarden", "--loopwarden-report", "hits.json")
    hits = json.loads((pytester.path / "hits.json").read_text())["hits"]
    runtime_keys = {hit["key"] for hit in hits}
    static_keys = {f.key for f in scan(["."], default_catalog(), cwd=str(pytester.path)).findings}
    assert runtime_keys == {
        "gated_service/audit.py::record::sqlite3.connect",
        "gated_service/notes.py::NoteStore.save::builtins.open",
        "gated_service/notes.py::NoteStore.exists::pathlib.Path.exists",
        "gated_service/resolver.py::relay_address_blocking::socket.gethostbyname",
    }
    assert runtime_keys <= static_keys, runtime_keys - static_keys
