"""Writing files the way loopwarden promises: in one step, or not at all.

Every command that writes a user's file (reports, baselines, fixed sources, anchors, the
agent skill) goes through :func:`replace_atomically`, so a reader never sees half a file and
an interrupted write leaves the old file as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def replace_atomically(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text is written as UTF-8, line ends as given) to ``path`` in one step.

    A symlink is followed and its target replaced; an existing file keeps its permissions, a
    new one gets the umask's. A failure raises ``OSError`` and leaves no temporary file.
    """
    target = Path(os.path.realpath(path))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
