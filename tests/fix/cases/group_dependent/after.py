import asyncio
import json
from pathlib import Path


async def backup(path: Path):
    # the copy depends on what was read: one hop for both
    def _in_thread():
        text = path.read_text(encoding="utf-8")
        path.with_suffix(".bak").write_text(text, encoding="utf-8")
        return text
    text = await asyncio.to_thread(_in_thread)
    return json.loads(text)
