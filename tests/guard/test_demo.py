"""The "Done when" of issue 12, reproducible: on a copy of the bundled example
examples/gated_service, a change that introduces three blocking calls (tests/guard/demo/export.py,
added as gated_service/export.py) is fixed, anchored and proven by one `loopwarden guard --diff`.
docs/workflow.md shows the same run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("libcst")
pytest.importorskip("pytest_asyncio")

if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gated_service"
CHANGE = Path(__file__).parent / "demo" / "export.py"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def run(cwd: Path, *cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_guard_on_the_bundled_example(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE, demo, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    run(demo, "git", "init", "-q", "-b", "main")
    run(demo, "git", "add", "-A")
    run(demo, "git", "commit", "-q", "-m", "the example as shipped")
    run(demo, "git", "checkout", "-q", "-b", "export")
    shutil.copy(CHANGE, demo / "gated_service" / "export.py")
    run(demo, "git", "add", "-A")
    assert run(demo, "git", "commit", "-q", "-m", "export notes").returncode == 0

    done = run(demo, sys.executable, "-m", "loopwarden", "guard", "--diff", "main", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    found = {c["key"]: c for c in doc["candidates"]}
    write = "gated_service/export.py::_write_index::pathlib.Path.write_text"
    glob = "gated_service/export.py::export_index::pathlib.Path.glob"
    sleep = "gated_service/export.py::throttle::time.sleep"
    # only what the change introduces: the example's own seven findings are not candidates
    assert set(found) == {write, glob, sleep}
    assert all(c["disposition"] == "FIX+ANCHOR" and c["rescan"] == "gone" for c in found.values())
    assert [(c["red_before"], c["green_after"]) for c in found.values()] == [(True, True)] * 3
    assert (found[write]["teeth"], found[glob]["teeth"], found[sleep]["teeth"]) == ("KILLED", "KILLED", None)
    assert doc["teeth"]["score"] == 100.0
    assert sorted(a["path"] for a in doc["anchors"]) == ["tests/test_loopwarden_export_index.py", "tests/test_loopwarden_throttle.py"]
    export = (demo / "gated_service" / "export.py").read_text()
    assert "    names = [p.stem for p in await asyncio.to_thread(sorted, root.glob(\"*.txt\"))]" in export
    assert "    await asyncio.to_thread(_write_index, root, names)" in export
    assert "    await asyncio.sleep(0.01)  # give the disk a break between exports" in export
    # the anchors are ordinary gated tests of the project: green now, as written
    anchors = run(demo, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--loopwarden", "tests/test_loopwarden_export_index.py", "tests/test_loopwarden_throttle.py")
    assert anchors.returncode == 0, anchors.stdout
    assert "2 passed" in anchors.stdout
