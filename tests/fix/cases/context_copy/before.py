"""Reports rendered in an executor, tagged with the request id."""

import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="-")


def _render(lines):
    return "\n".join(f"[{request_id.get()}] {line}" for line in lines)


async def render(lines):
    loop = asyncio.get_running_loop()
    # the executor thread does not see request_id unless it runs in a copy of the context
    return await loop.run_in_executor(None, _render, lines)
