"""Settings kept in a JSON file; the blocking file I/O was moved off the loop."""

import asyncio
import json
from pathlib import Path

SETTINGS_FILE = Path("settings.json")
_settings_lock = asyncio.Lock()


def _write_setting(key: str, value: str) -> None:
    data = json.loads(SETTINGS_FILE.read_text()) if SETTINGS_FILE.exists() else {}
    data[key] = value
    SETTINGS_FILE.write_text(json.dumps(data))


def _read_settings() -> dict:
    return json.loads(SETTINGS_FILE.read_text())


async def set_setting(key: str, value: str) -> None:
    # BUG: two requests interleave in worker threads and one update is lost.
    await asyncio.to_thread(_write_setting, key, value)


async def set_setting_safely(key: str, value: str) -> None:
    async with _settings_lock:  # one read-modify-write at a time
        await asyncio.to_thread(_write_setting, key, value)


async def get_settings() -> dict:
    return await asyncio.to_thread(_read_settings)  # a read only: nothing to lose
