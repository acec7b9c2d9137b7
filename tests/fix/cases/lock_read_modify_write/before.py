import asyncio
import json
from pathlib import Path

COUNTS = Path("counts.json")


def _bump(key):
    data = json.loads(COUNTS.read_text()) if COUNTS.exists() else {}
    data[key] = data.get(key, 0) + 1
    COUNTS.write_text(json.dumps(data))


async def bump(key):
    # two requests interleave in worker threads: one update is lost
    await asyncio.to_thread(_bump, key)
    return key
