import time

import trio


async def tick():
    time.sleep(1)
    await trio.sleep(0)
