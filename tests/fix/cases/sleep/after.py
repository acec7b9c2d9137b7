import asyncio


async def poll(interval):
    while True:
        await asyncio.sleep(interval)  # wait before the next try
        return interval
