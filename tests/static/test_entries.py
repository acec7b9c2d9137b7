"""Entry points per finding, their kinds and scopes, priorities, fix hints, explain.

Each ``entry_*`` fixture also has ``entries.txt``: every finding with every entry point
(priority, scope, label, where the offload goes, chain). Regenerate like expected.txt
(LOOPWARDEN_UPDATE_SNAPSHOTS=1) and read the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from loopwarden.cli import main
from loopwarden.report.text import plain, steps_text
from tests.static.snapshot import FIXTURES, UPDATE, scan_fixture

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text(encoding="utf-8"))
CASES = ["entry_points", "entry_startup_only", "entry_kinds"]


def render_entries(name: str) -> str:
    out = []
    for f in scan_fixture(name).findings:
        out.append(f"{f.priority} {f.key} {f.exposure} ({f.entry_total} entry points)")
        for p in f.entry_points:
            where = f"{p.offload_path}:{p.offload_line}" if p.offload_line else "-"
            out.append(f"  {p.priority} {p.scope} {p.kind} [{p.label}] offload={where}: {steps_text(p.chain, f.symbol)}")
        out.append(f"  fix: {f.fix}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_every_entry_point_is_listed(name: str) -> None:
    actual = render_entries(name)
    expected = FIXTURES / name / "entries.txt"
    if UPDATE:
        expected.write_text(actual, encoding="utf-8")
    assert actual == expected.read_text(encoding="utf-8")


def test_one_finding_per_blocking_call_names_every_entry_point() -> None:
    findings = {f.key: f for f in scan_fixture("entry_points").findings}
    opened = findings["svc/helpers.py::load::builtins.open"]
    assert opened.priority == "HIGH"
    labels = {p.label for p in opened.entry_points}
    assert {"route GET /notes", "route POST /notes", "websocket /ws", "route GET /service"} <= labels
    # the route reaching the helper through an async service: the offload goes in the service
    via = next(p for p in opened.entry_points if p.label == "route GET /service")
    assert via.offload_function == "svc.web.service" and via.chain[0].function == "svc.web.via_service"
    scopes = {p.function: p.scope for p in opened.entry_points}
    assert scopes["svc.web._orphan"] == "unreferenced"
    assert scopes["svc.cli.amain"] == "cli"
    assert scopes["svc.scripts.bench.run_bench"] == "cli"
    assert scopes["tests.test_web.test_load"] == "test"
    assert opened.entry_total == len(opened.entry_points) == 8


def test_start_up_cli_and_test_only_code_is_low_and_no_fix_points_into_tests() -> None:
    findings = scan_fixture("entry_startup_only").findings
    assert {(f.symbol, f.exposure, f.priority) for f in findings} == {
        ("subprocess.run", "STARTUP", "LOW"),
        ("shutil.rmtree", "CLI", "LOW"),
        ("time.sleep", "TEST", "LOW"),
    }
    assert all("tests/" not in f.fix for f in findings)


def test_cheap_syscall_on_a_route_does_not_fail_by_default(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES / "entry_startup_only")
    assert main(["scan", "."]) == 0  # only LOW findings: the default fail-on is HIGH
    assert main(["scan", ".", "--fail-on", "LOW"]) == 1
    capsys.readouterr()


def test_with_block_fix_moves_the_whole_block() -> None:
    findings = {f.function: f for f in scan_fixture("entry_points").findings if f.path == "svc/web.py"}
    assert "move the whole `with tempfile.TemporaryDirectory(...)` block" in findings["export"].fix
    assert "deletes the directory tree" in findings["export"].fix
    assert "move the whole `with open(...)` block" in findings["raw"].fix
    assert "to_thread(open" not in findings["raw"].fix


def test_json_schema_2_with_entry_points(capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES / "entry_points")
    main(["scan", ".", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, SCHEMA)
    assert report["schema"] == 2
    opened = next(f for f in report["findings"] if f["key"] == "svc/helpers.py::load::builtins.open")
    assert opened["entry_points_total"] == 8
    assert opened["location"]["column"] == 10  # 1-based: `with open(` starts in column 10
    assert {e["scope"] for e in opened["entry_points"]} == {"serving", "unreferenced", "cli", "test"}


def test_min_priority_says_how_many_it_hid(capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES / "entry_startup_only")
    main(["scan", ".", "--min-priority", "HIGH"])
    out = capsys.readouterr().out
    assert "3 below --min-priority not shown" in out
    main(["scan", ".", "--min-priority", "HIGH", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["summary"]["hidden"] == 3


def test_text_uses_one_based_columns(capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES / "entry_points")
    main(["scan", "."])
    assert "svc/helpers.py:5:10  builtins.open" in capsys.readouterr().out


def test_plain_output_for_a_console_that_cannot_encode_arrows() -> None:
    text = "chain: web.a → helpers.load → open … ü"
    assert plain(text, "ascii") == "chain: web.a -> helpers.load -> open ... \\xfc"
    assert plain(text, "cp1252") == "chain: web.a -> helpers.load -> open ... ü"


def test_explain_a_line_shows_resolution_offload_and_every_chain(capsys, monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES / "entry_points")
    assert main(["explain", "svc/helpers.py:5"]) == 0
    out = capsys.readouterr().out
    assert "in def svc.helpers.load" in out
    assert "resolved: builtins.open (external)" in out
    assert "blocking: builtins.open, FILE_OPEN" in out
    assert "offloaded: no" in out
    assert "reached from the loop by 8 entry point(s)" in out
    assert "[serving] route GET /service: web.via_service → web.service → helpers.load  (offload at svc/web.py:27)" in out
    assert "HIGH svc/helpers.py::load::builtins.open" in out


def test_explain_by_key_and_not_reached(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "mod.py").write_text("import time\n\n\ndef never_called():\n    time.sleep(1)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "mod.py:5"]) == 0
    out = capsys.readouterr().out
    assert "not reached: no async caller" in out and "findings on this line: none" in out
    monkeypatch.chdir(FIXTURES / "entry_points")
    assert main(["explain", "svc/helpers.py::exists::os.path.exists"]) == 0
    assert "route GET /exists" in capsys.readouterr().out


def test_show_unresolved_lists_blind_calls_on_the_loop(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "svc.py").write_text(
        "async def handler(client):\n    return mystery.fetch_all()\n\n\ndef offline():\n    return mystery.other()\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    main(["scan", ".", "--show-unresolved"])
    out = capsys.readouterr().out
    assert "svc.py:2:12  mystery.fetch_all()  in svc.handler" in out
    assert "mystery.other" not in out  # not on the loop
    assert "1 unresolved call(s) in loop code" in out


def test_unused_and_mismatched_suppressions_are_reported(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "svc.py").write_text(
        "import os\nimport time\n\n\nasync def handler():\n"
        "    time.sleep(1)  # loopwarden: ignore[SLEEP]  # noqa: ASYNC251\n"
        "    os.listdir('.')  # loopwarden: ignore[NETWORK]\n"
        "    return 1  # loopwarden: ignore\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    main(["scan", ".", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, SCHEMA)
    assert report["summary"]["suppressed"] == 1  # the noqa next to it does not break it
    assert [(n["line"], n["message"].split(":")[0]) for n in report["suppression_notes"]] == [
        (7, "mismatched suppression"),
        (8, "unused suppression"),
    ]
    assert [f["location"]["line"] for f in report["findings"]] == [7]


def test_a_cheap_syscall_in_a_loop_is_high() -> None:
    findings = {f.key: f for f in scan_fixture("entry_points").findings}
    exists = findings["svc/helpers.py::exists::os.path.exists"]
    by_label = {p.label: p.priority for p in exists.entry_points}
    assert by_label == {"route GET /sizes": "HIGH", "route GET /exists": "MEDIUM"}
    assert exists.priority == "HIGH"


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_text_report_on_a_console_that_is_not_utf8(encoding: str) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": encoding}
    proc = subprocess.run(
        [sys.executable, "-m", "loopwarden", "scan", "."],
        cwd=FIXTURES / "entry_points", env=env, capture_output=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.decode(encoding)
    assert "chain: route GET /sizes: web.sizes -> helpers.exists -> os.path.exists" in out
    assert "Traceback" not in proc.stderr.decode(encoding, errors="replace")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('framework = "x"\n', "entry[0]: 'kind' must be a non-empty string"),
        ('framework = "x"\nkind = "handler"\n', "entry[0]: give one of 'decorator', 'name', 'base' (with 'methods') or 'call'"),
        ('framework = "x"\nkind = "handler"\ndecorator = ["*.on"]\ncolour = 1\n', "entry[0]: unknown key(s) colour"),
    ],
)
def test_a_malformed_user_entry_rule_is_a_configuration_error(tmp_path, capsys, monkeypatch, table, message) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.loopwarden]\n\n[[tool.loopwarden.catalog.entry]]\n{table}", encoding="utf-8")
    (tmp_path / "app.py").write_text("async def f():\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "."]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pyproject.toml [tool.loopwarden.catalog]: " + message in err, err
