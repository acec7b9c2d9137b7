from pathlib import Path

import anyio


def load(path, encoding="utf-8"):
    return Path(path).read_text(encoding=encoding)


async def handler(path):
    await anyio.sleep(0.1)
    first = await anyio.to_thread.run_sync(load, path)
    second = await anyio.to_thread.run_sync(lambda: load(path, encoding="latin-1"))
    await anyio.sleep(0)
    return first, second
