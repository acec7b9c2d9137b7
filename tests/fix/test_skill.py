"""``loopwarden agent-skill``: the shipped skill file, printed or written to a folder."""

from __future__ import annotations

import sys
from pathlib import Path

from loopwarden.cli import COMMANDS, main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_prints_the_skill(capsys):
    assert main(["agent-skill"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("---\nname: loopwarden\n")
    for command in ("loopwarden fix", "loopwarden anchor", "loopwarden teeth", "@pytest.mark.loopwarden"):
        assert command in out


def test_writes_it_to_a_folder(tmp_path):
    assert main(["agent-skill", "--output", str(tmp_path / "skills" / "loopwarden")]) == 0
    written = (tmp_path / "skills" / "loopwarden" / "SKILL.md").read_text()
    assert written == (ROOT / "src" / "loopwarden" / "fix" / "SKILL.md").read_text()
    (tmp_path / "file").write_text("x")
    assert main(["agent-skill", "--output", str(tmp_path / "file")]) == 2


def test_shipped_and_every_command_it_names_exists():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["loopwarden"]
    assert "fix/SKILL.md" in data
    text = (ROOT / "src" / "loopwarden" / "fix" / "SKILL.md").read_text()
    for command in ("fix", "anchor", "teeth", "explain", "agent-skill", "guard"):
        assert command in COMMANDS
    assert "`loopwarden scan --diff BASE`" in text
    assert "`loopwarden guard --diff BASE [--dry-run] [--format json] [--output FILE]`" in text
