import asyncio
import json
from pathlib import Path

COUNTS = Path("counts.json")
_counts_lock = asyncio.Lock()


def _bump(key):
    data = json.loads(COUNTS.read_text()) if COUNTS.exists() else {}
    data[key] = data.get(key, 0) + 1
    COUNTS.write_text(json.dumps(data))


async def bump_safely(key):
    async with _counts_lock:
        await asyncio.to_thread(_bump, key)


async def bump(key):
    await asyncio.to_thread(_bump, key)  # the same update, without the lock the other caller holds
