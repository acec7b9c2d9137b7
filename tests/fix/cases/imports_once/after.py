import asyncio
import os


async def sizes(a, b):
    first = await asyncio.to_thread(os.path.getsize, a)
    second = await asyncio.to_thread(os.path.getsize, b)
    await asyncio.sleep(0)
    return first + second
