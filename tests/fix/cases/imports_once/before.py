import asyncio
import os


async def sizes(a, b):
    first = os.path.getsize(a)
    second = os.path.getsize(b)
    await asyncio.sleep(0)
    return first + second
