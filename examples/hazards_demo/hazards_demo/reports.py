"""Reports rendered in an executor, with the request id in each line."""

import asyncio
import contextvars

from hazards_demo.context import tag


def _render(lines: list[str]) -> str:
    return "\n".join(tag(line) for line in lines)


async def render_report(lines: list[str]) -> str:
    loop = asyncio.get_running_loop()
    # BUG: run_in_executor does not carry contextvars: every line says [-].
    return await loop.run_in_executor(None, _render, lines)


async def render_report_in_context(lines: list[str]) -> str:
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    return await loop.run_in_executor(None, ctx.run, _render, lines)


async def render_report_to_thread(lines: list[str]) -> str:
    return await asyncio.to_thread(_render, lines)  # to_thread copies the context
