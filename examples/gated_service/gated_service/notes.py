"""Notes on disk: one method blocks the loop, its twin offloads."""

from __future__ import annotations

import asyncio
from pathlib import Path


class NoteStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.txt"

    async def get(self, name: str) -> str:
        return await asyncio.to_thread(self._path(name).read_text, "utf-8")

    async def save(self, name: str, text: str) -> None:
        with open(self._path(name), "w", encoding="utf-8") as handle:  # blocks the loop
            handle.write(text)

    async def save_offloaded(self, name: str, text: str) -> None:
        await asyncio.to_thread(self._path(name).write_text, text, "utf-8")

    async def exists(self, name: str) -> bool:
        return self._path(name).exists()  # blocks the loop (a stat)
