"""``loopwarden catalog`` and ``loopwarden rule``: output from the catalogue, and bad input."""

from __future__ import annotations

import pytest

from loopwarden.catalog.categories import CATEGORIES, HAZARDS
from loopwarden.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_rule_shows_one_category_from_the_catalogue(capsys):
    code, out, err = run(capsys, "rule", "dns")
    assert (code, err) == (0, "")
    assert out.startswith("## DNS\n\n### What it does\n\n" + CATEGORIES["DNS"].summary)
    assert CATEGORIES["DNS"].instead.strip() in out
    assert "- `socket`: " in out and "`gethostbyname`" in out


def test_rule_all_lists_every_category(capsys):
    _, out, _ = run(capsys, "rule", "--all")
    assert [line[3:] for line in out.splitlines() if line.startswith("## ")] == [*CATEGORIES, *HAZARDS]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rule"], "loopwarden: error: name a category (FILE_OPEN, "),
        (["rule", "FILE"], "loopwarden: error: unknown category 'FILE'; did you mean FILE_OPEN, FILE_IO, TEMPFILE?"),
        (["rule", "nonsense"], "loopwarden: error: unknown category 'nonsense'; known: FILE_OPEN, "),
        (["catalog", "--category", "nope"], "loopwarden: error: unknown category 'nope'; known: FILE_OPEN, "),
        (["catalog", "--search", " "], "loopwarden: error: --search needs some text"),
        (["catalog", "--config", "missing.toml"], "loopwarden: error: missing.toml: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_catalog_search_explains_offloads_callbacks_and_sinks(capsys):
    code, out, _ = run(capsys, "catalog", "--search", "to_thread")
    assert code == 0
    assert "OFFLOADS (a callable passed here runs off the loop; what it reaches is not reported):\n  asyncio.to_thread  (callable at argument 0)" in out
    _, out, _ = run(capsys, "catalog", "--search", "call_soon")
    assert "LOOP CALLBACKS (a callable passed here runs ON the loop" in out
    _, out, _ = run(capsys, "catalog", "--category", "sleep")
    assert out.splitlines()[0] == f"SLEEP (heavy): {CATEGORIES['SLEEP'].summary}"
    assert "  time.sleep" in out.splitlines() and "OFFLOADS" not in out


def test_catalog_includes_the_projects_additions(capsys, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.loopwarden.catalog.group]]\ncategory = "NETWORK"\nsymbols = ["mycompany.http.fetch"]\n'
        '[[tool.loopwarden.catalog.offload]]\nname = "mycompany.run_sync"\ncallable_arg = 0\n'
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(capsys, "catalog", "--search", "mycompany")
    assert "  mycompany.http.fetch" in out.splitlines()
    assert "  mycompany.run_sync  (callable at argument 0)" in out.splitlines()


def test_catalog_search_with_no_match_says_so(capsys):
    code, out, _ = run(capsys, "catalog", "--search", "zzz-no-such-thing")
    assert (code, out) == (1, "nothing in the catalogue matches 'zzz-no-such-thing'\n")
