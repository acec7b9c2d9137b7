"""Every category's documented example is found, and its documented fix is silent.

The examples are the ones shown in docs/rules.md, so the rule reference cannot drift from
what the scanner does.
"""

from __future__ import annotations

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.catalog.categories import CATEGORIES
from loopwarden.static.scan import scan


def _scan_snippet(tmp_path, text: str):
    (tmp_path / "snippet.py").write_text(text)
    return scan(["."], default_catalog(), cwd=str(tmp_path))


@pytest.mark.parametrize("name", sorted(CATEGORIES))
def test_category_example_is_reported(tmp_path, name):
    result = _scan_snippet(tmp_path, CATEGORIES[name].example)
    assert result.skipped == []
    assert name in {f.category for f in result.findings}, [f.key for f in result.findings]


@pytest.mark.parametrize("name", sorted(CATEGORIES))
def test_category_fix_is_silent(tmp_path, name):
    result = _scan_snippet(tmp_path, CATEGORIES[name].instead)
    assert result.skipped == []
    assert name not in {f.category for f in result.findings}, [f.key for f in result.findings]


def test_every_category_has_catalogued_symbols():
    catalog = default_catalog()
    have = {s.category for s in catalog.sinks.values()} | {p.category for p in catalog.patterns}
    assert have == set(CATEGORIES)
