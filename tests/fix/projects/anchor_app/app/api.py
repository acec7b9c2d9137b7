from pathlib import Path

from app import net, store


async def listing(root: Path):
    return {"names": store.names(root)}


async def ping(host: str):
    return {"ip": net.resolve(host)}
