"""PEP 695 syntax is rewritten, line for line, for parsers older than Python 3.12."""

from __future__ import annotations

import ast

from loopwarden.static.newsyntax import downlevel


def test_type_alias_and_generics_are_rewritten_keeping_lines():
    source = (
        "type Entry = ConfigEntry[\n"
        "    Data,\n"
        "]\n"
        "def first[T: (int, str)](items: list[T]) -> T:\n"
        "    return items[0]\n"
        "class Box[T]:\n"
        "    pass\n"
        "async def fetch[K, V](key: K) -> V: ...\n"
    )
    rewritten = downlevel(source)
    assert rewritten is not None
    assert rewritten.split("\n") == [
        "Entry = None",
        "",
        "",
        "def first(items: list[T]) -> T:",
        "    return items[0]",
        "class Box:",
        "    pass",
        "async def fetch(key: K) -> V: ...",
        "",
    ]
    ast.parse(rewritten)


def test_code_without_new_syntax_is_left_alone():
    assert downlevel("x = [1]\ndef f(a):\n    return a[0]\n") is None
    assert downlevel("type = 3\n") is None  # `type` as a plain name


def test_except_star_is_rewritten_for_python_3_10_keeping_columns():
    source = "try:\n    run()\nexcept* (ValueError, OSError) as group:\n    handle(group)\nexcept *KeyError:\n    pass\n"
    rewritten = downlevel(source, version=(3, 10))
    assert rewritten is not None
    lines = rewritten.split("\n")
    assert lines[2] == "except  (ValueError, OSError) as group:"
    assert lines[4] == "except  KeyError:"
    assert [len(a) for a in lines] == [len(b) for b in source.split("\n")]
    ast.parse(rewritten)
    assert downlevel(source, version=(3, 11)) is None  # 3.11 parses it as it is


def test_pep_701_f_strings_under_older_pythons_say_what_to_do():
    from loopwarden.static.newsyntax import newer_syntax_hint

    hint = newer_syntax_hint("f-string: expecting '}'", "x = f'{d['k']}'", version=(3, 11))
    assert hint == "this looks like an f-string written for Python 3.12+ (PEP 701): run loopwarden with Python >= 3.12"
    assert newer_syntax_hint("f-string: expecting '}'", "", version=(3, 12)) is None
    assert newer_syntax_hint("invalid syntax", "except* E:", version=(3, 10)) == "except* is Python 3.11+: run loopwarden with Python >= 3.11"
    assert newer_syntax_hint("invalid syntax", "x = = 1", version=(3, 10)) is None


def test_a_pep_701_file_is_skipped_with_the_hint(tmp_path):
    import sys

    from loopwarden.catalog import load_catalog
    from loopwarden.static.scan import scan

    (tmp_path / "new.py").write_text("songs = {'a': 1}\nmsg = f\"{songs[\"a\"]}\"\n")
    result = scan([str(tmp_path)], load_catalog(), cwd=str(tmp_path))
    if sys.version_info >= (3, 12):
        assert result.skipped == [] and result.files == 1
    else:
        assert len(result.skipped) == 1
        assert result.skipped[0].reason.endswith("run loopwarden with Python >= 3.12"), result.skipped[0].reason
