import time


async def poll(interval):
    while True:
        time.sleep(interval)  # wait before the next try
        return interval
