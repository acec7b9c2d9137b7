"""Source lines for reports, read once per file (findings are few; summaries stay small)."""

from __future__ import annotations

import io
import os
import re
import tokenize
from functools import lru_cache

# Line ends as the parser counts them: not form feeds or Unicode separators (str.splitlines).
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
MAX_SNIPPET = 200


@lru_cache(maxsize=256)
def _lines(path: str, mtime_ns: int) -> tuple[str, ...]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return ()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return tuple(_LINE_ENDS.split(text.removeprefix("\ufeff")))


# Displayed (escaped) path -> the file system's name, for reading the lines of a finding.
_REAL_PATHS: dict[str, str] = {}


def safe_path(text: str) -> str:
    """A path (or any text holding one) that is valid Unicode, for every report format.

    File names that are not valid UTF-8 reach Python as lone surrogates (``caf\\udce9.py``),
    which cannot be written as UTF-8 and which strict JSON parsers reject. Each undecodable
    byte is written as ``\\xNN`` instead (``caf\\xe9.py``): the same spelling in text, JSON,
    SARIF and on stderr. Valid names are returned unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        safe = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name decoding produces
        safe = text.encode("utf-8", "backslashreplace").decode("utf-8")
    _REAL_PATHS[safe] = text
    return safe


def source_line(path: str, line: int) -> str:
    """The stripped line, shortened to MAX_SNIPPET characters (generated code has huge lines)."""
    absolute = os.path.abspath(_REAL_PATHS.get(path, path))
    try:
        mtime_ns = os.stat(absolute).st_mtime_ns
    except OSError:
        return ""
    lines = _lines(absolute, mtime_ns)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"
