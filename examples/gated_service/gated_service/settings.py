"""Settings, read once at start-up (allowed in pyproject.toml's [tool.loopwarden.runtime])."""

from __future__ import annotations

import json
from pathlib import Path


def load_settings(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


async def start(path: Path) -> dict:
    return load_settings(path)
