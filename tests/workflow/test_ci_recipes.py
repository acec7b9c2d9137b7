"""docs/ci.md and .pre-commit-hooks.yaml, tried as far as a test can: the hook manifest is
valid, every loopwarden command in the recipes parses, and the pre-commit recipe runs for real
(pre-commit itself, on a repository with a staged change)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from loopwarden.cli import build_parser
from tests.workflow.gitrepo import GIT_ENV, Repo

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "ci.md").read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)


def commands(text: str) -> list[list[str]]:
    """Each ``loopwarden ...`` command line in ``text``, split as a shell would, variables filled in."""
    found = []
    for match in re.finditer(r"\bloopwarden (scan|baseline|catalog|rule)\b[^|;\n]*", text):
        line = re.sub(r"\$\{\{[^}]*\}\}|\$[A-Z_]+", "x", match.group(0)).strip()
        if line.endswith("`"):  # prose
            continue
        found.append(shlex.split(line)[1:])
    return found


def parses(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: usage error
        pytest.fail(f"loopwarden {' '.join(argv)}: does not parse ({exc})")


def test_the_hook_manifest_is_valid_and_its_commands_parse():
    hooks = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == ["loopwarden", "loopwarden-baseline"]
    for hook in hooks:
        assert hook["pass_filenames"] is False and hook["types"] == ["python"]
        argv = shlex.split(hook["entry"])
        assert argv[0] == "loopwarden"
        parses(argv[1:])


def test_every_recipe_is_yaml_and_every_command_in_it_parses():
    assert len(BLOCKS) == 3
    workflow, gitlab, precommit = (yaml.safe_load(block) for block in BLOCKS)
    steps = workflow["jobs"]["loopwarden"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    assert gitlab["loopwarden"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert precommit["repos"][0]["hooks"][0]["pass_filenames"] is False
    found = [argv for block in BLOCKS for argv in commands(block)]
    assert len(found) == 5
    for argv in found:
        parses(argv)
    inline = [shlex.split(c)[1:] for c in re.findall(r"`(loopwarden (?:scan|baseline|catalog|rule)\b[^`\[]*)`", DOC)]
    assert len(inline) >= 8
    for argv in inline:
        parses(argv)


@pytest.fixture
def hooked_repo(tmp_path, monkeypatch):
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    repo = Repo(tmp_path / "repo")
    helper = "import time\n\n\ndef helper():\n    time.sleep(1)\n"
    repo.commit({"pkg/__init__.py": "", "pkg/util.py": helper, "pkg/legacy.py": "import time\n\n\nasync def old():\n    time.sleep(1)\n"})
    (tmp_path / "pre-commit-config.yaml").write_text(BLOCKS[2])
    return repo


def pre_commit(repo: Repo, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **GIT_ENV,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--config", str(tmp_path / "pre-commit-config.yaml")],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_pre_commit_recipe_reports_what_the_staged_change_introduces(hooked_repo, tmp_path):
    hooked_repo.write({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    hooked_repo.git("add", "pkg/web.py")
    proc = pre_commit(hooked_repo, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pkg/util.py:5:5  time.sleep  [ASYNC_REACHABLE]" in proc.stdout
    assert "1 new finding(s) against HEAD" in proc.stdout
    assert "legacy.py" not in proc.stdout
    hooked_repo.git("commit", "-q", "-m", "web")
    hooked_repo.write({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    return 1\n"})
    hooked_repo.git("add", "pkg/web.py")
    proc = pre_commit(hooked_repo, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
