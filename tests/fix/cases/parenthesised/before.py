import json
from pathlib import Path


def load_config():
    return json.loads(Path("config.json").read_text())


async def limits():
    return load_config().get("limits", {}), load_config()["name"]
