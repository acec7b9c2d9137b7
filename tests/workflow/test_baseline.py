"""Baselines: round trips, counts per key, stale entries, the ratchet, configuration, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from loopwarden.cli import main

TWO = "import os\nimport time\n\n\nasync def a():\n    time.sleep(1)\n\n\nasync def b():\n    return os.listdir('.')\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "svc.py").write_text(TWO)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_round_trip_file_is_sorted_and_stable(project, capsys):
    code, out, err = run(capsys, "baseline", "app")
    assert (code, out, err) == (0, "wrote .loopwarden-baseline.json: 2 finding(s) under 2 key(s)\n", "")
    text = (project / ".loopwarden-baseline.json").read_text()
    assert text == (
        '{\n  "tool": "loopwarden",\n  "baseline": 1,\n  "findings": {\n'
        '    "app/svc.py::a::time.sleep": 1,\n    "app/svc.py::b::os.listdir": 1\n  }\n}\n'
    )
    code, out, _ = run(capsys, "scan", "app", "--baseline", ".loopwarden-baseline.json")
    assert code == 0
    assert "0 finding(s)" in out
    assert "baseline .loopwarden-baseline.json: 0 new finding(s); 2 known finding(s) not reported; 0 stale entries" in out
    # Unchanged code: --update rewrites the same bytes.
    assert run(capsys, "baseline", "app", "--update")[0] == 0
    assert (project / ".loopwarden-baseline.json").read_text() == text


def test_moved_lines_are_still_known_and_a_second_copy_is_new(project, capsys):
    run(capsys, "baseline", "app")
    (project / "app" / "svc.py").write_text("\n\n# moved down\n" + TWO.replace("time.sleep(1)\n", "time.sleep(1)\n    time.sleep(2)\n"))
    code, out, _ = run(capsys, "scan", "app", "--baseline", ".loopwarden-baseline.json", "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text()))
    assert code == 1
    assert [(f["location"]["line"], f["key"]) for f in report["findings"]] == [(10, "app/svc.py::a::time.sleep")]
    assert report["baseline"] == {"file": ".loopwarden-baseline.json", "new": 1, "known": 2, "stale": []}


def test_stale_entries_are_listed_so_the_file_can_shrink(project, capsys):
    run(capsys, "baseline", "app")
    (project / "app" / "svc.py").write_text(TWO.replace("time.sleep(1)", "pass"))
    code, out, _ = run(capsys, "scan", "app", "--baseline", ".loopwarden-baseline.json")
    assert code == 0
    assert "1 stale entry (no longer found; `loopwarden baseline --update` drops them):\n  stale: app/svc.py::a::time.sleep\n" in out
    code, out, _ = run(capsys, "baseline", "app", "--update")
    assert (code, out) == (0, "updated .loopwarden-baseline.json: 1 finding(s) under 1 key(s); 1 dropped, 0 added\n")
    assert list(json.loads((project / ".loopwarden-baseline.json").read_text())["findings"]) == ["app/svc.py::b::os.listdir"]


def test_the_ratchet_refuses_growth_unless_allowed(project, capsys):
    run(capsys, "baseline", "app")
    before = (project / ".loopwarden-baseline.json").read_text()
    (project / "app" / "new.py").write_text("import time\n\n\nasync def c():\n    time.sleep(1)\n")
    code, out, err = run(capsys, "baseline", "app", "--update")
    assert code == 1 and out == ""
    assert err == (
        "loopwarden: refusing to grow .loopwarden-baseline.json: 1 finding(s) not in it (fix them, or --allow-growth):\n"
        "  new: app/new.py::c::time.sleep\n"
    )
    assert (project / ".loopwarden-baseline.json").read_text() == before
    code, out, _ = run(capsys, "baseline", "app", "--update", "--allow-growth")
    assert (code, out) == (0, "updated .loopwarden-baseline.json: 3 finding(s) under 3 key(s); 0 dropped, 1 added\n")


def test_keys_are_relative_to_the_baseline_file_not_the_current_directory(project, capsys, monkeypatch):
    run(capsys, "baseline", "app")
    monkeypatch.chdir(project / "app")
    code, out, _ = run(capsys, "scan", ".", "--baseline", "../.loopwarden-baseline.json")
    assert code == 0 and "2 known finding(s) not reported" in out


def test_the_configured_baseline_is_used_and_can_be_turned_off(project, capsys):
    (project / "pyproject.toml").write_text('[tool.loopwarden]\nbaseline = "ci/known.json"\n')
    (project / "ci").mkdir()
    assert run(capsys, "baseline", "app")[1] == f"wrote {project / 'ci' / 'known.json'}: 2 finding(s) under 2 key(s)\n"
    assert '"app/svc.py::a::time.sleep": 1' in (project / "ci" / "known.json").read_text()
    assert run(capsys, "scan", "app")[0] == 0
    assert run(capsys, "scan", "app", "--no-baseline")[0] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such baseline file (create it with `loopwarden baseline`)"),
        ("{", "not a baseline file (invalid JSON at line 1: Expecting property name enclosed in double quotes)"),
        ('{"findings": {}}', 'not a loopwarden baseline (expected {"tool": "loopwarden", "findings": {...}})'),
        ('{"tool": "loopwarden", "baseline": 7, "findings": {}}', "baseline format 7 is not supported (expected 1)"),
        ('{"tool": "loopwarden", "baseline": 1, "findings": {"a::b::c": 0}}', "bad entry 'a::b::c': 0"),
        (b"\xff\xfe", "not a baseline file (not UTF-8 text)"),
    ],
)
def test_bad_baseline_files_are_one_line_and_exit_2(project, capsys, content, message):
    path = project / "b.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "scan", "app", "--baseline", "b.json")
    assert (code, out) == (2, "")
    assert err.startswith(f"loopwarden: error: b.json: {message}") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--allow-growth"], "--allow-growth only applies with --update"),
        (["--update", "-o", "missing.json"], "missing.json: no such baseline file; run without --update to create it"),
        (["-o", "app"], "app: is a directory"),
        (["-o", "exists.json"], "exists.json: already exists; use --update to rewrite it"),
        (["--config", "nope.toml"], "nope.toml: no such file"),
    ],
)
def test_baseline_command_bad_input(project, capsys, args, message):
    (project / "exists.json").write_text("{}")
    code, out, err = run(capsys, "baseline", "app", *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"loopwarden: error: {message}") and err.count("\n") == 1
    assert Path("exists.json").read_text() == "{}"


def test_min_priority_does_not_make_hidden_entries_look_stale(project, capsys):
    (project / "app" / "svc.py").write_text(TWO.replace("os.listdir('.')", "os.path.exists('.')"))
    run(capsys, "baseline", "app")
    code, out, _ = run(capsys, "scan", "app", "--baseline", ".loopwarden-baseline.json", "--min-priority", "HIGH")
    assert code == 0
    assert "0 stale entries\nnote: stale entries are not checked with --min-priority above LOW\n" in out


def test_with_diff_the_baseline_filters_the_changed_findings_and_stale_is_from_the_whole_scan(tmp_path, capsys, monkeypatch):
    from tests.workflow.gitrepo import GIT_ENV, Repo

    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    repo = Repo(tmp_path / "repo")
    repo.commit({"svc.py": TWO})
    monkeypatch.chdir(repo.root)
    run(capsys, "baseline", ".")
    # The branch edits a() (its time.sleep line changes) and adds a second copy.
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"svc.py": TWO.replace("time.sleep(1)\n", "time.sleep(5)\n    time.sleep(6)\n")})
    code, out, _ = run(capsys, "scan", ".", "--diff", "main", "--baseline", ".loopwarden-baseline.json", "--format", "json")
    report = json.loads(out)
    assert [(f["location"]["line"], f["key"]) for f in report["findings"]] == [(7, "svc.py::a::time.sleep")]
    assert report["diff"]["new"] == 2  # both touched lines, before the baseline
    assert report["baseline"] == {"file": ".loopwarden-baseline.json", "new": 1, "known": 2, "stale": []}
