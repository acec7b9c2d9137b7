"""The persistent cache: warm runs reuse results, and nothing in the cache is trusted."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopwarden.catalog import default_catalog, load_catalog
from loopwarden.cli import main
from loopwarden.static import cache as cache_mod
from loopwarden.static.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OLD = (1_600_000_000_000_000_000, 1_600_000_000_000_000_000)  # well past the racy window


@pytest.fixture(autouse=True)
def _user_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    monkeypatch.delenv("LOOPWARDEN_NO_CACHE", raising=False)  # tests/conftest.py sets it for the rest


def _project(tmp_path: Path, name: str = "cross_module") -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns("expected.txt"))
    for path in root.rglob("*.py"):
        os.utime(path, ns=OLD)
    return root


def _run(root: Path, cache_dir: Path | None):
    result = scan(["."], default_catalog(), cwd=str(root), cache_dir=cache_dir)
    lines = [repr(f) for f in result.findings]
    lines += [f"skipped {s.path}: {s.reason}" for s in result.skipped]
    return lines, result


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "files").glob("*.pickle"))


def _all_pickles(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.pickle"))


def test_warm_run_reuses_every_result_and_reports_the_same(tmp_path):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    uncached, plain = _run(root, None)
    cold, first = _run(root, cache_dir)
    warm, second = _run(root, cache_dir)
    assert uncached == cold == warm and cold
    assert plain.cache_stats is None
    assert first.cache_stats == (0, first.files) and len(_entries(cache_dir)) == first.files
    assert second.cache_stats == (second.files, 0)
    assert second.program is None  # nothing changed: the whole-program result came from the cache
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache_dir / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    (cache_dir / "program.pickle").unlink()  # per-file entries alone: still no file analysed
    again, third = _run(root, cache_dir)
    assert again == cold and third.cache_stats == (third.files, 0) and third.program is not None


def test_warm_run_reads_no_source_file(tmp_path, monkeypatch):
    """Nothing changed: file metadata and the cache only."""
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)
    _run(root, cache_dir)  # the index now holds every file
    opened = []
    real_open = open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    got, result = _run(root, cache_dir)
    assert got == expected and result.cache_stats == (result.files, 0)
    assert not [p for p in opened if p.endswith(".py") and os.path.exists(p)]  # setup.py is looked for


def test_one_changed_file_is_the_only_one_analysed_again(tmp_path):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    before, _ = _run(root, cache_dir)
    target = next(p for p in sorted(root.rglob("*.py")) if "async def" in p.read_text())
    target.write_text(target.read_text() + "\n\nasync def added():\n    import time\n    time.sleep(1)\n")
    after, result = _run(root, cache_dir)
    assert result.cache_stats == (result.files - 1, 1)
    assert after == _run(root, None)[0]
    assert len([x for x in after if "time.sleep" in x]) == len([x for x in before if "time.sleep" in x]) + 1


def test_touched_but_unchanged_file_still_hits(tmp_path):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)
    for path in root.rglob("*.py"):
        os.utime(path, ns=(OLD[0] + 10**9, OLD[1] + 10**9))
    got, result = _run(root, cache_dir)
    assert got == expected and result.cache_stats == (result.files, 0)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign_key", "other_format"])
def test_damaged_entries_are_ignored_and_rebuilt(tmp_path, damage):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)
    _run(root, cache_dir)
    assert (cache_dir / "index.pickle").is_file() and (cache_dir / "program.pickle").is_file()
    for entry in _all_pickles(cache_dir):
        data = entry.read_bytes()
        if damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "garbage":
            data = data[:40] + os.urandom(64)
        elif damage == "empty":
            data = b""
        elif damage == "foreign_key":  # a valid pickle sealed under another user's secret
            data = cache_mod.seal(data[len(cache_mod._FORMAT) + 32 :], b"x" * 32)
        else:
            data = b"some-other-tool\n" + data
        entry.write_bytes(data)
    again, result = _run(root, cache_dir)
    assert again == expected
    assert result.cache_stats == (0, result.files)
    third, result = _run(root, cache_dir)  # rebuilt: warm again
    assert third == expected and result.cache_stats == (result.files, 0)


def test_an_entry_of_the_wrong_type_is_not_used(tmp_path):
    """Sealed by us but not a result (another loopwarden's layout): rebuilt."""
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)
    secret = cache_mod.user_secret()
    for entry in _all_pickles(cache_dir):
        entry.write_bytes(cache_mod.seal(pickle.dumps({"not": "a summary"}), secret))
    again, result = _run(root, cache_dir)
    assert again == expected and result.cache_stats == (0, result.files)


def test_a_foreign_pickle_is_never_loaded(tmp_path, monkeypatch):
    """A cache directory checked in with a repository must not run code when loaded."""
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch pwned",))

    for entry in _all_pickles(cache_dir):
        entry.write_bytes(cache_mod._FORMAT + b"\0" * 32 + pickle.dumps(Boom()))
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    again, result = _run(root, cache_dir)
    assert calls == [] and not (root / "pwned").exists()
    assert again == expected and result.cache_stats == (0, result.files)


def test_leftover_temporary_files_do_not_matter(tmp_path):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    expected, _ = _run(root, cache_dir)
    (cache_dir / "files" / ".tmp-crashed").write_bytes(b"half")
    (cache_dir / ".tmp-crashed").write_bytes(b"half")
    again, result = _run(root, cache_dir)
    assert again == expected and result.cache_stats == (result.files, 0)


def test_configuration_that_changes_extraction_is_a_new_cache(tmp_path):
    """A catalogue entry of the configuration changes the key: never a stale result."""
    root = _project(tmp_path, "project_wrappers")
    cache_dir = root / ".loopwarden_cache"
    before, _ = _run(root, cache_dir)
    assert any("write_text" in line for line in before)
    catalog = load_catalog({"offload": [{"name": "app.schedule", "callable_arg": 0}]}, "test")
    result = scan(["."], catalog, cwd=str(root), cache_dir=cache_dir)
    assert result.cache_stats == (0, result.files)
    uncached = scan(["."], catalog, cwd=str(root))
    assert [repr(f) for f in result.findings] == [repr(f) for f in uncached.findings]
    assert not any("write_text" in repr(f) for f in result.findings)


def test_clean_removes_only_a_loopwarden_cache(tmp_path):
    root = _project(tmp_path)
    cache_dir = root / ".loopwarden_cache"
    _run(root, cache_dir)
    assert cache_mod.clean(cache_dir) and not cache_dir.exists()
    other = tmp_path / "precious"
    other.mkdir()
    (other / "keep.txt").write_text("data")
    assert not cache_mod.clean(other) and (other / "keep.txt").exists()


def test_unwritable_cache_only_costs_speed(tmp_path):
    root = _project(tmp_path)
    blocker = root / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    expected, _ = _run(root, None)
    got, result = _run(root, blocker / "cache")
    assert got == expected and result.cache_stats is None
    assert result.cache_warning.startswith(f"cannot write the cache at {blocker / 'cache'}")


# -- command line -----------------------------------------------------------------------------


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_reports_are_identical_cold_warm_and_after_a_touch(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    monkeypatch.chdir(root)

    def report(*extra: str) -> dict:
        code, out, err = _cli(["scan", "--format", "json", *extra], capsys)
        assert code == 1 and err == ""
        return json.loads(out)

    uncached = report("--no-cache")
    assert not (root / ".loopwarden_cache").exists() and uncached["findings"]
    cold, warm = report(), report()
    for path in root.rglob("*.py"):
        path.touch()
    touched = report()
    assert uncached == cold == warm == touched
    target = next(p for p in sorted(root.rglob("*.py")) if "async def" in p.read_text())
    target.write_text(target.read_text().replace("async def", "def", 1))
    edited = report()
    assert edited == report("--no-cache") and edited != uncached


def test_cli_cache_dir_config_and_clean(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.loopwarden]\ncache-dir = "build/lw-cache"\n')
    monkeypatch.chdir(root / "app")
    assert _cli(["scan", "--format", "summary"], capsys)[0] == 1
    assert cache_mod.is_loopwarden_cache(root / "build" / "lw-cache") and not (root / ".loopwarden_cache").exists()
    assert _cli(["clean"], capsys) == (0, f"loopwarden: removed {root / 'build' / 'lw-cache'}\n", "")
    assert not (root / "build" / "lw-cache").exists()
    assert _cli(["clean"], capsys)[0] == 0
    (root / "build" / "lw-cache").mkdir(parents=True)
    (root / "build" / "lw-cache" / "keep.txt").write_text("not ours")
    code, _, err = _cli(["clean"], capsys)
    assert code == 2 and "not a loopwarden cache" in err and (root / "build" / "lw-cache" / "keep.txt").exists()
    (root / "pyproject.toml").write_text("[tool.loopwarden]\ncache-dir = 3\n")
    code, _, err = _cli(["scan"], capsys)
    assert code == 2 and "tool.loopwarden.cache-dir must be the path of a directory" in err


def test_cli_unwritable_cache_warns_once_and_scans(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.loopwarden]\ncache-dir = "blocker/cache"\n')
    (root / "blocker").write_text("a file")
    monkeypatch.chdir(root)
    code, out, err = _cli(["scan", "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["findings"]
    assert err.count("\n") == 1 and err.startswith("loopwarden: warning: cannot write the cache at ")


def test_two_concurrent_runs_share_the_cache_safely(tmp_path):
    root = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert "LOOPWARDEN_NO_CACHE" not in env
    command = [sys.executable, "-m", "loopwarden", "scan", "--format", "json", "-j", "1"]
    expected = subprocess.run([*command, "--no-cache"], cwd=root, env=env, capture_output=True, text=True).stdout
    for _ in range(2):  # cold (both write every entry) then warm (both read)
        procs = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [p.communicate() for p in procs]
        assert [out for out, _ in outputs] == [expected, expected]
        assert [err for _, err in outputs] == ["", ""]
    assert not list((root / ".loopwarden_cache").rglob(".tmp-*"))


def test_declared_console_scripts_are_part_of_the_whole_program_key(tmp_path):
    """pyproject.toml is no Python file, yet its [project.scripts] make entry points."""
    root = _project(tmp_path, "console_scripts")
    cache_dir = tmp_path / "cache"
    before, _ = _run(root, cache_dir)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('tool-admin = "tool.admin:main"', ""))
    after, result = _run(root, cache_dir)
    assert result.cache_stats == (result.files, 0)  # every file's own entry still holds
    assert after == _run(root, None)[0] and after != before
