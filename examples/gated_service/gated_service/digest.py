"""A digest of all notes: pure CPU work, no rule knows it; the stall watchdog does."""

from __future__ import annotations

import hashlib


def _stretch(text: str, rounds: int) -> str:
    digest = text.encode()
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


async def digest(texts: list[str], rounds: int = 1_000_000) -> str:
    return _stretch("".join(texts), rounds)  # holds the loop for a few hundred ms
