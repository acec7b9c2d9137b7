import json

import pytest
from gated_service import settings


async def test_start_reads_settings(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"relay": "localhost"}))
    assert (await settings.start(path))["relay"] == "localhost"


@pytest.mark.allow_blocking_io(reason="exercises the sync loader directly; production calls it at start-up only")
async def test_load_settings_directly(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{}")
    assert settings.load_settings(path) == {}
