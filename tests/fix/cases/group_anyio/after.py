import json
from pathlib import Path

import anyio


async def backup(path: Path):
    def _in_thread():
        text = path.read_text(encoding="utf-8")
        path.with_suffix(".bak").write_text(text, encoding="utf-8")
        return text
    text = await anyio.to_thread.run_sync(_in_thread)
    await anyio.sleep(0)
    return json.loads(text)
