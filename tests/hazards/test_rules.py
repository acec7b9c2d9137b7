"""LOST_UPDATE and CONTEXT_LOSS on fixture projects: each expected finding is written on the
line it is about (``# expect: LOST_UPDATE``); every other offload in the fixtures is silent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.catalog.categories import CATEGORIES, HAZARDS
from loopwarden.static.scan import scan

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z_, ]+)")


def _scan(root: Path, monkeypatch: pytest.MonkeyPatch, *paths: str):
    monkeypatch.chdir(root)
    return scan(list(paths or ["."]), default_catalog(), respect_gitignore=False, cwd=str(root))


def _expected(root: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _EXPECT.search(line)
            if match:
                for category in match.group(1).replace(",", " ").split():
                    found.add((path.relative_to(root).as_posix(), number, category))
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_fixture_findings_are_exactly_the_expected_ones(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = FIXTURES / name
    result = _scan(root, monkeypatch, "app")
    actual = {(f.path, f.line, f.category) for f in result.findings if f.category in HAZARDS}
    expected = _expected(root)
    assert expected, "a fixture without expectations tests nothing"
    assert actual == expected
    assert not result.skipped


def test_lost_update_names_the_read_and_the_write(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _scan(FIXTURES / "lost_update", monkeypatch, "app")
    finding = next(f for f in result.findings if f.path == "app/files.py" and f.line == 33)
    assert finding.priority == "MEDIUM" and finding.exposure == "OFFLOADED"
    assert finding.symbol == "app.files.CONFIG"
    assert "read at app/files.py:15 in set_key" in finding.reason
    assert "write at app/files.py:17 in set_key" in finding.reason
    assert [s.function for s in finding.chain] == ["app.files.unlocked", "app.files.set_key"]
    assert "async with lock" in finding.fix


def test_context_loss_across_modules_has_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _scan(FIXTURES / "context_loss", monkeypatch, "app")
    finding = next(f for f in result.findings if f.line == 39)
    assert finding.symbol == "app.ctx.current_user.get"
    assert [(s.function, s.line) for s in finding.chain] == [
        ("app.service.other_module", 39),
        ("app.audit.format_line", 11),
        ("app.audit.who", 7),
    ]
    assert "ctx.run" in finding.fix


def test_suppression_comment_silences_a_hazard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = HAZARDS["LOST_UPDATE"].example.replace(
        "await asyncio.to_thread(_set, key, value)", "await asyncio.to_thread(_set, key, value)  # loopwarden: ignore[LOST_UPDATE]"
    )
    (tmp_path / "mod.py").write_text(code, encoding="utf-8")
    result = _scan(tmp_path, monkeypatch, "mod.py")
    assert [f for f in result.findings if f.category in HAZARDS] == []
    assert result.suppressed == 1 and result.suppression_notes == []


@pytest.mark.parametrize("name", list(HAZARDS))
def test_documented_example_is_found_and_fix_is_clean(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "example.py").write_text(HAZARDS[name].example, encoding="utf-8")
    (tmp_path / "instead.py").write_text(HAZARDS[name].instead, encoding="utf-8")
    result = _scan(tmp_path, monkeypatch, "example.py", "instead.py")
    assert {(f.path, f.category) for f in result.findings} == {("example.py", name)}
    assert not set(HAZARDS) & set(CATEGORIES)


def test_json_sarif_and_rule_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from loopwarden.cli import main

    monkeypatch.chdir(FIXTURES / "context_loss")
    assert main(["scan", "app", "--format", "json"]) == 0  # MEDIUM: below the default fail-on HIGH
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert {f["blocking_call"]["category"] for f in document["findings"]} == {"CONTEXT_LOSS"}
    assert main(["scan", "app", "--format", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    run = sarif["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"CONTEXT_LOSS", "LOST_UPDATE"} <= set(rules)
    assert all(rules[r["ruleIndex"]] == "CONTEXT_LOSS" for r in run["results"])
    assert main(["rule", "lost-update"]) == 0
    assert "## LOST_UPDATE" in capsys.readouterr().out


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hazards_demo"


def test_example_reports_each_hazard_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _scan(EXAMPLE, monkeypatch, "hazards_demo")
    assert {(f.path, f.line, f.category) for f in result.findings} == {
        ("hazards_demo/reports.py", 16, "CONTEXT_LOSS"),
        ("hazards_demo/settings.py", 23, "LOST_UPDATE"),
    }


def test_example_tests_pin_the_fixes() -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=EXAMPLE, capture_output=True, text=True, check=False, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "6 passed" in run.stdout


def test_select_and_ignore_take_hazard_categories(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from loopwarden.cli import main

    monkeypatch.chdir(EXAMPLE)
    assert main(["scan", "hazards_demo", "--format", "json", "--select", "LOST_UPDATE"]) == 0
    assert [f["blocking_call"]["category"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["LOST_UPDATE"]
    assert main(["scan", "hazards_demo", "--format", "json", "--ignore", "lost_update"]) == 0
    assert [f["blocking_call"]["category"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["CONTEXT_LOSS"]
