"""The command line end to end: exit codes, formats, JSON schema, config errors, --output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from loopwarden.cli import main

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
EXAMPLE = REPO / "examples" / "notes_service"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
CHEAP = "import os\n\nasync def handler():\n    return os.path.exists('x')\n"
CLEAN = "import asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n"


def test_demo_example_json_matches_schema_and_expected_findings(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code, out, err = run(["scan", "examples/notes_service", "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    found = {(f["location"]["path"], f["location"]["line"], f["blocking_call"]["symbol"], f["event_loop_exposure"], f["priority"]) for f in report["findings"]}
    base = "examples/notes_service/notes/"
    assert found == {
        (base + "agent.py", 12, "builtins.open", "SYNC_HOOK", "HIGH"),
        (base + "notify.py", 5, "socket.gethostbyname", "ASYNC_REACHABLE", "HIGH"),
        (base + "settings.py", 8, "pathlib.Path.exists", "ASYNC_REACHABLE", "MEDIUM"),
        (base + "settings.py", 10, "builtins.open", "ASYNC_REACHABLE", "HIGH"),
        (base + "storage.py", 10, "pathlib.Path.mkdir", "ASYNC_REACHABLE", "MEDIUM"),
        (base + "storage.py", 16, "pathlib.Path.read_text", "ASYNC_REACHABLE", "HIGH"),
        (base + "web.py", 46, "subprocess.run", "DIRECT_ASYNC", "HIGH"),
        (base + "web.py", 52, "time.sleep", "DIRECT_ASYNC", "HIGH"),
    }
    dns = next(f for f in report["findings"] if f["blocking_call"]["category"] == "DNS")
    assert [s["function"] for s in dns["chain"]] == ["notes.web.announce", "notes.notify.announce", "notes.notify.mail_host_ip"]
    assert [s["line"] for s in dns["chain"]] == [41, 9, 5]
    assert dns["key"] == "examples/notes_service/notes/notify.py::mail_host_ip::socket.gethostbyname"
    assert dns["code"] == "return socket.gethostbyname(host)"
    assert report["summary"]["by_priority"] == {"HIGH": 6, "MEDIUM": 2, "LOW": 0}


def test_text_report_shows_chain_code_fix_and_summary(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code, out, _ = run(["scan", "examples/notes_service"], capsys)
    assert code == 1
    assert "chain: route POST /announce: web.announce → notify.announce → notify.mail_host_ip → socket.gethostbyname" in out
    assert "5 | return socket.gethostbyname(host)" in out
    assert "fix: offload the call at examples/notes_service/notes/web.py:41: await asyncio.to_thread(announce, ...)" in out
    assert out.rstrip().endswith("8 finding(s) (6 high, 2 medium, 0 low) in 5 file(s); scanned 6 file(s), 141 lines; 0 suppressed; 0 skipped")


def test_summary_format_counts(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    _, out, _ = run(["scan", "examples/notes_service", "--format", "summary"], capsys)
    assert "by exposure" in out and "ASYNC_REACHABLE      5" in out
    assert "SYNC_HOOK            1" in out


def test_sarif_format(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    _, out, _ = run(["scan", "examples/notes_service", "--format", "sarif"], capsys)
    sarif = json.loads(out)
    results = sarif["runs"][0]["results"]
    location = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "examples/notes_service/notes/agent.py", "uriBaseId": "SRCROOT"}
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert len(results) == 8
    assert {r["level"] for r in results} == {"error", "warning"}
    assert all(r["partialFingerprints"]["loopwardenKey/v1"].count("::") == 2 for r in results)


def test_exit_codes_and_priority_filters(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "clean", {"a.py": CLEAN})
    write(tmp_path / "cheap", {"a.py": CHEAP})
    assert run(["scan", "clean"], capsys)[0] == 0
    assert run(["scan", "cheap"], capsys)[0] == 0  # the default fail-on is HIGH: a cheap stat does not fail CI
    assert run(["scan", "cheap", "--fail-on", "MEDIUM"], capsys)[0] == 1
    code, out, _ = run(["scan", "cheap", "--min-priority", "HIGH", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []
    assert run(["scan", "clean", "--min-priority", "urgent"], capsys)[0] == 2
    assert run(["scan", "--no-such-flag"], capsys)[0] == 2


def test_no_path_means_current_directory(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"svc.py": BLOCKING})
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["scan", "--format", "json"], capsys)
    assert code == 1
    assert [f["key"] for f in json.loads(out)["findings"]] == ["svc.py::handler::time.sleep"]


def test_output_through_a_symlink_keeps_the_link_and_the_file_mode(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"svc.py": BLOCKING})
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "real.json").chmod(0o644)
    (tmp_path / "link.json").symlink_to("real.json")
    monkeypatch.chdir(tmp_path)
    assert run(["scan", "svc.py", "--format", "json", "-o", "link.json"], capsys)[0] == 1
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "real.json").read_text())["summary"]["findings"] == 1
    assert (tmp_path / "real.json").stat().st_mode & 0o777 == 0o644


def test_output_onto_a_directory_is_a_usage_error(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"svc.py": BLOCKING})
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["scan", "svc.py", "-o", "out"], capsys)
    assert code == 2 and err == "loopwarden: error: out: is a directory\n"


def test_output_file_is_written_and_stdout_stays_empty(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"svc.py": BLOCKING})
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["scan", ".", "--format", "json", "--output", "report.json"], capsys)
    assert code == 1 and out == ""
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["findings"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


@pytest.mark.parametrize(
    "pyproject, message",
    [
        ("[tool.loopwarden\nexclude = 1", "invalid TOML"),
        ("[tool.loopwarden]\nexclud = []", "unknown key tool.loopwarden.exclud"),
        ("[tool.loopwarden]\nfail-on = 'SOMETIMES'", "tool.loopwarden.fail-on must be one of HIGH, MEDIUM, LOW"),
        ("[[tool.loopwarden.catalog.group]]\ncategory = 'DISK'\nsymbols = ['x.y']", "unknown category 'DISK'"),
        ("[[tool.loopwarden.catalog.offload]]\ncallable_arg = 0", "give exactly one of 'name'"),
        ("tool = 1", "[tool.loopwarden] must be a table"),
        ("[tool.loopwarden.catalog]\ntypes = 1", "types: expected a table"),
        ("[[tool.loopwarden.catalog.group]]\ncategory = ['SLEEP']\nsymbols = ['a.b']", "unknown category ['SLEEP']"),
        ("[[tool.loopwarden.catalog.hook]]\nbase = 1\nmethods = ['x']", "'base' must be a string"),
        ("[[tool.loopwarden.catalog.offload]]\nname = 'a.b'\ncallable_arg = true", "'callable_arg' must be a non-negative integer"),
        ("[tool.loopwarden]\nmax-file-size = 1\nmax_file_size = 2", "are the same setting"),
        ("[tool.loopwarden]\nruntime = 5", "[tool.loopwarden.runtime] must be a table"),
    ],
)
def test_broken_config_is_one_clear_line_and_exit_2(tmp_path, capsys, monkeypatch, pyproject, message):
    write(tmp_path, {"pyproject.toml": pyproject, "svc.py": BLOCKING})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["scan", "."], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "pyproject.toml" in err and message in err


def test_user_catalogue_extension_adds_a_blocking_symbol(tmp_path, capsys, monkeypatch):
    write(
        tmp_path,
        {
            "pyproject.toml": "[[tool.loopwarden.catalog.group]]\ncategory = 'NETWORK'\nsymbols = ['legacy.client.fetch']\n",
            "svc.py": "from legacy.client import fetch\n\nasync def handler():\n    return fetch('x')\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["scan", ".", "--format", "json"], capsys)
    assert code == 1
    assert [f["blocking_call"]["symbol"] for f in json.loads(out)["findings"]] == ["legacy.client.fetch"]


def test_config_excludes_and_cli_excludes(tmp_path, capsys, monkeypatch):
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.loopwarden]\nexclude = ['generated/']\n",
            "generated/a.py": BLOCKING,
            "legacy/b.py": BLOCKING,
            "svc.py": BLOCKING,
        },
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["scan", ".", "--format", "json", "--exclude", "legacy/*.py"], capsys)
    assert [f["location"]["path"] for f in json.loads(out)["findings"]] == ["svc.py"]


def test_cli_import_stays_light():
    code = (
        "import sys, loopwarden.cli; "
        "heavy = [m for m in ('ast', 'pathspec', 'blockbuster', 'libcst', 'tomllib', 'concurrent.futures', 'json') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_module_entry_point_runs(tmp_path):
    (tmp_path / "svc.py").write_text(CLEAN)
    proc = subprocess.run([sys.executable, "-m", "loopwarden", "scan", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "0 finding(s)" in proc.stdout


def test_sarif_percent_encodes_paths(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"my mod#1.py": BLOCKING})
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["scan", ".", "--format", "sarif"], capsys)
    location = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "my%20mod%231.py"


def test_report_code_line_counts_lines_as_the_parser_does(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"svc.py": 'import time\nS = "a\u2028b\x0cc"\n\nasync def f():\n    time.sleep(1)\n'})
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["scan", ".", "--format", "json"], capsys)
    report = json.loads(out)
    assert report["findings"][0]["code"] == "time.sleep(1)"
    assert report["summary"]["lines"] == 5


def test_very_long_chains_are_shortened_not_quadratic(tmp_path, capsys, monkeypatch):
    lines = ["import time", "", "def f0():", "    time.sleep(1)"]
    for i in range(1, 300):
        lines += ["", f"def f{i}():", "    time.sleep(1)", f"    f{i - 1}()"]
    lines += ["", "async def main():", "    f299()"]
    write(tmp_path, {"deep.py": "\n".join(lines) + "\n"})
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(["scan", ".", "--format", "json"], capsys)
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    deepest = next(f for f in report["findings"] if f["location"]["function"] == "f0")
    assert len(deepest["chain"]) == 64
    assert deepest["chain"][32]["elided"] == 301 - 64
    assert deepest["chain"][0]["function"] == "deep.main" and deepest["chain"][-1]["function"] == "deep.f0"
