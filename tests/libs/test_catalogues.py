"""Catalogue entries that libraries ship through the ``loopwarden.catalog`` entry-point group."""

from __future__ import annotations

import pytest

from loopwarden.catalog import default_catalog, with_tables
from loopwarden.libs import FollowOptions
from loopwarden.static.scan import scan
from tests.libs import site as fake


@pytest.fixture
def tree(tmp_path, monkeypatch):
    site, project = fake.build_catalogue_libs(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LOOPWARDEN_LIBS_CACHE", str(tmp_path / "libs-cache"))
    monkeypatch.chdir(project)
    return site, project


def test_library_shipped_sinks_and_offloads_are_merged(tree):
    before = scan(["."], None)
    # Without the library's entries: fetch() is opaque, and the lambda handed to run_blocking
    # is taken as run on the loop.
    assert [(f.key, f.line) for f in before.findings] == [
        ("app.py::offloaded.<lambda>::time.sleep", 11),
        ("app.py::direct::time.sleep", 15),
    ]
    after = scan(["."], None, follow_libs=FollowOptions())
    # catsdk.Client.fetch is a NETWORK sink by catsdk's own entry; run_blocking is an offload
    # wrapper by it, so the lambda's sleep runs off the loop. catsdk's code is not followed:
    # the catalogue models it now.
    assert [(f.key, f.line, f.category, f.library) for f in after.findings] == [
        ("app.py::fetch::catsdk.Client.fetch", 7, "NETWORK", None),
        ("app.py::direct::time.sleep", 15, "SLEEP", None),
    ]
    stats = after.libraries
    assert stats.catalogues == ("catsdk: catsdk/loopwarden.toml",)
    assert stats.modules == 0
    assert len(stats.warnings) == 2  # the two broken entries are named and left out; the scan goes on
    bad_toml, bad_key = stats.warnings
    assert "badtoml/lw.toml (badtoml): cannot read it: Expected ']]'" in bad_toml
    assert "badkey/lw.toml (badkey): unknown catalogue key(s) ['sinks']" in bad_key


def test_with_tables_leaves_the_built_in_catalogue_alone():
    table = {"group": [{"category": "NETWORK", "symbols": ["somesdk.call"]}]}
    merged, errors = with_tables(default_catalog(), [(table, "somesdk"), ({"bogus": 1}, "other")])
    assert merged.sink("somesdk.call") is not None
    assert default_catalog().sink("somesdk.call") is None
    assert len(errors) == 1
    assert errors[0].startswith("other: unknown catalogue key(s) ['bogus']; expected [") and errors[0].endswith("; ignored")
