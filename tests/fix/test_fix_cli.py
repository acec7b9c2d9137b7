"""``loopwarden fix`` as a command: the bundled example, selection by key, bad input, file
modes, and the scan path staying free of libcst."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from loopwarden.cli import main
from loopwarden.fix.command import scan_project

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "notes_service"


def _copy_example(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "notes_service")
    return tmp_path / "notes_service"


def test_example_fixed_but_start_up_code(tmp_path, monkeypatch, capsys):
    project = _copy_example(tmp_path)
    monkeypatch.chdir(project)
    before = {f.key for f in scan_project(["."], None)[0].findings}
    assert main(["fix", "."]) == 0  # what is left is reached from start-up code only
    out = capsys.readouterr().out
    after = {f.key for f in scan_project(["."], None)[0].findings}
    assert after == {"notes/storage.py::NoteStore.__init__::pathlib.Path.mkdir"}  # store = NoteStore(...) at import
    assert f"re-scan: {len(before - after)} of {len(before)} finding key(s) no longer reported" in out
    assert "still reported, from start-up, CLI or test code only: notes/storage.py::NoteStore.__init__::pathlib.Path.mkdir" in out
    web = (project / "notes" / "web.py").read_text()
    assert "return await asyncio.to_thread(load_config)" in web
    assert "return await asyncio.to_thread(store.load, name)" in web
    assert "archive_store = await asyncio.to_thread(NoteStore, dest)  # the constructor creates the directory on the loop" in web
    assert "await asyncio.sleep(0.5)" in web
    assert "import subprocess\n\nfrom fastapi import FastAPI" in web  # import time dropped, the blank line kept
    assert web.count("import asyncio") == 1
    assert "async def abefore_model(self, state, runtime):" in (project / "notes" / "agent.py").read_text()


def test_key_selects_one_finding(tmp_path, monkeypatch, capsys):
    project = _copy_example(tmp_path)
    monkeypatch.chdir(project)
    assert main(["fix", "--key", "notes/web.py::slow::time.sleep", "."]) == 0
    out = capsys.readouterr().out
    assert "re-scan: 1 of 1 finding key(s) no longer reported" in out
    web = (project / "notes" / "web.py").read_text()
    assert "await asyncio.sleep(0.5)" in web and "subprocess.run([" in web  # the other findings left alone


def test_unknown_key_is_named(tmp_path, monkeypatch, capsys):
    (tmp_path / "mod.py").write_text("import time\n\n\nasync def f():\n    time.sleep(1)\n")
    monkeypatch.chdir(tmp_path)
    main(["fix", "--key", "mod.py::g::time.sleep", "."])
    assert "no finding with key mod.py::g::time.sleep" in capsys.readouterr().err
    assert "time.sleep(1)" in (tmp_path / "mod.py").read_text()


def test_write_keeps_mode_and_crlf(tmp_path, monkeypatch):
    target = tmp_path / "mod.py"
    target.write_bytes(b"import time\r\n\r\n\r\nasync def f():\r\n    time.sleep(1)  # wait\r\n")
    os.chmod(target, 0o640)
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "."]) == 0
    assert target.read_bytes() == b"import asyncio\r\n\r\n\r\nasync def f():\r\n    await asyncio.sleep(1)  # wait\r\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["mod.py"]  # no temporary file left


def test_bad_file_is_one_line_and_the_rest_goes_on(tmp_path, monkeypatch, capsys):
    (tmp_path / "good.py").write_text("import time\n\n\nasync def f():\n    time.sleep(1)\n")
    (tmp_path / "bad.py").write_text("async def g(:\n")
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "."]) == 1
    err = capsys.readouterr().err
    assert "bad.py" in err
    assert "await asyncio.sleep(1)" in (tmp_path / "good.py").read_text()


def test_scan_never_imports_libcst():
    code = (
        "import sys; from loopwarden.cli import main; "
        f"rc = main(['scan', {str(EXAMPLE)!r}]); "
        "assert 'libcst' not in sys.modules, 'scan imported libcst'; "
        "assert 'loopwarden.fix.codemod' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
