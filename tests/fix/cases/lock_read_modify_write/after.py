import asyncio
import json
from pathlib import Path

_bump_lock = asyncio.Lock()  # one read-modify-write at a time (added by loopwarden fix)

COUNTS = Path("counts.json")


def _bump(key):
    data = json.loads(COUNTS.read_text()) if COUNTS.exists() else {}
    data[key] = data.get(key, 0) + 1
    COUNTS.write_text(json.dumps(data))


async def bump(key):
    # two requests interleave in worker threads: one update is lost
    async with _bump_lock:
        await asyncio.to_thread(_bump, key)
    return key
