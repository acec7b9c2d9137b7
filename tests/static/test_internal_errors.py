"""A bug in loopwarden costs the smallest unit it happened in, never the scan.

Each test plants a fault (monkeypatched, so it happens in this process: jobs=1) in one
unit and checks that the unit is listed in ``skipped`` as an internal error naming where
in loopwarden it happened, that every other finding is still reported, and that the CLI
exits 1 and says on stderr that it is a loopwarden bug.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loopwarden import cli
from loopwarden.catalog import load_catalog
from loopwarden.static import extract, index, scan

_REASON = re.compile(r"^internal error: RuntimeError: planted fault \(at loopwarden/static/\w+\.py:\d+\)")


def _project(tmp_path: Path) -> Path:
    (tmp_path / "web.py").write_text(
        "import time\n"
        "\n"
        "\n"
        "def broken():\n"
        "    return 'planted'\n"
        "\n"
        "\n"
        "async def first():\n"
        "    time.sleep(1)\n"
        "\n"
        "\n"
        "async def second():\n"
        "    open('x').read()\n",
        encoding="utf-8",
    )
    (tmp_path / "other.py").write_text("import os\n\n\nasync def third():\n    os.listdir('.')\n", encoding="utf-8")
    return tmp_path


def _symbols(result: scan.ScanResult) -> list[str]:
    return sorted(f"{f.path}:{f.symbol}" for f in result.findings)


def _plant_in_return(monkeypatch: pytest.MonkeyPatch) -> None:
    original = extract._Context.stmt_Return

    def faulty(self, stmt):  # type: ignore[no-untyped-def]
        if isinstance(stmt.value, extract.ast.Constant) and stmt.value.value == "planted":
            raise RuntimeError("planted fault")
        return original(self, stmt)

    monkeypatch.setitem(extract._STMT_METHODS, extract.ast.Return, faulty)  # statements dispatch through this table


def test_a_statement_fault_costs_that_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plant_in_return(monkeypatch)
    result = scan.scan([str(_project(tmp_path))], load_catalog(), jobs=1, cwd=str(tmp_path))
    assert _symbols(result) == ["other.py:os.listdir", "web.py:builtins.open", "web.py:time.sleep"]
    assert [s.path for s in result.skipped] == ["web.py"]
    reason = result.skipped[0].reason
    assert _REASON.match(reason), reason
    assert reason.endswith("; skipped the Return statement at line 5 in broken")


def test_a_class_body_fault_costs_that_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models.py").write_text(
        "import time\n\n\nclass Store:\n    limit = 'planted'\n\n    async def get(self):\n        time.sleep(1)\n",
        encoding="utf-8",
    )
    original = extract._Context.eval

    def faulty(self, node, awaited=False):  # type: ignore[no-untyped-def]
        if isinstance(node, extract.ast.Constant) and node.value == "planted":
            raise RuntimeError("planted fault")
        return original(self, node, awaited)

    monkeypatch.setattr(extract._Context, "eval", faulty)
    result = scan.scan([str(tmp_path)], load_catalog(), jobs=1, cwd=str(tmp_path))
    assert _symbols(result) == ["models.py:time.sleep"]
    assert len(result.skipped) == 1 and _REASON.match(result.skipped[0].reason)
    assert result.skipped[0].reason.endswith("skipped the Assign statement at line 5 in the module body")


def test_a_file_fault_costs_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = extract.ModuleExtractor.run

    def faulty(self, tree):  # type: ignore[no-untyped-def]
        if self.module == "web":
            raise RuntimeError("planted fault")
        return original(self, tree)

    monkeypatch.setattr(extract.ModuleExtractor, "run", faulty)
    result = scan.scan([str(_project(tmp_path))], load_catalog(), jobs=1, cwd=str(tmp_path))
    assert _symbols(result) == ["other.py:os.listdir"]
    assert [s.path for s in result.skipped] == ["web.py"]
    assert _REASON.match(result.skipped[0].reason)
    assert result.skipped[0].reason.endswith("; skipped the whole file")


def test_an_index_fault_costs_one_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text("import time\n\n\nclass Base:\n    pass\n\n\nclass Bad(Base):\n    async def go(self):\n        time.sleep(1)\n")
    original = index.ProgramIndex.base_classes

    def faulty(self, cls):  # type: ignore[no-untyped-def]
        if cls.local_name == "Bad":
            raise RuntimeError("planted fault")
        return original(self, cls)

    monkeypatch.setattr(index.ProgramIndex, "base_classes", faulty)
    result = scan.scan([str(tmp_path)], load_catalog(), jobs=1, cwd=str(tmp_path))
    assert _symbols(result) == ["a.py:time.sleep"]
    assert [s.path for s in result.skipped] == ["a.py"]
    assert _REASON.match(result.skipped[0].reason)
    assert result.skipped[0].reason.endswith("; skipped the bases of class Bad")


def test_cli_reports_the_bug_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant_in_return(monkeypatch)
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    code = cli.main(["scan", "--jobs", "1", "--format", "json", "."])
    out, err = capsys.readouterr()
    assert code == 1
    assert "loopwarden: skipped web.py: internal error: RuntimeError: planted fault (at loopwarden/static/" in err
    assert "bugs in loopwarden, please report them" in err
    import json

    report = json.loads(out)
    assert len(report["findings"]) == 3
    assert [s["path"] for s in report["skipped"]] == ["web.py"]


def _faulty_chunk(args):  # type: ignore[no-untyped-def]
    """Runs in a worker process: fails on the chunk holding m3.py."""
    if any(f.display == "m3.py" for f in args[0]):
        raise RuntimeError("planted fault")
    return _ORIGINAL_CHUNK(args)


_ORIGINAL_CHUNK = scan._analyze_chunk


def test_a_failed_worker_chunk_is_redone_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(45):  # over the parallel threshold
        (tmp_path / f"m{i}.py").write_text(f"import os\n\n\nasync def f{i}():\n    os.listdir('.')\n")
    monkeypatch.setattr(scan, "_analyze_chunk", _faulty_chunk)
    result = scan.scan([str(tmp_path)], load_catalog(), jobs=2, cwd=str(tmp_path))
    assert len(result.findings) == 45
    assert result.skipped == []


def test_a_reach_fault_costs_one_function_and_names_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loopwarden.static import reach

    original = reach.CallGraph._analyze

    def faulty(self, fn):  # type: ignore[no-untyped-def]
        if fn.local_name == "first":
            raise RuntimeError("planted fault")
        return original(self, fn)

    monkeypatch.setattr(reach.CallGraph, "_analyze", faulty)
    result = scan.scan([str(_project(tmp_path))], load_catalog(), jobs=1, cwd=str(tmp_path))
    assert _symbols(result) == ["other.py:os.listdir", "web.py:builtins.open"]
    assert [s.path for s in result.skipped] == ["web.py"]
    reason = result.skipped[0].reason
    assert re.match(r"^internal error: RuntimeError: planted fault \(at loopwarden/static/reach\.py:\d+\)", reason), reason
    assert reason.endswith("; skipped the analysis of function first")


def test_skipped_ok_does_not_hide_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant_in_return(monkeypatch)
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    code = cli.main(["scan", "--jobs", "1", "--skipped-ok", "--fail-on", "LOW", "--ignore", "time.sleep,builtins.open,os.listdir", "."])
    out, err = capsys.readouterr()
    assert code == 1, out
    assert "bugs in loopwarden, please report them" in err
    assert "internal error: RuntimeError: planted fault" in out
