"""Reading code written for a newer Python than the one running loopwarden.

Python 3.12 added type parameter syntax (PEP 695): ``type Alias = ...`` statements and
``def f[T](...)`` / ``class C[T]:``. Home Assistant integrations put ``type MyConfigEntry =
ConfigEntry[...]`` next to ``async_setup_entry``, so skipping such files would hide entry
points. On a SyntaxError, the scanner retries with those constructs rewritten into
equivalents older parsers accept, keeping every line where it was. Nothing else changes.

``except*`` (3.11) is rewritten the same way for Python 3.10. PEP 701 f-strings (3.12:
nested quotes of the same kind, backslashes and comments in replacement fields) have no
sound line-for-line rewrite: such a file is skipped with a message that says to run
loopwarden with Python 3.12 or later (:func:`newer_syntax_hint`).
"""

from __future__ import annotations

import re
import sys

_TYPE_ALIAS = re.compile(r"^(\s*)type\s+([A-Za-z_]\w*)\s*(\[[^\n]*?\])?\s*=")
_EXCEPT_STAR = re.compile(r"^(\s*)except(\s*\*)")
_GENERIC_DEF = re.compile(r"^(\s*(?:async\s+)?(?:def|class)\s+[A-Za-z_]\w*)\[")


def downlevel(text: str, version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """The text with PEP 695 syntax (and, before 3.11, ``except*``) rewritten, or None when
    there was none to rewrite."""
    lines = text.split("\n")
    changed = False
    index = 0
    while index < len(lines):
        line = lines[index]
        star = _EXCEPT_STAR.match(line) if version < (3, 11) else None
        if star:  # `except* E:` handles like `except E:` for the scanner; same columns after it
            lines[index] = f"{star.group(1)}except{' ' * (star.end() - star.start(2))}{line[star.end():]}"
            changed = True
            index += 1
            continue
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


def newer_syntax_hint(message: str, line_text: str, version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """For a syntax error under an older Python: what to do when the file is newer code."""
    if version < (3, 12) and "f-string" in message:
        return "this looks like an f-string written for Python 3.12+ (PEP 701): run loopwarden with Python >= 3.12"
    if version < (3, 11) and _EXCEPT_STAR.match(line_text or ""):
        return "except* is Python 3.11+: run loopwarden with Python >= 3.11"
    return None
