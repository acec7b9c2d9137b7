from gated_service import audit


async def test_record(tmp_path):
    await audit.record(tmp_path / "audit.sqlite3", "login")
