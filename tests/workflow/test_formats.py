"""CI formats: SARIF validated against the SARIF 2.1.0 schema, GitHub annotations, GitLab
code quality; file names that are not UTF-8."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest

from loopwarden.catalog.categories import CATEGORIES, HAZARDS
from loopwarden.cli import main

SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif_schema" / "sarif-2.1.0.json").read_text())
REPO = Path(__file__).resolve().parents[2]
CHAIN = (
    "import time\n\n\ndef helper():\n    time.sleep(1)\n\n\nasync def handler():\n    helper()\n"
)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def validate_sarif(text: str) -> dict:
    doc = json.loads(text)
    jsonschema.Draft202012Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc


def test_sarif_is_valid_with_rules_code_flows_and_fingerprints(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    _, out, _ = run(capsys, "scan", "examples/notes_service", "--format", "sarif")
    run_ = validate_sarif(out)["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [*CATEGORIES, *HAZARDS]
    file_io = rules[list(CATEGORIES).index("FILE_OPEN")]
    assert file_io["help"]["markdown"].startswith("### What it does")
    assert "### Use instead" in file_io["help"]["markdown"]
    assert file_io["helpUri"].startswith("https://docs.python.org/3/library/asyncio-dev.html")
    dns = next(r for r in run_["results"] if r["ruleId"] == "DNS")
    assert rules[dns["ruleIndex"]]["id"] == "DNS"
    assert dns["partialFingerprints"] == {"loopwardenKey/v1": "examples/notes_service/notes/notify.py::mail_host_ip::socket.gethostbyname"}
    flow = dns["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [(s["location"]["physicalLocation"]["region"]["startLine"], s["location"]["message"]["text"]) for s in flow] == [
        (41, "notes.web.announce calls notes.notify.announce"),
        (9, "notes.notify.announce calls notes.notify.mail_host_ip"),
        (5, "notes.notify.mail_host_ip blocks here"),
    ]


def test_sarif_fingerprints_survive_line_moves_and_tell_copies_apart(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("svc.py").write_text(CHAIN.replace("time.sleep(1)\n", "time.sleep(1)\n    time.sleep(2)\n"))
    first = [r["partialFingerprints"] for r in validate_sarif(run(capsys, "scan", ".", "--format", "sarif")[1])["runs"][0]["results"]]
    Path("svc.py").write_text("\n\n\n" + Path("svc.py").read_text())
    second = [r["partialFingerprints"] for r in validate_sarif(run(capsys, "scan", ".", "--format", "sarif")[1])["runs"][0]["results"]]
    assert first == second == [
        {"loopwardenKey/v1": "svc.py::helper::time.sleep"},
        {"loopwardenKey/v1": "svc.py::helper::time.sleep#2"},
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes in names")
def test_file_names_that_are_not_utf8(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.py"), "w") as fh:
        fh.write(CHAIN)
    code, out, _ = run(capsys, "scan", ".", "--format", "sarif")
    result = validate_sarif(out)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"
    assert result["partialFingerprints"]["loopwardenKey/v1"] == "caf\ufffd.py::helper::time.sleep"
    out.encode("utf-8")
    _, out, _ = run(capsys, "scan", ".", "--format", "github")
    assert out.startswith("::error file=caf\\xe9.py,line=5,")  # report.source.safe_path
    _, out, _ = run(capsys, "scan", ".", "--format", "gitlab")
    assert json.loads(out)[0]["location"]["path"] == "caf\\xe9.py"


def test_skipped_inputs_are_notifications_and_the_run_unsuccessful(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.py").write_text("def (:\n")
    doc = validate_sarif(run(capsys, "scan", ".", "--format", "sarif")[1])
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].startswith("bad.py: syntax error at line 1")


def test_github_annotations_escape_and_carry_the_chain(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a,b:c.py").write_text(CHAIN)
    code, out, _ = run(capsys, "scan", ".", "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "::error file=a%2Cb%3Ac.py,line=5,col=5,title=loopwarden SLEEP%3A time.sleep [HIGH]::"
        "time.sleep (SLEEP) runs on the event loop: async a,b:c.handler calls a,b:c.helper without offloading (1 call(s) away)"
        "%0Achain: a,b:c.handler → a,b:c.helper → time.sleep"
        "%0Afix: offload the call at a,b:c.py:9: await asyncio.to_thread(helper, ...)"
    )
    assert lines[-1].startswith("::notice title=loopwarden::1 finding(s) (1 high, 0 medium, 0 low)")


def test_gitlab_code_quality_fingerprints_are_stable_and_unique(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("svc.py").write_text(CHAIN.replace("time.sleep(1)\n", "time.sleep(1)\n    time.sleep(2)\n"))
    first = json.loads(run(capsys, "scan", ".", "--format", "gitlab")[1])
    Path("svc.py").write_text("# moved\n" + Path("svc.py").read_text())
    second = json.loads(run(capsys, "scan", ".", "--format", "gitlab")[1])
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in second]
    assert len({i["fingerprint"] for i in first}) == 2
    assert [i["location"] for i in second] == [{"path": "svc.py", "lines": {"begin": 6}}, {"path": "svc.py", "lines": {"begin": 7}}]
    assert {(i["check_name"], i["severity"], i["type"]) for i in second} == {("loopwarden/SLEEP", "critical", "issue")}
    assert second[0]["description"].startswith("time.sleep (SLEEP) runs on the event loop")
