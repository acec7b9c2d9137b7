import asyncio
import json
from pathlib import Path


def load_config():
    return json.loads(Path("config.json").read_text())


async def limits():
    return (await asyncio.to_thread(load_config)).get("limits", {}), (await asyncio.to_thread(load_config))["name"]
