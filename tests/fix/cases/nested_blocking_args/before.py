import json
from pathlib import Path


def read(path):
    return Path(path).read_text()


def save(path, text):
    Path(path).write_text(text)


async def handler(path):
    save(path + ".bak", read(path))
    return json.loads(Path(path).read_text())
