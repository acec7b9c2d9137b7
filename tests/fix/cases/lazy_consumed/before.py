import asyncio
from pathlib import Path


async def listing(root: Path):
    names = [p.name for p in root.glob("*.json")]
    for child in root.iterdir():
        names.append(child.name)
    ordered = sorted(root.rglob("*.txt"))
    await asyncio.sleep(0)
    return names, ordered
