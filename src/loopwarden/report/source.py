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


def source_line(path: str, line: int) -> str:
    """The stripped line, shortened to MAX_SNIPPET characters (generated code has huge lines)."""
    absolute = os.path.abspath(path)
    try:
        mtime_ns = os.stat(absolute).st_mtime_ns
    except OSError:
        return ""
    lines = _lines(absolute, mtime_ns)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"
