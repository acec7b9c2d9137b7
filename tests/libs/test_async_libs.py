"""scan --follow-libs: blocking calls inside library ``async def``s that project code awaits."""

from __future__ import annotations

import pytest

from loopwarden.libs import FollowOptions
from loopwarden.static.scan import scan
from tests.libs import site as fake


@pytest.fixture
def tree(tmp_path, monkeypatch):
    site, project = fake.build_async_sdk(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LOOPWARDEN_LIBS_CACHE", str(tmp_path / "libs-cache"))
    monkeypatch.chdir(project)
    return site, project


def rows(result) -> list[tuple[object, ...]]:
    return [(f.key, f.line, f.column, f.exposure, f.priority, [s.function for s in f.chain]) for f in result.findings]


SDK = "async_sdk.client.Client."


def test_awaited_library_coroutines_that_block_are_reported_at_the_projects_call(tree):
    result = scan(["."], None, follow_libs=FollowOptions())
    # Silent: fetch_offloaded (to_thread inside), token_in_executor (run_in_executor inside),
    # run_sync (its asyncio.run is reached only through to_thread), never_awaited and
    # awaits_never_awaited (nothing in the project awaits them), own_code (project code,
    # already a root: its await of deep() adds no finding of its own).
    assert rows(result) == [
        ("routes.py::status::requests.get", 11, 17, "ASYNC_REACHABLE", "HIGH",
         ["routes.status", SDK + "fetch_status"]),
        # Two awaits deep, then a sync helper (the chain starts at own_code, which awaits deep:
        # the entry point, as for project code).
        ("routes.py::deep::builtins.open", 15, 17, "ASYNC_REACHABLE", "HIGH",
         ["routes.own_code", "routes.deep", SDK + "refresh", SDK + "_load", SDK + "_token", "async_sdk.client._read_token"]),
        # A sync library method returning a library coroutine.
        ("routes.py::coroutine_from_a_sync_method::time.sleep", 31, 17, "ASYNC_REACHABLE", "HIGH",
         ["routes.coroutine_from_a_sync_method", SDK + "poll", SDK + "_poll"]),
        # A task runs on the loop too.
        ("routes.py::background::requests.get", 35, 4, "ASYNC_REACHABLE", "HIGH",
         ["routes.background", SDK + "fetch_status"]),
        # self.read() in a library base class whose read() has a body: the override of the
        # caller's subclass FileStore may run instead (an inferred edge, so MEDIUM).
        ("routes.py::stored::builtins.open", 43, 11, "ASYNC_REACHABLE", "MEDIUM",
         ["routes.stored", "async_sdk.client.BaseStore.load", "async_sdk.client.FileStore.read"]),
    ]
    first = result.findings[0]
    assert first.library.function == SDK + "fetch_status" and first.library.blocking == ("requests.get",)
    assert "routes.status calls async client.Client.fetch_status, which blocks without offloading" in first.reason
    assert first.fix.startswith("Client.fetch_status blocks the loop although it is async: to_thread cannot offload a coroutine; at routes.py:11")
    assert "whose coroutine (async client.Client._poll) blocks" in result.findings[2].reason
    assert result.findings[2].fix.startswith("the coroutine Client.poll returns blocks the loop")


def test_without_follow_libs_nothing(tree):
    assert scan(["."], None).findings == []
