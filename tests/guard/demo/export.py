"""Exporting notes: a change that brings three blocking calls onto the event loop."""

from __future__ import annotations

import json
import time
from pathlib import Path


def _write_index(root: Path, names: list[str]) -> None:
    (root / "index.json").write_text(json.dumps(names), encoding="utf-8")


async def export_index(root: Path) -> int:
    names = [p.stem for p in sorted(root.glob("*.txt"))]
    _write_index(root, names)
    return len(names)


async def throttle() -> None:
    time.sleep(0.01)  # give the disk a break between exports
