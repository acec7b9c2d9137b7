"""Source lines for reports, read once per file (findings are few; summaries stay small)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return ()
    return tuple(data.decode("utf-8", errors="replace").splitlines())


def source_line(path: str, line: int) -> str:
    lines = _lines(path)
    return lines[line - 1] if 0 < line <= len(lines) else ""
