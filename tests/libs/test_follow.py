"""scan --follow-libs on a fake site-packages: exact findings, with and without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import jsonschema
import pytest

from loopwarden.cli import main
from loopwarden.libs import FollowOptions
from loopwarden.static.scan import scan
from tests.libs import site as fake

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def tree(tmp_path, monkeypatch):
    site, project = fake.build(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LOOPWARDEN_LIBS_CACHE", str(tmp_path / "libs-cache"))
    monkeypatch.chdir(project)
    return site, project


def rows(result) -> list[tuple[object, ...]]:
    return [
        (f.key, f.line, f.column, f.exposure, f.priority, [s.function for s in f.chain], f.library.distribution if f.library else None)
        for f in result.findings
    ]


EXPECTED = [
    ("routes.py::status::requests.Session.get", 13, 11, "ASYNC_REACHABLE", "HIGH",
     ["routes.status", "vendor_sdk.client.Client.get_status"], "vendor-sdk"),
    ("routes.py::config::builtins.open", 17, 11, "ASYNC_REACHABLE", "HIGH",
     ["routes.config", "vendor_sdk.client.fetch_config"], "vendor-sdk"),
    # One finding per call into the library: the first-ranked blocking call inside, naming the others.
    ("routes.py::sync_all::time.sleep", 29, 4, "ASYNC_REACHABLE", "HIGH",
     ["routes.sync_all", "vendor_sdk.client.Client.sync_all"], "vendor-sdk"),
]


def test_without_follow_libs_library_calls_are_opaque(tree):
    result = scan(["."], None)
    assert rows(result) == []
    assert result.libraries is None


def test_follow_libs_reports_at_the_projects_call_into_the_library(tree):
    result = scan(["."], None, follow_libs=FollowOptions())
    # Not reported: offloaded_sdk.heavy and library_helper (reached only through to_thread),
    # slowlib.load (reached only from library code), Client.aping and library_task (library
    # async functions are not entry points), Client.host (suppressed at the project's call).
    assert rows(result) == EXPECTED
    assert result.suppressed == 1
    assert result.suppression_notes == []
    assert result.skipped == []  # broken_sdk (syntax error) and latin_sdk (not UTF-8) are counted, not listed
    stats = result.libraries
    assert stats.skipped == 2
    assert stats.distributions == ("offloaded-sdk 0.1", "slowlib 3.0", "vendor-sdk 1.2")
    assert stats.modules == 4  # vendor_sdk, vendor_sdk.client, slowlib, offloaded_sdk: not vendor_sdk.extras
    first = result.findings[0]
    assert first.library is not None and first.library.function == "vendor_sdk.client.Client.get_status"
    assert first.fix == "offload the call at routes.py:13: await asyncio.to_thread(Client.get_status, ...)"
    assert "inside vendor-sdk 1.2" in first.reason
    grouped = result.findings[2]
    assert grouped.library.blocking == ("requests.Session.get", "time.sleep")
    assert grouped.reason.startswith("time.sleep (SLEEP) and 1 other blocking call(s) (Session.get) runs on the event loop inside vendor-sdk 1.2")


def test_text_json_sarif(tree, capsys):
    code = main(["scan", ".", "--follow-libs"])
    out = capsys.readouterr().out
    assert code == 1
    assert "chain: routes.status → client.Client.get_status [vendor-sdk 1.2] → Session.get" in out
    assert "followed 4 library module(s) from 3 distribution(s)" in out
    main(["scan", ".", "--follow-libs", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, SCHEMA)
    assert [f["library"]["distribution"] for f in report["findings"]] == ["vendor-sdk"] * 3
    assert report["summary"]["libraries"]["skipped"] == 2
    main(["scan", ".", "--follow-libs", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    assert [r["properties"].get("library") for r in sarif["runs"][0]["results"]] == ["vendor-sdk 1.2"] * 3


def test_config_turns_it_on_and_the_flag_off(tree, capsys):
    _, project = tree
    (project / "pyproject.toml").write_text("[tool.loopwarden]\nfollow-libs = true\n", encoding="utf-8")
    assert main(["scan", ".", "--format", "json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 3
    assert main(["scan", ".", "--no-follow-libs", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_libs_cache_dir_from_the_configuration(tree, capsys, monkeypatch, tmp_path):
    _, project = tree
    (project / "pyproject.toml").write_text('[tool.loopwarden]\nfollow-libs = true\nlibs-cache-dir = "../from-config"\n', encoding="utf-8")
    monkeypatch.delenv("LOOPWARDEN_NO_CACHE")
    monkeypatch.delenv("LOOPWARDEN_LIBS_CACHE")
    main(["scan", ".", "--format", "json"])
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "from-config").glob("*/*"))[-1] == "vendor-sdk-1.2"
    monkeypatch.setenv("LOOPWARDEN_LIBS_CACHE", str(tmp_path / "from-env"))  # the environment wins
    shutil.rmtree(project / ".loopwarden_cache")  # else the whole-program result is reused as it is
    main(["scan", "."])
    capsys.readouterr()
    assert (tmp_path / "from-env").is_dir()


def test_python_needs_follow_libs(tree, capsys):
    assert main(["scan", ".", "--python", sys.executable]) == 2
    assert "--python needs --follow-libs" in capsys.readouterr().err


def test_summaries_are_cached_per_distribution_version(tree, tmp_path):
    site, _ = tree
    cold = scan(["."], None, follow_libs=FollowOptions()).libraries
    warm = scan(["."], None, follow_libs=FollowOptions()).libraries
    assert (cold.analysed, cold.reused) == (6, 0)  # 4 modules joined, 2 bad files (their failures are cached too)
    assert (warm.analysed, warm.reused) == (0, 6)
    cached = sorted(p.name for p in (tmp_path / "libs-cache").glob("*/*"))
    assert cached == ["broken-sdk-0.1", "latin-sdk-0.1", "offloaded-sdk-0.1", "slowlib-3.0", "vendor-sdk-1.2"]
    # Only the modules a name reached: vendor_sdk.extras, which nothing imports, is not there.
    assert sorted(p.name for p in (tmp_path / "libs-cache").glob("*/vendor-sdk-1.2/*")) == ["vendor_sdk.client.pickle", "vendor_sdk.pickle"]
    # A new version of one distribution: only its modules are analysed again.
    (site / "vendor_sdk-1.2.dist-info").rename(site / "vendor_sdk-1.3.dist-info")
    (site / "vendor_sdk-1.3.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: vendor-sdk\nVersion: 1.3\n\n")
    bumped = scan(["."], None, follow_libs=FollowOptions())
    assert (bumped.libraries.analysed, bumped.libraries.reused) == (2, 4)
    assert [f.library.version for f in bumped.findings] == ["1.3"] * 3


def test_a_corrupt_cache_entry_is_analysed_again(tree, tmp_path):
    first = scan(["."], None, follow_libs=FollowOptions())
    found = False
    for entry in (tmp_path / "libs-cache").rglob("vendor_sdk.client.pickle"):
        entry.write_bytes(entry.read_bytes()[:40])
        found = True
    assert found
    again = scan(["."], None, follow_libs=FollowOptions())
    assert again.libraries.analysed == 1
    assert rows(again) == rows(first)


def test_another_interpreter(tree, tmp_path, capsys):
    site, _ = tree
    env = tmp_path / "venv"
    venv.create(env, with_pip=False, symlinks=os.name != "nt")
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "fake.pth").write_text(str(site) + "\n", encoding="utf-8")
    sys.path.remove(str(site))  # only the other interpreter has the libraries
    assert scan(["."], None, follow_libs=FollowOptions()).findings == []
    result = scan(["."], None, follow_libs=FollowOptions(python=str(python)))
    assert rows(result) == EXPECTED
    assert Path(result.libraries.interpreter).parent.parent == env or str(env) in result.libraries.interpreter
    assert main(["scan", ".", "--follow-libs", "--python", str(tmp_path / "nope")]) == 2
    assert "--python" in capsys.readouterr().err


def test_the_project_cache_keeps_library_results_apart(tree, capsys, monkeypatch):
    site, project = tree
    monkeypatch.delenv("LOOPWARDEN_NO_CACHE", raising=False)  # tests/conftest.py sets it

    def run(*extra: str) -> dict:
        main(["scan", ".", "--format", "json", *extra])
        return json.loads(capsys.readouterr().out)

    assert run()["findings"] == []  # fills .loopwarden_cache without libraries
    cold = run("--follow-libs")
    assert len(cold["findings"]) == 3  # not the cached result of the scan without libraries
    warm = run("--follow-libs")
    assert warm["findings"] == cold["findings"]
    assert (warm["summary"]["libraries"]["analysed"], warm["summary"]["libraries"]["modules"]) == (0, 4)
    assert run()["findings"] == []
    # A library file that changes (same version, as in an editable install) is seen.
    client = site / "vendor_sdk" / "client.py"
    client.write_text(client.read_text().replace("time.sleep(0.1)", "pass  # no sleep now"))
    changed = run("--follow-libs")
    assert changed["summary"]["libraries"]["analysed"] == 1
    assert [f["library"]["blocking"] for f in changed["findings"]][2] == ["requests.Session.get"]


def test_no_cache_leaves_the_library_cache_alone(tree, capsys, tmp_path):
    for _ in range(2):
        main(["scan", ".", "--follow-libs", "--no-cache", "--format", "json"])
        assert json.loads(capsys.readouterr().out)["summary"]["libraries"]["analysed"] == 6
    assert not (tmp_path / "libs-cache").exists()


def test_config_command_shows_follow_libs(tree, capsys):
    _, project = tree
    assert main(["config", "."]) == 0
    assert "follow-libs = false       # default" in capsys.readouterr().out.splitlines()
    (project / "pyproject.toml").write_text('[tool.loopwarden]\nfollow-libs = true\nlibs-cache-dir = "../libs"\n', encoding="utf-8")
    assert main(["config", "."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("follow-libs = true ") and line.endswith("# pyproject.toml") for line in lines)
    assert any(line.startswith("libs-cache-dir = ") and line.endswith("# pyproject.toml") for line in lines)
