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
        ({"symbols": ["a.b"], "keyword": "t"}, "give a condition: 'equals', 'absent', 'none', 'local_address' or 'flag'"),
        ({"symbols": ["a.b"], "keyword": "t", "equals": [1]}, "'equals' must be a boolean, number or string"),
        ({"symbols": ["a.b"], "keyword": "t", "absent": 1}, "'absent' must be true or false"),
        ({"symbols": ["a.b"], "keyword": "t", "none": True, "also": [{"keyword": "u"}]}, "also[0]: give a condition"),
        ({"symbols": "a.b", "keyword": "t", "equals": 0}, "expected a list of strings"),
        ({"symbols": ["a.b"], "keyword": "t", "equals": 0, "when": 1}, "unknown key(s) ['when']"),
    ],
)
def test_malformed_rules_are_catalogue_errors(rule: dict, message: str) -> None:
    with pytest.raises(CatalogError, match="nonblocking") as info:
        Catalog().extend({"nonblocking": [rule]}, "pyproject.toml")
    assert message in str(info.value)


def test_conditions_on_absent_none_local_addresses_flags_and_together() -> None:
    from loopwarden.catalog import NOT_CONSTANT, Symbolic

    catalog = load_catalog()
    cpu = "psutil.cpu_percent"
    assert catalog.returns_at_once(cpu, (), complete=True)  # no interval: no sampling
    assert not catalog.returns_at_once(cpu, ())  # not every argument recorded: unknown
    assert catalog.returns_at_once(cpu, (("interval", None),), complete=True)
    assert not catalog.returns_at_once(cpu, (("interval", 1),), complete=True)
    assert not catalog.returns_at_once(cpu, (("interval", NOT_CONSTANT),), complete=True)
    dns = "socket.getaddrinfo"
    for host in ("127.0.0.1", "::1", "localhost", "fe80::1%eth0", None):
        assert catalog.returns_at_once(dns, ((0, host), (1, 80)), complete=True), host
    for host in ("example.com", "127.0.0.1.example.com", NOT_CONSTANT, 5):
        assert not catalog.returns_at_once(dns, ((0, host), (1, 80)), complete=True), host
    verify = "ssl.SSLContext.load_verify_locations"
    assert catalog.returns_at_once(verify, (("cadata", NOT_CONSTANT),), complete=True)
    assert not catalog.returns_at_once(verify, ((0, NOT_CONSTANT),), complete=True)
    assert not catalog.returns_at_once(verify, (("capath", "/etc/ssl"),), complete=True)  # `also` fails
    assert catalog.returns_at_once("fcntl.flock", ((0, NOT_CONSTANT), (1, Symbolic("fcntl.LOCK_EX|fcntl.LOCK_NB"))), complete=True)
    assert not catalog.returns_at_once("fcntl.flock", ((0, NOT_CONSTANT), (1, Symbolic("fcntl.LOCK_EX"))), complete=True)


def test_variant_members_fall_back_to_the_type_unless_free() -> None:
    catalog = load_catalog()
    assert catalog.sink("socket.socket!datagram.connect") is None
    assert catalog.sink("socket.socket!datagram.recv").symbol == "socket.socket.recv"
    assert catalog.sink("queue.Queue!unbounded.put") is None
    assert catalog.sink("queue.Queue!unbounded.get").symbol == "queue.Queue.get"
    assert catalog.sink("csv.Writer!memory.writerow") is None
    assert catalog.sink("csv.Writer.writerow") is not None
