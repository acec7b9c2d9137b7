"""``scan --diff BASE``: real repositories, each change shape the issue lists."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from loopwarden.cli import main
from tests.workflow.gitrepo import GIT_ENV, Repo

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
HELPER = "import time\n\n\ndef helper():\n    time.sleep(1)\n"
OLD_ASYNC = "import time\n\n\nasync def legacy():\n    time.sleep(2)\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    repo = Repo(tmp_path / "repo")
    repo.commit({"pkg/__init__.py": "", "pkg/util.py": HELPER, "pkg/legacy.py": OLD_ASYNC}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    monkeypatch.chdir(repo.root)
    return repo


def diff_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    return code, report


def reported(report: dict) -> list[tuple[str, int, str]]:
    return [(f["location"]["path"], f["location"]["line"], f["blocking_call"]["symbol"]) for f in report["findings"]]


def test_a_change_that_adds_a_blocking_call(repo, capsys):
    repo.commit({"pkg/web.py": "import os\n\n\nasync def handler():\n    return os.listdir('.')\n"})
    code, report = diff_json(capsys, "--diff", "main")
    assert code == 1
    assert reported(report) == [("pkg/web.py", 5, "os.listdir")]  # the legacy finding is not reported
    diff = report["diff"]
    assert (diff["new"], diff["fixed"], diff["unchanged"], diff["head"]) == (1, 0, 1, "HEAD")
    assert diff["merge_base"] == repo.git("rev-parse", "main").strip()
    assert diff["reported"] == [{"key": "pkg/web.py::handler::os.listdir", "line": 5, "why": "changed"}]


def test_a_new_async_caller_in_another_module_exposes_an_old_helper(repo, capsys):
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    code, report = diff_json(capsys, "--diff", "main")
    assert code == 1
    # util.py did not change: its old sync helper is reported because the change exposes it.
    assert reported(report) == [("pkg/util.py", 5, "time.sleep")]
    assert report["findings"][0]["key"] == "pkg/util.py::helper::time.sleep"


def test_making_a_caller_async_is_new_by_key_though_no_chain_line_changed(repo, capsys):
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\ndef handler():\n    helper()\n"})
    repo.git("branch", "-f", "main")
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == [("pkg/util.py", 5, "time.sleep")]
    assert report["diff"]["reported"][0]["why"] == "new"


def test_a_change_that_removes_an_offload(repo, capsys):
    offloaded = "import asyncio\n\nfrom pkg.util import helper\n\n\nasync def handler():\n    await asyncio.to_thread(helper)\n"
    repo.commit({"pkg/web.py": offloaded})
    repo.git("branch", "-f", "main")
    repo.commit({"pkg/web.py": offloaded.replace("await asyncio.to_thread(helper)", "helper()")})
    code, report = diff_json(capsys, "--diff", "main")
    assert code == 1
    assert reported(report) == [("pkg/util.py", 5, "time.sleep")]


def test_a_change_that_offloads_a_call_is_counted_as_fixed(repo, capsys):
    repo.git("checkout", "-q", "main")
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    repo.git("checkout", "-q", "-B", "feature")
    repo.commit({"pkg/web.py": "import asyncio\n\nfrom pkg.util import helper\n\n\nasync def handler():\n    await asyncio.to_thread(helper)\n"})
    code, report = diff_json(capsys, "--diff", "main")
    assert code == 0
    assert reported(report) == []
    assert report["diff"]["fixed"] == 1
    assert report["diff"]["fixed_keys"] == [{"key": "pkg/util.py::helper::time.sleep", "count": 1}]
    main(["scan", "--diff", "main"])
    assert "1 fixed by this change" in capsys.readouterr().out


def test_a_second_copy_of_a_call_in_the_same_function_is_new(repo, capsys):
    repo.commit({"pkg/legacy.py": OLD_ASYNC + "    time.sleep(3)\n"})
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == [("pkg/legacy.py", 6, "time.sleep")]


def test_a_pure_rename_and_a_move_report_nothing(repo, capsys):
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    repo.git("branch", "-f", "main")
    repo.git("mv", "pkg/legacy.py", "pkg/old_code.py")
    repo.commit({}, "rename")
    code, report = diff_json(capsys, "--diff", "main")
    assert (code, reported(report), report["diff"]["fixed"]) == (0, [], 0)
    # A move into another package; the importer's import line changes, its call line does not.
    repo.git("mv", "pkg/util.py", "pkg/sub_util.py")
    repo.commit({"pkg/web.py": "from pkg.sub_util import helper\n\n\nasync def handler():\n    helper()\n"}, "move")
    code, report = diff_json(capsys, "--diff", "main")
    assert (code, reported(report), report["diff"]["fixed"]) == (0, [], 0)


def test_uncommitted_changes_need_the_flag_and_nothing_is_touched(repo, capsys):
    repo.commit({"pkg/web.py": "async def handler():\n    return 1\n"})
    repo.write({"pkg/web.py": "import time\n\n\nasync def handler():\n    time.sleep(1)\n"})
    repo.git("add", "pkg/web.py")  # staged
    repo.write({"pkg/extra.py": "import os\n\n\nasync def more():\n    os.listdir('.')\n"})  # untracked
    before = repo.state()
    code, report = diff_json(capsys, "--diff", "main")
    assert (code, reported(report)) == (0, [])
    code, report = diff_json(capsys, "--diff", "main", "--include-uncommitted")
    assert code == 1
    assert reported(report) == [("pkg/extra.py", 5, "os.listdir"), ("pkg/web.py", 5, "time.sleep")]
    assert report["diff"]["head"] == "working tree"
    assert repo.state() == before
    main(["scan", "--diff", "main"])
    assert "2 file(s) with uncommitted changes compared as committed at HEAD" in capsys.readouterr().out


def test_scanning_a_subdirectory_from_inside_it(repo, capsys, monkeypatch):
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def handler():\n    helper()\n"})
    monkeypatch.chdir(repo.root / "pkg")
    _, report = diff_json(capsys, "--diff", "main", ".")
    assert [f["key"] for f in report["findings"]] == ["util.py::helper::time.sleep"]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("plain", ["--diff", "nope"], "loopwarden: error: unknown revision 'nope': not a commit in this repository"),
        ("plain", ["--diff=--all"], "loopwarden: error: unknown revision '--all'"),
        ("plain", ["--include-uncommitted"], "loopwarden: error: --include-uncommitted needs --diff BASE"),
        ("nogit", ["--diff", "main"], "loopwarden: error: not a git repository: "),
        ("outside", ["--diff", "main"], "outside the git repository"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(repo, capsys, monkeypatch, tmp_path, setup, args, message):
    paths: list[str] = []
    if setup == "nogit":
        (tmp_path / "plain").mkdir()
        (tmp_path / "plain" / "a.py").write_text(HELPER)
        monkeypatch.chdir(tmp_path / "plain")
    if setup == "outside":
        (tmp_path / "elsewhere").mkdir()
        paths = [str(tmp_path / "elsewhere")]
    code = main(["scan", *args, *paths])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(message) or message in err
    assert err.count("\n") == 1 and out == ""


def test_a_shallow_clone_without_the_merge_base(repo, capsys, monkeypatch, tmp_path):
    repo.git("checkout", "-q", "main")
    repo.commit({"pkg/a.py": "x = 1\n"})
    repo.commit({"pkg/a.py": "x = 2\n"})
    repo.git("checkout", "-q", "feature")
    repo.commit({"pkg/b.py": "y = 1\n"})
    repo.commit({"pkg/b.py": "y = 2\n"})
    clone = Repo(tmp_path / "clone", init=False)
    Repo(tmp_path).git("clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.root}", str(clone.root))
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    monkeypatch.chdir(clone.root)
    code = main(["scan", "--diff", "origin/main"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("loopwarden: error: shallow clone: the fetched history holds no merge base of origin/main and HEAD;")
    clone.git("fetch", "-q", "--unshallow", "origin")
    code, report = diff_json(capsys, "--diff", "origin/main")
    assert (code, reported(report)) == (0, [])


def test_file_names_git_quotes_are_followed(repo, capsys):
    name = "pkg/we b\u00e9.py"
    repo.commit({name: "import time\n\n\nasync def handler():\n    time.sleep(1)\n"})
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == [(name, 5, "time.sleep")]


def test_an_already_exposed_helper_reached_from_a_new_entry_point_is_reported(repo, capsys):
    both = "from pkg.util import helper\n\n\nasync def old_route():\n    helper()\n\n\n{kw}def report():\n    helper()\n"
    repo.commit({"pkg/web.py": both.format(kw="")})
    repo.git("branch", "-f", "main")
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == []
    # report() becomes async: no chain call line changes, the key and its count stay the same,
    # but the helper is now reached from an entry point it was not reached from before.
    repo.commit({"pkg/web.py": both.format(kw="async ")})
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == [("pkg/util.py", 5, "time.sleep")]
    assert report["diff"]["reported"][0]["why"] == "newly-reached"


def test_a_new_caller_of_an_already_exposed_helper_is_reported(repo, capsys):
    repo.commit({"pkg/web.py": "from pkg.util import helper\n\n\nasync def old_route():\n    helper()\n"})
    repo.git("branch", "-f", "main")
    repo.commit({"pkg/api.py": "from pkg.util import helper\n\n\nasync def new_route():\n    helper()\n"})
    _, report = diff_json(capsys, "--diff", "main")
    assert reported(report) == [("pkg/util.py", 5, "time.sleep")]
    assert report["diff"]["reported"][0]["why"] == "changed"
