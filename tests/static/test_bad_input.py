"""Bad input: each one is skipped with a one-line reason, and the rest of the scan goes on."""

from __future__ import annotations

import json
import os

from loopwarden.catalog import default_catalog
from loopwarden.cli import main
from loopwarden.static import scan as scan_module
from loopwarden.static.scan import scan

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def _scan(root, **kwargs):
    return scan(["."], default_catalog(), cwd=str(root), **kwargs)


def _reasons(result) -> dict[str, str]:
    return {s.path: s.reason for s in result.skipped}


def test_each_bad_file_is_skipped_with_reason_and_good_files_still_scanned(tmp_path):
    (tmp_path / "good.py").write_text(BLOCKING)
    (tmp_path / "syntax.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "latin.py").write_bytes(b"name = '\xe9t\xe9'\n")
    (tmp_path / "big.py").write_text("x = 1\n" * 2000)
    os.symlink("loop_b.py", tmp_path / "loop_a.py")
    os.symlink("loop_a.py", tmp_path / "loop_b.py")
    result = _scan(tmp_path, max_file_size=4096)
    reasons = _reasons(result)
    assert reasons["syntax.py"].startswith("syntax error at line 1")
    assert reasons["nul.py"] == "contains NUL bytes (not a text file)"
    assert reasons["latin.py"].startswith("cannot decode as utf-8")
    assert reasons["big.py"] == "file is 12000 bytes, over the max-file-size of 4096 bytes"
    assert reasons["loop_a.py"] == "symlink loop (too many levels of symbolic links)"
    assert reasons["loop_b.py"] == "symlink loop (too many levels of symbolic links)"
    assert [f.key for f in result.findings] == ["good.py::handler::time.sleep"]


def test_coding_cookie_is_honoured(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport time\nname = '\xe9'\nasync def f():\n    time.sleep(1)\n")
    result = _scan(tmp_path)
    assert result.skipped == [] and [f.line for f in result.findings] == [5]


def test_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "secret.py").write_text(BLOCKING)
    (tmp_path / "good.py").write_text(BLOCKING)
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(scan_module, "open", deny, raising=False)
    result = _scan(tmp_path)
    assert _reasons(result) == {"secret.py": "permission denied"}
    assert [f.path for f in result.findings] == ["good.py"]


def test_missing_path_is_reported_and_exit_code_says_so(tmp_path, capsys, monkeypatch):
    (tmp_path / "clean.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    code = main(["scan", "clean.py", "nowhere", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["skipped"] == [{"path": "nowhere", "reason": "no such file or directory"}]
    assert err == "loopwarden: skipped nowhere: no such file or directory\n"


def test_default_skipped_directories_and_gitignore(tmp_path):
    for name in (".venv/lib/x.py", "node_modules/y.py", "build/z.py", "__pycache__/w.py", "ignored/v.py", "src/app.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BLOCKING)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    result = _scan(tmp_path)
    assert [f.path for f in result.findings] == ["src/app.py"]
    assert sorted(f.path for f in _scan(tmp_path, respect_gitignore=False).findings) == ["ignored/v.py", "src/app.py"]


def test_parallel_scan_gives_the_same_findings(tmp_path):
    for i in range(60):
        (tmp_path / f"mod{i}.py").write_text(
            f"import time\nfrom mod{(i + 1) % 60} import helper{(i + 1) % 60}\n\n"
            f"def helper{i}():\n    time.sleep(0.1)\n\nasync def handler{i}():\n    helper{(i + 1) % 60}()\n"
        )
    serial = _scan(tmp_path, jobs=1)
    parallel = _scan(tmp_path, jobs=2)
    assert len(serial.findings) == 60
    assert serial.findings == parallel.findings
    assert all(f.exposure == "ASYNC_REACHABLE" and len(f.chain) == 2 for f in serial.findings)


def test_fifo_and_other_non_regular_files_are_skipped_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "good.py").write_text(BLOCKING)
    result = _scan(tmp_path)
    assert _reasons(result) == {"pipe.py": "not a regular file"}
    explicit = scan(["pipe.py"], default_catalog(), cwd=str(tmp_path))
    assert _reasons(explicit) == {"pipe.py": "not a regular file"}


def test_entries_that_are_not_python_files_are_not_reported(tmp_path):
    os.symlink("loop.txt", tmp_path / "loop.txt")  # a symlink loop, but not a .py file
    (tmp_path / "good.py").write_text(BLOCKING)
    result = _scan(tmp_path)
    assert result.skipped == [] and len(result.findings) == 1


def test_same_module_name_in_two_scanned_directories_hides_neither(tmp_path):
    (tmp_path / "svc1").mkdir()
    (tmp_path / "svc2").mkdir()
    (tmp_path / "svc1" / "app.py").write_text("async def handler():\n    pass\n")
    (tmp_path / "svc2" / "app.py").write_text(BLOCKING)
    result = scan(["svc1", "svc2"], default_catalog(), cwd=str(tmp_path))
    assert [f.key for f in result.findings] == ["svc2/app.py::handler::time.sleep"]


def test_a_bad_gitignore_line_is_skipped_like_git_does(tmp_path):
    (tmp_path / ".gitignore").write_text("**/a\\\nignored/\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "x.py").write_text(BLOCKING)
    (tmp_path / "good.py").write_text(BLOCKING)
    assert [f.path for f in _scan(tmp_path).findings] == ["good.py"]


def test_a_bad_exclude_pattern_is_a_usage_error(tmp_path, capsys, monkeypatch):
    (tmp_path / "good.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    assert main(["scan", ".", "--exclude", "!"]) == 2
    assert "invalid exclude pattern '!'" in capsys.readouterr().err


def test_config_excludes_are_relative_to_the_pyproject(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.loopwarden]\nexclude = ['src/legacy/']\n")
    (tmp_path / "src" / "legacy").mkdir(parents=True)
    (tmp_path / "src" / "legacy" / "a.py").write_text(BLOCKING)
    (tmp_path / "src" / "b.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    for target in (".", "src"):
        main(["scan", target, "--format", "json"])
        found = [f["location"]["path"] for f in json.loads(capsys.readouterr().out)["findings"]]
        assert found == ["src/b.py"], target
