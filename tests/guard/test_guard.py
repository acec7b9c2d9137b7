"""``loopwarden guard --diff BASE`` end to end on a git repository built in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("libcst")

if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}

BASE_APP = '''\
import asyncio
from pathlib import Path


async def ping() -> str:
    return "pong"
'''

CHANGED_APP = '''\
import asyncio
import time
from pathlib import Path


def _save(root: Path, text: str) -> None:
    (root / "note.txt").write_text(text, encoding="utf-8")


def _present(root: Path) -> bool:
    return (root / "note.txt").exists()


async def ping() -> str:
    return "pong"


async def save(root: Path) -> None:
    _save(root, "hello")  # on the loop: FIX+ANCHOR


async def nap() -> None:
    time.sleep(0.01)  # on the loop: FIX+ANCHOR


async def present(root: Path) -> bool:
    return await asyncio.to_thread(_present, root)  # already offloaded: GUARD
'''

CLI_TOOL = '''\
import asyncio
from pathlib import Path


async def report() -> bool:
    return Path("report.txt").exists()  # reached only from a CLI: NO-ACTION


def main() -> None:
    asyncio.run(report())


if __name__ == "__main__":
    main()
'''

PYPROJECT = '''\
[project]
name = "guarded"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]
'''


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "core.py").write_text(BASE_APP)
    (root / "tests" / "test_ping.py").write_text("import asyncio\n\nfrom app.core import ping\n\n\ndef test_ping():\n    assert asyncio.run(ping()) == 'pong'\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    (root / "app" / "core.py").write_text(CHANGED_APP)
    (root / "app" / "tool.py").write_text(CLI_TOOL)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "change")
    return root


def guard(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "loopwarden", "guard", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=300)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts}


def by_key(doc: dict) -> dict[str, dict]:
    return {c["key"]: c for c in doc["candidates"]}


SAVE = "app/core.py::_save::pathlib.Path.write_text"
NAP = "app/core.py::nap::time.sleep"
PRESENT = "app/core.py::present::asyncio.to_thread(_present)"
REPORT = "app/tool.py::report::pathlib.Path.exists"


def test_dry_run_writes_nothing_and_says_what_it_would_do(repo: Path) -> None:
    before = files(repo)
    done = guard(repo, "--diff", "main", "--dry-run", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert files(repo) == before
    doc = json.loads(done.stdout)
    found = by_key(doc)
    assert {k: c["disposition"] for k, c in found.items()} == {SAVE: "FIX+ANCHOR", NAP: "FIX+ANCHOR", PRESENT: "GUARD", REPORT: "NO-ACTION"}
    assert "script or CLI code" in found[REPORT]["reason"]
    assert found[SAVE]["fix"] == "await asyncio.to_thread(_save, root, \"hello\")"
    assert found[NAP]["fix"] == "await asyncio.sleep(0.01)"
    assert found[SAVE]["anchor_state"] == "would write"
    assert "+    await asyncio.sleep(0.01)" in doc["fixes_diff"]
    assert doc["files_fixed"] == [] and doc["dry_run"] is True


def test_guard_fixes_anchors_and_proves_the_change(repo: Path) -> None:
    done = guard(repo, "--diff", "main", "--format", "json", "--output", "guard.json")
    doc = json.loads((repo / "guard.json").read_text())
    assert done.returncode == 0, (done.stderr, json.dumps(doc, indent=1))
    found = by_key(doc)
    # fixed on disk, by key
    core = (repo / "app" / "core.py").read_text()
    assert '    await asyncio.to_thread(_save, root, "hello")  # on the loop: FIX+ANCHOR' in core
    assert "    await asyncio.sleep(0.01)  # on the loop: FIX+ANCHOR" in core
    assert (repo / "app" / "tool.py").read_text() == CLI_TOOL  # NO-ACTION: untouched
    assert doc["files_fixed"] == ["app/core.py"]
    assert found[SAVE]["rescan"] == found[NAP]["rescan"] == "gone"
    # anchors written, red before the fix and green after
    anchors = {a["path"]: a for a in doc["anchors"]}
    assert set(anchors) == {"tests/test_loopwarden_save.py", "tests/test_loopwarden_nap.py", "tests/test_loopwarden_present.py"}
    assert all(a["state"] == "written" for a in anchors.values())
    for key in (SAVE, NAP):
        assert (found[key]["red_before"], found[key]["green_after"]) == (True, True), found[key]
    # teeth: the new offload and the existing one are killed when reverted
    assert found[SAVE]["teeth"] == "KILLED" and found[PRESENT]["teeth"] == "KILLED"
    assert found[NAP]["teeth"] is None  # asyncio.sleep is no offload: red -> green is its evidence
    assert doc["unguarded"] == [] and all(c["guarded"] for c in doc["candidates"])
    # the anchors run as written, green, under the gate
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--loopwarden", "tests"], cwd=repo, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout
    assert "4 passed" in ran.stdout
    # a second run: the fixed calls are offloads now (GUARD), their anchors exist and bite
    again = guard(repo, "--diff", "main", "--format", "json")
    assert again.returncode == 0, again.stdout
    second = by_key(json.loads(again.stdout))
    assert {c["disposition"] for c in second.values()} == {"GUARD", "NO-ACTION"}
    assert all(c["anchor_state"] == "exists" for c in second.values() if c["disposition"] == "GUARD")
    assert sorted(p.name for p in (repo / "tests").iterdir() if p.suffix == ".py") == [
        "test_loopwarden_nap.py",
        "test_loopwarden_present.py",
        "test_loopwarden_save.py",
        "test_ping.py",
    ]


def test_unguarded_exits_one_with_markdown_summary(repo: Path) -> None:
    # an anchor that cannot run as written (the entry point needs a real client) stays unguarded;
    # without teeth an existing offload stays unproven
    changed = CHANGED_APP.replace("async def nap() -> None:\n    time.sleep(0.01)", "async def nap(client) -> None:\n    time.sleep(0.01)\n    client.close()")
    (repo / "app" / "core.py").write_text(changed)
    done = guard(repo, "--diff", "main", "--no-teeth")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "| `app/core.py::nap::time.sleep` | FIX+ANCHOR |" in done.stdout
    assert "red → not green" in done.stdout
    assert f"**Unguarded: 2** — `{NAP}`, `{PRESENT}`" in done.stdout
    assert "teeth not run (--no-teeth)" in done.stdout


def test_bad_base_is_a_usage_error(repo: Path) -> None:
    done = guard(repo, "--diff", "no-such-branch")
    assert done.returncode == 2
    assert done.stderr.startswith("loopwarden: error: --diff no-such-branch:")


HAZARD_APP = '''\
import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="-")


def _tag(text: str) -> str:
    return f"[{request_id.get()}] {text}"


async def tag(text: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _tag, text)
'''


def test_a_hazard_gets_its_own_fix_not_an_offload(repo: Path) -> None:
    (repo / "app" / "tags.py").write_text(HAZARD_APP)  # uncommitted: the working tree is part of the change
    key = "app/tags.py::tag::app.tags.request_id.get"
    dry = guard(repo, "--diff", "main", "--dry-run", "--format", "json")
    found = by_key(json.loads(dry.stdout))
    assert found[key]["disposition"] == "FIX" and found[key]["reason"].startswith("CONTEXT_LOSS: ")
    assert found[key]["fix"] == "loop.run_in_executor(None, contextvars.copy_context().run, _tag, text)"
    assert found[key]["anchor"] is None  # a hazard has no gate anchor
    offload = "app/tags.py::tag::loop.run_in_executor(_tag)"
    assert offload in found, list(found)
    assert found[offload]["disposition"] == "NO-ACTION"
    done = guard(repo, "--diff", "main", "--no-teeth", "--format", "json")
    fixed = by_key(json.loads(done.stdout))[key]
    assert (fixed["rescan"], fixed["guarded"]) == ("gone", True)
    assert "await loop.run_in_executor(None, contextvars.copy_context().run, _tag, text)" in (repo / "app" / "tags.py").read_text()
