"""Lock teeth: each ``async with <lock>:`` that holds an offload is run without its lock; some
test (a concurrency test, with ``loopwarden.testing.max_concurrency``) must go red."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.teeth.helpers import copy_fixture, digests, load, outcomes, teeth

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "docs" / "teeth.schema.json"


def test_lock_sites_are_the_lock_blocks_that_hold_offloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module-level lock, semaphore of one, lock on self, lock held by the caller of the
    offloading function (same module and another module); a semaphore of five is no lock."""
    from loopwarden.catalog import default_catalog
    from loopwarden.static.scan import scan
    from loopwarden.teeth.sites import collect_sites

    monkeypatch.chdir(REPO / "tests" / "hazards" / "fixtures" / "lost_update")
    catalog = default_catalog()
    modules = scan(["app"], catalog, respect_gitignore=False).modules
    assert not any(s.is_lock for s in collect_sites(modules, catalog, locks=False))
    sites = [s for s in collect_sites(modules, catalog) if s.is_lock]
    assert [(s.id, s.function, s.callable, s.key, s.holds, s.problem) for s in sites] == [
        ("app/files.py:37:15", "locked", "_config_lock", "app/files.py::locked::async with _config_lock", ("app/files.py:38:14",), None),
        ("app/files.py:42:15", "semaphore_of_one", "_one", "app/files.py::semaphore_of_one::async with _one", ("app/files.py:43:14",), None),
        ("app/store.py:25:19", "NoteStore.add", "self._lock", "app/store.py::NoteStore.add::async with self._lock", ("app/store.py:26:18",), None),
        ("app/store.py:38:19", "NoteStore.add_via_helper", "self._lock", "app/store.py::NoteStore.add_via_helper::async with self._lock",
         ("app/store.py:35:14",), None),
        ("app/store.py:48:15", "outer", "files._config_lock", "app/store.py::outer::async with files._config_lock", ("app/store.py:44:10",), None),
        ("app/store.py:57:15", "caller_with_lock", "files._config_lock", "app/store.py::caller_with_lock::async with files._config_lock",
         ("app/store.py:53:10",), None),
    ]


EXPECTED = {
    "ledger/book.py:19:15": "KILLED",  # module-level lock, concurrency test
    "ledger/book.py:20:14": "KILLED",
    "ledger/book.py:24:15": "NOT_COVERED",  # semaphore of one, no test
    "ledger/book.py:25:14": "NOT_COVERED",
    "ledger/book.py:38:19": "SURVIVED",  # lock on self, a single-call test
    "ledger/book.py:39:18": "KILLED",
    "ledger/book.py:42:14": "KILLED",
    "ledger/book.py:45:19": "KILLED",  # lock held by the caller of the offloading method
}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = copy_fixture("locks", tmp_path_factory.mktemp("teeth") / "locks")
    cache = root.parent / "cache"
    before = digests(root)
    result = teeth(root, "--format", "json", "--cache-dir", str(cache), "--jobs", "2", "--tests", "tests")
    return {"root": root, "cache": cache, "before": before, "result": result, "document": load(result)}


def test_a_lock_mutant_is_killed_by_its_concurrency_test_and_one_survives(ledger: dict) -> None:
    document = ledger["document"]
    assert outcomes(document) == EXPECTED, ledger["result"].stderr
    by_id = {s["id"]: s for s in document["sites"]}
    module_lock, on_self, by_caller = by_id["ledger/book.py:19:15"], by_id["ledger/book.py:38:19"], by_id["ledger/book.py:45:19"]
    assert (module_lock["kind"], module_lock["wrapper"], module_lock["callable"], module_lock["holds"]) == (
        "lock", "async with", "_book_lock", ["ledger/book.py:20:14"]
    )
    assert module_lock["key"] == "ledger/book.py::deposit::async with _book_lock"
    assert module_lock["killed_by"] == {"test": "tests/test_book.py::test_deposits_never_overlap", "key": None, "symbol": None, "location": None}
    assert re.fullmatch(r"assert \(6, [2-6]\) == \(6, 1\)", module_lock["detail"])  # the calls overlapped
    assert by_caller["killed_by"]["test"] == "tests/test_book.py::test_records_never_overlap"
    assert (by_caller["function"], by_caller["holds"]) == ("Journal.record", ["ledger/book.py:42:14"])
    assert (on_self["tests"], on_self["killed_by"], on_self["blocking"]) == (["tests/test_book.py::test_journal_write"], None, None)
    assert by_id["ledger/book.py:20:14"]["kind"] == "offload"
    assert document["summary"] == {"sites": 8, "KILLED": 5, "SURVIVED": 1, "NOT_COVERED": 2, "ERROR": 0, "NOT_BLOCKING": 0, "TIMEOUT": 0}
    assert ledger["result"].returncode == 1
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert digests(ledger["root"]) == ledger["before"]


def test_the_text_report_of_lock_sites(ledger: dict) -> None:
    again = teeth(ledger["root"], "--cache-dir", str(ledger["cache"]), "--tests", "tests")
    assert again.returncode == 1 and "baseline" not in again.stderr  # every site from the cache
    text = re.sub(r"assert \(([64]), [2-6]\)", r"assert (\1, N)", again.stdout)
    text = re.sub(r" in [0-9.]+ s;", " in S s;", text)
    assert text.splitlines() == [
        "site                  callable                     tests  outcome               killed by / detail",
        "ledger/book.py:19:15  _book_lock (async with)      1      KILLED (cached)       tests/test_book.py::test_deposits_never_overlap: assert (6, N) == (6, 1)",
        "ledger/book.py:20:14  _add (to_thread)             1      KILLED (cached)       tests/test_book.py::test_deposits_never_overlap: pathlib.Path.exists at ledger/book.py:13",
        "ledger/book.py:24:15  _one_at_a_time (async with)  0      NOT_COVERED (cached)",
        "ledger/book.py:25:14  _add (to_thread)             0      NOT_COVERED (cached)",
        "ledger/book.py:38:19  self._lock (async with)      1      SURVIVED (cached)     no test went red without the lock",
        "ledger/book.py:39:18  self._append (to_thread)     1      KILLED (cached)       tests/test_book.py::test_journal_write: pathlib.Path.exists at ledger/book.py:34",
        "ledger/book.py:42:14  self._append (to_thread)     1      KILLED (cached)       tests/test_book.py::test_records_never_overlap: pathlib.Path.exists at ledger/book.py:34",
        "ledger/book.py:45:19  self._lock (async with)      1      KILLED (cached)       tests/test_book.py::test_records_never_overlap: assert (4, N) == (4, 1)",
        "",
        "score 62.5%: 5 killed of 8 (1 survived, 2 not covered); 0 not blocking, 0 error(s), 0 timeout(s); 8 site(s) in S s; minimum 100%",
    ]


def test_the_example_project_lock_is_killed_by_its_concurrency_test(tmp_path: Path) -> None:
    """Done when of issue 13: on examples/hazards_demo, the lock of set_setting_safely is KILLED
    by test_concurrent_updates_never_overlap (the run recorded in docs/hazards.md)."""
    root = tmp_path / "hazards_demo"
    shutil.copytree(REPO / "examples" / "hazards_demo", root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    result = teeth(root, "--format", "json", "--no-cache", "--jobs", "2", "--tests", "tests")
    document = load(result)
    assert outcomes(document) == {
        "hazards_demo/reports.py:16:17": "ERROR",  # inline, the context is no longer lost: the test pinning the bug fails
        "hazards_demo/reports.py:22:17": "NOT_BLOCKING",
        "hazards_demo/reports.py:26:17": "NOT_BLOCKING",
        "hazards_demo/settings.py:23:10": "KILLED",
        "hazards_demo/settings.py:27:15": "KILLED",  # async with _settings_lock
        "hazards_demo/settings.py:28:14": "KILLED",
        "hazards_demo/settings.py:32:17": "KILLED",
    }, result.stderr
    lock = next(s for s in document["sites"] if s["kind"] == "lock")
    assert (lock["function"], lock["callable"], lock["holds"]) == ("set_setting_safely", "_settings_lock", ["hazards_demo/settings.py:28:14"])
    assert lock["killed_by"]["test"] == "tests/test_hazards.py::test_concurrent_updates_never_overlap"
    assert re.fullmatch(r"assert \(8, [2-8]\) == \(8, 1\)", lock["detail"])
    assert "AssertionError: assert '[req-42] a' == '[-] a'" in document["sites"][0]["detail"]
    assert document["score"] == 100.0 and result.returncode == 0
