import asyncio
from pathlib import Path


async def listing(root: Path):
    names = [p.name for p in await asyncio.to_thread(list, root.glob("*.json"))]
    for child in await asyncio.to_thread(list, root.iterdir()):
        names.append(child.name)
    ordered = await asyncio.to_thread(sorted, root.rglob("*.txt"))
    await asyncio.sleep(0)
    return names, ordered
