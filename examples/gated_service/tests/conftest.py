import pytest_asyncio
from gated_service.notes import NoteStore


@pytest_asyncio.fixture
async def store(tmp_path):
    notes = NoteStore(tmp_path)
    await notes.save_offloaded("hello", "hi there")
    return notes
