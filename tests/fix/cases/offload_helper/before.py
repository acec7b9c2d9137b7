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
        return self.store.load(name)


async def settings(path):
    text = load_config(path, encoding="utf-8")
    return text


async def archive(dest):
    store = Store(dest)
    await asyncio.sleep(0)
    return store
