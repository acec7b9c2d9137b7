import json
from pathlib import Path

import anyio


async def backup(path: Path):
    text = path.read_text(encoding="utf-8")
    path.with_suffix(".bak").write_text(text, encoding="utf-8")
    await anyio.sleep(0)
    return json.loads(text)
