import asyncio
from pathlib import Path


def load_config(path, *, encoding="utf-8"):
    return Path(path).read_text(encoding=encoding)


class Store:
    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def load(self, name):
        return (self.root / name).read_text()


class Service:
    def __init__(self):
        self.store = Store("data")

    async def read(self, name):
        return await asyncio.to_thread(self.store.load, name)


async def settings(path):
    text = await asyncio.to_thread(load_config, path, encoding="utf-8")
    return text


async def archive(dest):
    store = await asyncio.to_thread(Store, dest)
    await asyncio.sleep(0)
    return store
