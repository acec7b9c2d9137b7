import asyncio
import subprocess
import time


async def version():
    out = await asyncio.to_thread(subprocess.run, ["git", "describe"], capture_output=True, text=True)
    return out.stdout.strip(), time.monotonic()
