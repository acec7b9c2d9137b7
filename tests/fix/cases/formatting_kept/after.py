import asyncio
from pathlib import Path


def fetch(path, mode, *, retries=3):
    return Path(path).read_bytes()


async def handler(path):
    # read the payload
    data = await asyncio.to_thread(
        fetch, path,  # where it is
        "rb",
        retries=5,
    )
    return data  # done
