"""The concurrency and context tests that pin the fixes down."""

import asyncio
import json

import pytest

from hazards_demo import reports, settings
from hazards_demo.context import request_id
from loopwarden.testing import max_concurrency


@pytest.fixture(autouse=True)
def settings_file(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "SETTINGS_FILE", tmp_path / "settings.json")


def test_concurrent_updates_never_overlap():
    async def main():
        # return_exceptions: should the calls overlap, the probe's count is what fails first
        return await asyncio.gather(*(settings.set_setting_safely(f"k{i}", "v") for i in range(8)), return_exceptions=True)

    with max_concurrency("hazards_demo.settings._write_setting", hold=0.02) as probe:
        results = asyncio.run(main())
    assert (probe.calls, probe.max) == (8, 1)
    assert results == [None] * 8
    assert len(json.loads(settings.SETTINGS_FILE.read_text())) == 8


def test_unlocked_updates_overlap():
    async def main():
        # return_exceptions: a reader may even see the file half written
        await asyncio.gather(*(settings.set_setting(f"k{i}", "v") for i in range(8)), return_exceptions=True)

    with max_concurrency("hazards_demo.settings._write_setting", hold=0.02) as probe:
        asyncio.run(main())
    assert probe.max > 1  # the race the lock exists for


def test_settings_read_back():
    async def main():
        await settings.set_setting_safely("theme", "dark")
        return await settings.get_settings()

    assert asyncio.run(main()) == {"theme": "dark"}


@pytest.mark.parametrize("render", [reports.render_report_in_context, reports.render_report_to_thread])
def test_report_lines_carry_the_request_id(render):
    async def main():
        request_id.set("req-42")
        return await render(["a", "b"])

    assert asyncio.run(main()) == "[req-42] a\n[req-42] b"


def test_run_in_executor_loses_the_request_id():
    async def main():
        request_id.set("req-42")
        return await reports.render_report(["a"])

    assert asyncio.run(main()) == "[-] a"
