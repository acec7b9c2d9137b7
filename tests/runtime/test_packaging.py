"""A scan-only install: no blockbuster (nor forbiddenfruit, an sdist-only package), no pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loopwarden.runtime.rules import read_pyproject

REPO = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> set[str]:
    return {requirement.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for requirement in requirements}


def test_the_gate_dependencies_are_an_extra() -> None:
    project = read_pyproject(REPO / "pyproject.toml")["project"]
    assert not {"blockbuster", "forbiddenfruit", "pytest"} & _names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert {"blockbuster", "pytest"} <= _names(extras["pytest"])
    assert "blockbuster" in _names(extras["test"])  # `make test` still installs it


def test_scanning_never_imports_blockbuster_or_pytest(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import time\n\nasync def handler():\n    time.sleep(1)\n")
    code = (
        "import sys\n"
        "sys.modules['blockbuster'] = sys.modules['forbiddenfruit'] = sys.modules['pytest'] = None\n"
        "from loopwarden.cli import main\n"
        f"sys.exit(main(['scan', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr  # 1: findings
    assert "time.sleep" in result.stdout
