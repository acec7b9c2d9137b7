import subprocess
import time


async def version():
    out = subprocess.run(["git", "describe"], capture_output=True, text=True)
    return out.stdout.strip(), time.monotonic()
