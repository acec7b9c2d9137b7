"""[[nonblocking]] rules: a blocking call returns at once for a given constant argument."""

from __future__ import annotations

import pytest

from loopwarden.catalog import Catalog, CatalogError, load_catalog


def test_built_in_rules_match_position_or_keyword_and_the_exact_constant() -> None:
    catalog = load_catalog()
    assert catalog.returns_at_once("threading.Thread.join", (("timeout", 0),))
    assert catalog.returns_at_once("threading.Thread.join", ((0, 0.0),))
    assert not catalog.returns_at_once("threading.Thread.join", (("timeout", 5),))
    assert not catalog.returns_at_once("threading.Thread.join", ())
    assert catalog.returns_at_once("concurrent.futures.ThreadPoolExecutor.shutdown", (("wait", False),))
    assert not catalog.returns_at_once("concurrent.futures.ThreadPoolExecutor.shutdown", (("wait", 0),))  # 0 is not False here
    assert not catalog.returns_at_once("concurrent.futures.ThreadPoolExecutor.shutdown", (("wait", True),))
    assert catalog.returns_at_once("queue.Queue.put", ((1, False),))
    assert not catalog.returns_at_once("queue.Queue.put", ((0, False),))  # the item, not `block`


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"symbols": ["a.b"], "equals": 0}, "give 'position', 'keyword' or both"),
        ({"symbols": ["a.b"], "position": -1, "equals": 0}, "'position' must be a non-negative integer"),
        ({"symbols": ["a.b"], "keyword": "t"}, "'equals' must be a boolean, number or string"),
        ({"symbols": "a.b", "keyword": "t", "equals": 0}, "expected a list of strings"),
        ({"symbols": ["a.b"], "keyword": "t", "equals": 0, "when": 1}, "unknown key(s) ['when']"),
    ],
)
def test_malformed_rules_are_catalogue_errors(rule: dict, message: str) -> None:
    with pytest.raises(CatalogError, match="nonblocking") as info:
        Catalog().extend({"nonblocking": [rule]}, "pyproject.toml")
    assert message in str(info.value)
