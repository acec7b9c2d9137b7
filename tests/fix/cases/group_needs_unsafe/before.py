import json
from pathlib import Path


async def backup(path: Path):
    # the copy depends on what was read: one hop for both
    text = path.read_text(encoding="utf-8")
    path.with_suffix(".bak").write_text(text, encoding="utf-8")
    return json.loads(text)
