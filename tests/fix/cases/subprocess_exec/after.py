import asyncio
import subprocess
import time


async def _run_subprocess(args, *, capture_output=False, text=False, check=False, input=None, cwd=None, env=None):
    """subprocess.run on the event loop's subprocess support (added by loopwarden fix)."""
    pipe = asyncio.subprocess.PIPE if capture_output else None
    stdin = asyncio.subprocess.PIPE if input is not None else None
    process = await asyncio.create_subprocess_exec(*args, stdin=stdin, stdout=pipe, stderr=pipe, cwd=cwd, env=env)
    stdout, stderr = await process.communicate(input.encode() if text and input is not None else input)
    if text:
        stdout = stdout.decode() if stdout is not None else None
        stderr = stderr.decode() if stderr is not None else None
    result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result


async def version():
    out = await _run_subprocess(["git", "describe"], capture_output=True, text=True)
    return out.stdout.strip(), time.monotonic()
