"""Configuration per file: the nearest pyproject.toml with [tool.loopwarden] governs each
file (as in ruff), or --config governs all; the order of paths does not matter."""

from __future__ import annotations

import json

from loopwarden.cli import main

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
OPEN = "async def handler():\n    return open('x').read()\n"


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _monorepo(tmp_path):
    _write(
        tmp_path,
        {
            "a/pyproject.toml": "[tool.loopwarden]\nexclude = ['generated/']\nignore = ['SLEEP']\n",
            "a/svc.py": BLOCKING + OPEN.replace("handler", "reader"),
            "a/generated/g.py": BLOCKING,
            "b/pyproject.toml": "[project]\nname = 'b'\n",  # no [tool.loopwarden]: passed over
            "b/svc.py": BLOCKING,
            "b/generated/g.py": BLOCKING,
        },
    )


def test_each_file_follows_its_nearest_configuration_whatever_the_order(tmp_path, capsys, monkeypatch):
    _monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    reports = []
    for order in (["a", "b"], ["b", "a"]):
        code, out, _ = _run(["scan", *order, "--format", "json"], capsys)
        assert code == 1
        reports.append(json.loads(out))
    assert reports[0] == reports[1]
    found = sorted((f["location"]["path"], f["blocking_call"]["symbol"]) for f in reports[0]["findings"])
    # a/: generated/ excluded and SLEEP ignored by a/pyproject.toml; b/: defaults.
    assert found == [("a/svc.py", "builtins.open"), ("b/generated/g.py", "time.sleep"), ("b/svc.py", "time.sleep")]


def test_config_option_governs_every_file(tmp_path, capsys, monkeypatch):
    _monorepo(tmp_path)
    (tmp_path / "all.toml").write_text("[tool.loopwarden]\nselect = ['FILE_OPEN']\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = _run(["scan", "b", "a", "--config", "all.toml", "--format", "json"], capsys)
    assert sorted({f["blocking_call"]["category"] for f in json.loads(out)["findings"]}) == ["FILE_OPEN"]


def test_verbose_says_which_configuration_governs_which_files(tmp_path, capsys, monkeypatch):
    _monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    _, _, err = _run(["scan", "a", "b", "-v"], capsys)
    assert "loopwarden: config a/pyproject.toml governs 1 file(s) under a/" in err
    assert "loopwarden: config built-in defaults (no pyproject.toml with [tool.loopwarden] above them) governs 2 file(s) under b/" in err


def test_config_command_shows_values_and_where_they_came_from(tmp_path, capsys, monkeypatch):
    _monorepo(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(["config", "a/svc.py"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "# a/svc.py: governed by a/pyproject.toml"
    assert any(line.startswith('exclude = ["generated/"]') and line.endswith("# a/pyproject.toml") for line in lines)
    assert any(line.startswith('ignore = ["SLEEP"]') and line.endswith("# a/pyproject.toml") for line in lines)
    assert any(line.startswith('fail-on = "HIGH"') and line.endswith("# default") for line in lines)
    code, out, _ = _run(["config", "b"], capsys)
    assert out.splitlines()[0] == "# b: no pyproject.toml with a [tool.loopwarden] table at or above it; built-in defaults"


def test_a_broken_nested_configuration_is_a_usage_error(tmp_path, capsys, monkeypatch):
    _monorepo(tmp_path)
    (tmp_path / "b" / "pyproject.toml").write_text("[tool.loopwarden]\nfail-on = 'NEVER'\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["scan", "a", "b"], capsys)
    assert code == 2 and out == ""
    assert "b/pyproject.toml: tool.loopwarden.fail-on must be one of HIGH, MEDIUM, LOW" in err
