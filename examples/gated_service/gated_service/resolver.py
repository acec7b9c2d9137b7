"""Resolving the mail relay: the loop's resolver, and a sync lookup on the loop."""

from __future__ import annotations

import asyncio
import socket


async def relay_address(host: str) -> str:
    infos = await asyncio.get_running_loop().getaddrinfo(host, 25, type=socket.SOCK_STREAM)
    return infos[0][4][0]


async def relay_address_blocking(host: str) -> str:
    return socket.gethostbyname(host)  # DNS on the loop
