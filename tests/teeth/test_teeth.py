"""``loopwarden teeth`` on the fixture project ``shop``: one offload of each outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.teeth.helpers import copy_fixture, digests, load, outcomes, teeth

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "teeth.schema.json"

EXPECTED = {
    "shop/store.py:28:17": "KILLED",  # to_thread, guarded
    "shop/store.py:33:10": "KILLED",  # run_in_executor + partial, guarded
    "shop/store.py:37:17": "NOT_COVERED",
    "shop/store.py:41:17": "SURVIVED",  # its test opts out of the gate
    "shop/store.py:45:17": "SURVIVED",  # its test mocks the callee
    "shop/store.py:49:17": "NOT_BLOCKING",
    # The mutant hands coroutines to asyncio.wait: a TypeError from Python 3.11 on; 3.10 wraps
    # them in tasks (deprecated), so the inline call runs and the gate kills it.
    "shop/store.py:54:15": "ERROR" if sys.version_info >= (3, 11) else "KILLED",
}
TYPE_ERROR = sys.version_info >= (3, 11)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = copy_fixture("shop", tmp_path_factory.mktemp("teeth") / "shop")
    cache = root.parent / "cache"
    before = digests(root)
    result = teeth(root, "--format", "json", "--cache-dir", str(cache), "--jobs", "2", "--tests", "tests")
    return {"root": root, "cache": cache, "before": before, "result": result, "document": load(result)}


def test_every_site_gets_its_outcome(shop: dict) -> None:
    document = shop["document"]
    assert outcomes(document) == EXPECTED
    by_id = {s["id"]: s for s in document["sites"]}
    read = by_id["shop/store.py:28:17"]
    assert read["killed_by"]["test"] == "tests/test_store.py::test_read"
    assert read["killed_by"]["key"] == "shop/store.py::load::builtins.open"
    assert read["key"] == "shop/store.py::read::asyncio.to_thread"
    assert by_id["shop/store.py:33:10"]["killed_by"]["test"] == "tests/test_store.py::test_write"
    assert by_id["shop/store.py:33:10"]["callable"] == 'functools.partial(save, path, text, mode="w")'
    assert by_id["shop/store.py:45:17"]["blocking"] == ["socket.gethostbyname"]
    assert by_id["shop/store.py:45:17"]["tests"] == ["tests/test_store.py::test_address"]
    assert by_id["shop/store.py:37:17"]["tests"] == []
    assert by_id["shop/store.py:49:17"]["blocking"] == []
    if TYPE_ERROR:
        assert "TypeError: Passing coroutines is forbidden" in by_id["shop/store.py:54:15"]["detail"]
    killed = 2 if TYPE_ERROR else 3
    assert document["score"] == {2: 40.0, 3: 50.0}[killed]
    assert document["summary"] == {
        "sites": 7, "KILLED": killed, "SURVIVED": 2, "NOT_COVERED": 1, "ERROR": 3 - killed, "NOT_BLOCKING": 1, "TIMEOUT": 0
    }
    assert shop["result"].returncode == 1  # below the default --min-score of 100
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_the_project_is_untouched_and_still_green(shop: dict) -> None:
    root = shop["root"]
    assert digests(root) == shop["before"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--loopwarden", "tests"], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout  # no mutated bytecode was cached for the next import


def test_a_rerun_comes_from_the_cache_and_shards_merge(shop: dict, tmp_path: Path) -> None:
    root, cache = shop["root"], str(shop["cache"])
    again = teeth(root, "--cache-dir", cache, "--min-score", "40", "--tests", "tests")
    assert again.returncode == 0, again.stderr
    assert "baseline" not in again.stderr
    assert again.stdout.count("(cached)") == 7
    if TYPE_ERROR:
        assert "score 40%: 2 killed of 5 (2 survived, 1 not covered); 1 not blocking, 1 error(s), 0 timeout(s)" in again.stdout
    parts = []
    for shard in ("1/2", "2/2"):
        part = tmp_path / f"part{shard[0]}.json"
        teeth(root, "--cache-dir", cache, "--shard", shard, "--format", "json", "-o", str(part), "--tests", "tests")
        parts.append(json.loads(part.read_text(encoding="utf-8")))
    assert sorted(len(p["sites"]) for p in parts) != [0, 7]  # both shards have sites
    assert not set(outcomes(parts[0])) & set(outcomes(parts[1]))
    merged = teeth(root, "merge", *(str(tmp_path / f"part{i}.json") for i in (1, 2)), "--format", "json")
    assert outcomes(load(merged)) == EXPECTED and merged.returncode == 1
    # A changed test file invalidates the sites its tests select.
    tests = root / "tests" / "test_store.py"
    tests.write_text(tests.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    changed = load(teeth(root, "--cache-dir", cache, "--format", "json", "--site", "shop/store.py:28", "--tests", "tests"))
    assert [(s["outcome"], s["cached"]) for s in changed["sites"]] == [("KILLED", False)]


def test_the_forced_mutant_stops_the_run_when_the_hook_is_disabled(tmp_path: Path) -> None:
    root = copy_fixture("shop", tmp_path / "shop")
    result = teeth(root, "--no-cache", "--site", "shop/store.py:28", "--tests", "tests", env={"LOOPWARDEN_TEETH_DISABLE_HOOK": "1"})
    assert result.returncode == 2
    assert "the forced mutant at shop/store.py:28:17 was not killed (reached: no" in result.stderr
    assert result.stdout == ""


def test_the_baseline_must_be_green_under_the_gate(tmp_path: Path) -> None:
    root = copy_fixture("shop", tmp_path / "shop")
    test = root / "tests" / "test_store.py"
    test.write_text(test.read_text(encoding="utf-8") + "\n\nasync def test_blocks():\n    store.load(__file__)\n", encoding="utf-8")
    result = teeth(root, "--no-cache", "--site", "shop/store.py:28", "--tests", "tests")
    assert result.returncode == 2
    assert "the tests are not green under the gate (pytest exit 1)" in result.stderr
    assert "tests/test_store.py::test_blocks (call): loopwarden: blocking call on the event loop: builtins.open" in result.stderr


def test_a_run_killed_mid_way_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    root = copy_fixture("shop", tmp_path / "shop")
    before = digests(root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopwarden", "teeth", "--no-cache", "--jobs", "2", "--tests", "tests"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    seen = ""
    while "mutants:" not in seen:  # the mutants are running
        line = proc.stderr.readline()
        assert line, f"teeth ended before its mutants ran: {seen}"
        seen += line
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)  # children notice the driver is gone within 0.5 s and exit
    assert digests(root) == before


def test_a_src_layout_namespace_package_from_an_editable_install(tmp_path: Path) -> None:
    """The project is installed the way setuptools installs a src layout in editable mode
    (a ``__editable__.<name>.pth`` naming ``src/``) into a fresh venv that sees this one's
    packages; its tests import ``acme.files`` (``acme`` is a namespace package) from there.
    The fixture's own tests check that ``__file__``, ``__spec__`` and tracebacks are the
    real file's while the hook is loading the module."""
    import sysconfig
    import venv

    root = copy_fixture("srcns", tmp_path / "srcns")
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    site_dir = Path(subprocess.check_output([env / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    ours = sysconfig.get_paths()["purelib"]
    (site_dir / "_teeth_base.pth").write_text(f"import site; site.addsitedir({ours!r})\n", encoding="utf-8")
    (site_dir / "__editable__.acme_files-0.1.0.pth").write_text(f"{root / 'src'}\n", encoding="utf-8")
    before = digests(root)
    result = teeth(root, "src", "--format", "json", "--no-cache", "--tests", "tests", python=str(env / "bin" / "python"))
    document = load(result)
    assert outcomes(document) == {"src/acme/files/blobs.py:8:17": "KILLED"}, result.stderr
    assert document["sites"][0]["killed_by"]["test"] == "tests/test_blobs.py::test_read_blob"
    assert document["sites"][0]["killed_by"]["symbol"] == "pathlib.Path.read_bytes"
    assert result.returncode == 0
    assert digests(root) == before


def test_diff_verifies_only_the_offloads_on_changed_lines(tmp_path: Path) -> None:
    root = copy_fixture("shop", tmp_path / "shop")
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "shop"], cwd=root, check=True)
    store = root / "shop" / "store.py"
    text = store.read_text(encoding="utf-8")
    store.write_text(text.replace("return await asyncio.to_thread(checksum, text)", "return await asyncio.to_thread(checksum, text)  # edited"), encoding="utf-8")
    result = teeth(root, "--no-cache", "--format", "json", "--diff", "HEAD", "--tests", "tests")
    assert outcomes(load(result)) == {"shop/store.py:49:17": "NOT_BLOCKING"}
    assert result.returncode == 0  # nothing counts towards the score: n/a passes
    bad = teeth(root, "--no-cache", "--diff", "no-such-rev", "--tests", "tests")
    assert bad.returncode == 2 and "--diff no-such-rev: unknown revision 'no-such-rev'" in bad.stderr


def test_a_mutant_that_hangs_is_a_timeout(tmp_path: Path) -> None:
    root = copy_fixture("hang", tmp_path / "hang")
    started = time.monotonic()
    result = teeth(root, "--no-cache", "--format", "json", "--timeout", "8", "--tests", "tests")
    document = load(result)
    assert outcomes(document) == {"hang/handshake.py:10:17": "TIMEOUT"}
    assert document["sites"][0]["detail"] == "the mutant's tests did not finish in time"
    assert time.monotonic() - started < 60  # the hung child was killed, not waited for
