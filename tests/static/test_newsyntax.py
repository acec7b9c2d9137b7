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
