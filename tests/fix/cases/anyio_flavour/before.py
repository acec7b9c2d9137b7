import time
from pathlib import Path

import anyio


def load(path, encoding="utf-8"):
    return Path(path).read_text(encoding=encoding)


async def handler(path):
    time.sleep(0.1)
    first = load(path)
    second = load(path, encoding="latin-1")
    await anyio.sleep(0)
    return first, second
