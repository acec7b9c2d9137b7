import trio


async def tick():
    await trio.sleep(1)
    await trio.sleep(0)
