"""Reading code written for a newer Python than the one running loopwarden.

Python 3.12 added type parameter syntax (PEP 695): ``type Alias = ...`` statements and
``def f[T](...)`` / ``class C[T]:``. Home Assistant integrations put ``type MyConfigEntry =
ConfigEntry[...]`` next to ``async_setup_entry``, so skipping such files would hide entry
points. On a SyntaxError, the scanner retries with those constructs rewritten into
equivalents older parsers accept, keeping every line where it was. Nothing else changes.
"""

from __future__ import annotations

import re

_TYPE_ALIAS = re.compile(r"^(\s*)type\s+([A-Za-z_]\w*)\s*(\[[^\n]*?\])?\s*=")
_GENERIC_DEF = re.compile(r"^(\s*(?:async\s+)?(?:def|class)\s+[A-Za-z_]\w*)\[")


def downlevel(text: str) -> str | None:
    """The text with PEP 695 syntax rewritten, or None when there was none to rewrite."""
    lines = text.split("\n")
    changed = False
    index = 0
    while index < len(lines):
        line = lines[index]
        alias = _TYPE_ALIAS.match(line)
        if alias:
            end = _statement_end(lines, index, alias.end())
            lines[index] = f"{alias.group(1)}{alias.group(2)} = None"
            for continuation in range(index + 1, end + 1):
                lines[continuation] = ""
            changed = True
            index = end + 1
            continue
        generic = _GENERIC_DEF.match(line)
        if generic:
            close = _closing_bracket(line, generic.end() - 1)
            if close is not None:
                lines[index] = line[: generic.end() - 1] + line[close + 1 :]
                changed = True
        index += 1
    return "\n".join(lines) if changed else None


def _closing_bracket(line: str, start: int) -> int | None:
    depth = 0
    for position in range(start, len(line)):
        char = line[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return position
    return None


def _statement_end(lines: list[str], first: int, column: int) -> int:
    """The last line of a statement whose brackets may span lines (strings are not parsed:
    a bracket inside a string literal in a type alias is too rare to matter)."""
    depth = 0
    for index in range(first, len(lines)):
        text = lines[index][column:] if index == first else lines[index]
        for char in text.split("#", 1)[0]:
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
        if depth <= 0 and not lines[index].rstrip().endswith("\\"):
            return index
    return len(lines) - 1
