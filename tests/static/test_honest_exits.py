"""Honest exits and messages: empty scans, unused excludes, --exit-zero, --select/--ignore,
skipped files that need not fail the run, messages for UTF-16 and out-of-memory files,
bounded per-file cost, undecodable file names, help text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.cli import build_parser, main
from loopwarden.static import scan as scan_module
from loopwarden.static.scan import scan

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
TWO = "import time\n\nasync def handler():\n    time.sleep(1)\n    return open('x')\n"


def _run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_nothing_to_scan_is_exit_2_unless_allowed(tmp_path, capsys, monkeypatch):
    (tmp_path / "notes.txt").write_text("not python")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["scan", "."], capsys)
    assert (code, out) == (2, "")
    assert err == "loopwarden: error: no Python files found in . (pass --allow-empty if that is expected)\n"
    code, out, err = _run(["scan", ".", "--allow-empty"], capsys)
    assert code == 0 and out.endswith("0 skipped\n")
    assert err == "loopwarden: warning: no Python files found in .\n"


def test_an_exclude_that_matches_nothing_is_warned_about(tmp_path, capsys, monkeypatch):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "a.py").write_text(BLOCKING)
    (tmp_path / "b.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    _, out, err = _run(["scan", ".", "--exclude", "legacy/", "--exclude", "lgacy/", "--format", "json"], capsys)
    assert [f["location"]["path"] for f in json.loads(out)["findings"]] == ["b.py"]
    assert err == "loopwarden: warning: --exclude 'lgacy/' matched nothing\n"


def test_exit_zero_and_skipped_ok(tmp_path, capsys, monkeypatch):
    (tmp_path / "svc.py").write_text(BLOCKING)
    (tmp_path / "broken.py").write_text("def f(:\n")
    monkeypatch.chdir(tmp_path)
    assert _run(["scan", "."], capsys)[0] == 1
    assert _run(["scan", ".", "--exit-zero"], capsys)[0] == 0
    assert _run(["scan", "broken.py"], capsys)[0] == 1
    assert _run(["scan", "broken.py", "--skipped-ok"], capsys)[0] == 0
    (tmp_path / "pyproject.toml").write_text("[tool.loopwarden]\nskipped-ok = true\n")
    code, out, _ = _run(["scan", "broken.py"], capsys)
    assert code == 0 and "skipped broken.py: syntax error at line 1" in out


def test_skipped_files_are_printed_once(tmp_path, capsys, monkeypatch):
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "svc.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    _, out, err = _run(["scan", "."], capsys)
    assert (out + err).count("broken.py") == 1
    _, out, err = _run(["scan", ".", "--format", "json"], capsys)
    assert err.count("broken.py") == 1


@pytest.mark.parametrize(
    "options, config, expected",
    [
        (["--select", "SLEEP"], "", ["time.sleep"]),
        (["--select", "time.sleep,builtins.open"], "", ["time.sleep", "builtins.open"]),
        (["--ignore", "time"], "", ["builtins.open"]),
        ([], "select = ['FILE_OPEN']", ["builtins.open"]),
        ([], "ignore = ['sleep']", ["builtins.open"]),
        (["--select", "SLEEP"], "select = ['FILE_OPEN']", ["time.sleep"]),
    ],
)
def test_select_and_ignore_by_category_or_symbol(tmp_path, capsys, monkeypatch, options, config, expected):
    (tmp_path / "svc.py").write_text(TWO)
    (tmp_path / "pyproject.toml").write_text(f"[tool.loopwarden]\n{config}\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = _run(["scan", ".", "--format", "json", *options], capsys)
    assert [f["blocking_call"]["symbol"] for f in json.loads(out)["findings"]] == expected


@pytest.mark.parametrize(
    "args, config, message",
    [
        (["--select", "DISK"], "", "--select: unknown category 'DISK'"),
        (["--ignore", "time..sleep"], "", "--ignore: 'time..sleep' is neither a category nor a dotted symbol"),
        ([], "select = ['']", "tool.loopwarden.select: '' is neither a category nor a dotted symbol"),
        ([], "[[tool.loopwarden.catalog.group]]\ncategory = 'NETWORK'\nsymbols = []", "catalog.group[0].symbols is empty"),
        ([], "[[tool.loopwarden.catalog.group]]\ncategory = 'NETWORK'\nsymbols = ['']", "catalog.group[0].symbols: '' is not a dotted name"),
        ([], "[[tool.loopwarden.catalog.group]]\ncategory = 'NETWORK'\nsymbols = ['legacy client.fetch']", "'legacy client.fetch' is not a dotted name"),
        ([], "[[tool.loopwarden.catalog.offload]]\nname = 'pool.'\ncallable_arg = 0", "catalog.offload[0].name: 'pool.' is not a dotted name"),
    ],
)
def test_bad_selectors_and_catalogue_symbols_are_usage_errors(tmp_path, capsys, monkeypatch, args, config, message):
    (tmp_path / "svc.py").write_text(TWO)
    (tmp_path / "pyproject.toml").write_text(f"[tool.loopwarden]\n{config}\n" if "[[" not in config else config + "\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["scan", ".", *args], capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err


def test_utf16_and_utf32_files_are_named_as_such(tmp_path):
    (tmp_path / "bom16.py").write_bytes("x = 1\n".encode("utf-16"))
    (tmp_path / "nobom16.py").write_bytes("import os\nx = 1\n".encode("utf-16-le"))
    (tmp_path / "bom32.py").write_bytes("x = 1\n".encode("utf-32"))
    reasons = {s.path: s.reason for s in scan(["."], default_catalog(), cwd=str(tmp_path)).skipped}
    assert reasons["bom16.py"].startswith("UTF-16 is not supported")
    assert reasons["nobom16.py"].startswith("looks like UTF-16 without a byte-order mark: UTF-16 is not supported")
    assert reasons["bom32.py"].startswith("UTF-32 is not supported")


def test_an_empty_memory_error_gets_a_reason(tmp_path, monkeypatch):
    (tmp_path / "svc.py").write_text(BLOCKING)

    def out_of_memory(text, filename):
        raise MemoryError()

    monkeypatch.setattr(scan_module, "_parse", out_of_memory)
    reasons = {s.path: s.reason for s in scan(["."], default_catalog(), cwd=str(tmp_path)).skipped}
    assert reasons == {"svc.py": "cannot parse: out of memory; exclude the file or raise the memory limit"}


def test_a_huge_file_is_skipped_before_parsing_whatever_max_file_size_allows(tmp_path, monkeypatch):
    body = "def f(a, b):\n    return g(a, [b, 1], {'k': a.b})\n\n"
    (tmp_path / "huge.py").write_text(body * (4_000_000 // len(body)))
    (tmp_path / "svc.py").write_text(BLOCKING)

    def must_not_parse(text, filename):
        if len(text) > 1_000_000:
            raise AssertionError("the huge file was parsed")
        return real_parse(text, filename)

    real_parse = scan_module._parse
    monkeypatch.setattr(scan_module, "_parse", must_not_parse)
    result = scan(["."], default_catalog(), cwd=str(tmp_path), max_file_size=100 * 2**20)
    (skipped,) = result.skipped
    assert skipped.path == "huge.py"
    assert skipped.reason.startswith("too large to analyse: about ")
    assert "over the per-file budget of 1500k" in skipped.reason
    assert [f.path for f in result.findings] == ["svc.py"]


@pytest.mark.skipif(sys.platform == "darwin" or os.name == "nt", reason="file systems that accept any bytes in names")
def test_undecodable_file_names_are_escaped_the_same_way_in_every_format(tmp_path):
    name = os.fsdecode(b"caf\xe9.py")
    (tmp_path / name).write_text(BLOCKING)
    (tmp_path / os.fsdecode(b"br\xf6ken.py")).write_text("def f(:\n")
    outputs = {}
    for fmt in ("text", "json", "summary", "github", "gitlab"):
        proc = subprocess.run(
            [sys.executable, "-m", "loopwarden", "scan", ".", "--format", fmt], cwd=tmp_path, capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}
        )
        assert proc.returncode == 1, proc.stderr
        outputs[fmt] = proc.stdout.decode("utf-8")  # strict: valid UTF-8
        assert "\\udc" not in outputs[fmt]
    assert "caf\\xe9.py:4:5" in outputs["text"] and "skipped br\\xf6ken.py: syntax error" in outputs["text"]
    report = json.loads(outputs["json"])
    assert report["findings"][0]["location"]["path"] == "caf\\xe9.py"
    assert report["skipped"][0]["path"] == "br\\xf6ken.py"
    assert "file=caf\\xe9.py,line=4" in outputs["github"]
    assert json.loads(outputs["gitlab"])[0]["location"]["path"] == "caf\\xe9.py"


def test_every_option_has_help_and_scan_help_lists_exit_codes(capsys):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help text"
    assert main(["scan", "--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "3 ", "130", "143"):
        assert f"\n  {code}" in out or f"; {code}" in out


def test_a_reader_that_leaves_early_is_not_an_internal_error(tmp_path, capsys, monkeypatch):
    """``loopwarden config . | head -1``: writing to the closed pipe ends quietly (141)."""

    class ClosedPipe:
        encoding = "utf-8"

        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            raise ValueError("no descriptor")

        def isatty(self):
            return False

    (tmp_path / "svc.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    for args in (["config", "."], ["scan", ".", "--format", "json"]):
        assert main(args) == 141
        assert "internal error" not in capsys.readouterr().err
