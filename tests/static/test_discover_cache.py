"""The discovery cache: a warm run does not walk the tree again, and its result is always the
one a fresh walk gives (every change that could alter it is noticed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from loopwarden.config import ConfigResolver
from loopwarden.static import cache as cache_mod
from loopwarden.static import discover as discover_mod
from loopwarden.static.discover import Discovery, discover_all
from loopwarden.static.scan import scan

OLD = (1_600_000_000_000_000_000, 1_600_000_000_000_000_000)  # well before any walk


@pytest.fixture(autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    # Directories made a moment ago would be too recent to trust (their mtimes are set back
    # below, but their ctimes cannot be); test_recent_directory_is_not_stored keeps the window.
    monkeypatch.setattr(discover_mod, "_RACY_NS", 0)


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the tree was walked."""
    count: list[int] = []
    real = discover_mod._discover

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        count.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(discover_mod, "_discover", counted)
    return count


def _age(root: Path) -> None:
    for directory, _, _ in os.walk(root):
        os.utime(directory, ns=OLD)


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    files = {
        "app/__init__.py": "",
        "app/web.py": "import time\n",
        "app/util/__init__.py": "",
        "app/util/files.py": "",
        "app/routers/files.py": "",  # no __init__.py: a namespace directory
        "app/generated/big.py": "",
        "scripts/tool.py": "",
        "tests/test_web.py": "",
        ".gitignore": "scripts/\n",
        "../.gitignore": "proj/tests/\n",  # outside any repository: not applied
        "pyproject.toml": '[tool.loopwarden]\nexclude = ["app/generated"]\n',
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _age(tmp_path)
    return root


def _discover(root: Path, cache_dir: Path | None, paths: list[str] | None = None, excludes: list[str] | None = None) -> Discovery:
    return discover_all(paths or ["."], excludes or [], True, cwd=str(root), configs=ConfigResolver(), cache_dir=cache_dir)


def _names(found: Discovery) -> list[str]:
    return [f"{f.display} {f.module}" for f in found.files]


def test_a_warm_discovery_walks_nothing_and_is_identical(tmp_path: Path, walks: list[int]) -> None:
    root = _tree(tmp_path)
    cache_dir = tmp_path / "cache"
    cold = _discover(root, cache_dir)
    assert len(walks) == 1 and len(list((cache_dir / "discovery").glob("*.pickle"))) == 1
    assert cache_mod.is_loopwarden_cache(cache_dir)
    warm = _discover(root, cache_dir)
    assert len(walks) == 1  # reused
    assert warm == cold == _discover(root, None)
    assert _names(warm) == [
        "app/__init__.py app",
        "app/routers/files.py app.routers.files",
        "app/util/__init__.py app.util",
        "app/util/files.py app.util.files",
        "app/web.py app.web",
        "tests/test_web.py tests.test_web",
    ]
    # Other arguments are another entry, never this one.
    _discover(root, cache_dir, excludes=["tests"])
    assert len(walks) == 3 and "tests/test_web.py tests.test_web" not in _names(_discover(root, cache_dir, excludes=["tests"]))
    assert len(walks) == 3 and len(list((cache_dir / "discovery").glob("*.pickle"))) == 2


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# Each change alters the discovery; the cached run must give what a fresh walk gives.
CHANGES: dict[str, Callable[[Path], None]] = {
    "file added": lambda root: _write(root / "app/util/new.py"),
    "file removed": lambda root: (root / "app/util/files.py").unlink(),
    "file renamed": lambda root: (root / "app/web.py").rename(root / "app/site.py"),
    "directory added": lambda root: _write(root / "app/api/v1.py"),
    "directory removed": lambda root: shutil.rmtree(root / "app/routers"),
    "package made": lambda root: _write(root / "app/routers/__init__.py"),  # module names change
    "package above the root": lambda root: _write(root / "__init__.py"),  # scanning app/: proj is above it
    ".gitignore edited in place": lambda root: (root / ".gitignore").write_text("tests/\n"),
    ".gitignore added below": lambda root: _write(root / "app/.gitignore", "web.py\n"),
    "configuration edited in place": lambda root: (root / "pyproject.toml").write_text("[tool.loopwarden]\nexclude = []\n"),
    "configuration added below": lambda root: _write(root / "app/util/pyproject.toml", '[tool.loopwarden]\nexclude = ["files.py"]\n'),
    "git root made above": lambda root: (root.parent / ".git").mkdir(),  # its .gitignore now applies
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_is_noticed(tmp_path: Path, change: str, walks: list[int]) -> None:
    root = _tree(tmp_path)
    cache_dir = tmp_path / "cache"
    paths = ["app"] if change == "package above the root" else ["."]
    before = _discover(root, cache_dir, paths)
    assert _discover(root, cache_dir, paths) == before and len(walks) == 1
    CHANGES[change](root)
    after = _discover(root, cache_dir, paths)
    fresh = _discover(root, None, paths)
    assert after == fresh
    assert _names(after) != _names(before)
    assert _discover(root, cache_dir, paths) == fresh  # and the new result is kept


def test_explicit_paths_and_a_symbolic_link_whose_target_goes(tmp_path: Path, walks: list[int]) -> None:
    root = _tree(tmp_path)
    target = tmp_path / "elsewhere.py"
    target.write_text("")
    (root / "app" / "linked.py").symlink_to(target)
    _age(tmp_path)
    cache_dir = tmp_path / "cache"
    paths = ["app", "tests/test_web.py"]
    before = _discover(root, cache_dir, paths)
    assert "app/linked.py app.linked" in _names(before)
    assert _discover(root, cache_dir, paths) == before and len(walks) == 1
    target.unlink()  # the directory holding the link does not change
    after = _discover(root, cache_dir, paths)
    assert after == _discover(root, None, paths) and after.skipped and "app/linked.py app.linked" not in _names(after)
    (root / "tests" / "test_web.py").unlink()
    (root / "tests" / "test_web.py").mkdir()
    target.write_text("")
    assert _discover(root, cache_dir, paths) == _discover(root, None, paths)


def test_recent_directory_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, walks: list[int]) -> None:
    """A directory changed within the timestamp granularity of the walk may still be changing."""
    monkeypatch.setattr(discover_mod, "_RACY_NS", 2_000_000_000)
    root = _tree(tmp_path)
    future = 2**62
    os.utime(root / "app", ns=(future, future))
    cache_dir = tmp_path / "cache"
    _discover(root, cache_dir)
    _discover(root, cache_dir)
    assert len(walks) == 2 and not list(cache_dir.rglob("*.pickle"))


def test_a_discovery_with_skipped_inputs_is_not_stored(tmp_path: Path, walks: list[int]) -> None:
    root = _tree(tmp_path)
    os.mkfifo(root / "app" / "pipe.py")
    _age(tmp_path)
    cache_dir = tmp_path / "cache"
    first = _discover(root, cache_dir)
    assert [s.reason for s in first.skipped] == ["not a regular file"]
    assert _discover(root, cache_dir) == first and len(walks) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign_key", "wrong_type"])
def test_damaged_entries_are_ignored_and_rewritten(tmp_path: Path, damage: str, walks: list[int]) -> None:
    root = _tree(tmp_path)
    cache_dir = tmp_path / "cache"
    expected = _discover(root, cache_dir)
    (entry,) = (cache_dir / "discovery").glob("*.pickle")
    data = entry.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = data[:60] + os.urandom(64)
    elif damage == "empty":
        data = b""
    elif damage == "foreign_key":  # sealed under another user's secret
        data = cache_mod.seal(data[len(cache_mod._FORMAT) + 32 :], b"x" * 32)
    else:  # sealed by us, but not a discovery
        import pickle

        data = cache_mod.seal(pickle.dumps(("discovery", entry.stem)), cache_mod.user_secret() or b"")
    entry.write_bytes(data)
    assert _discover(root, cache_dir) == expected and len(walks) == 2
    assert _discover(root, cache_dir) == expected and len(walks) == 2  # rewritten whole


def test_a_cached_discovery_leaves_the_configuration_resolver_as_a_walk(tmp_path: Path, walks: list[int]) -> None:
    """The scan builds its catalogue from the configurations discovery met: a nested
    project's catalogue table must apply on a warm run too."""
    root = _tree(tmp_path)
    _write(root / "svc" / "pyproject.toml", "[[tool.loopwarden.catalog.group]]\ncategory = 'SLEEP'\nsymbols = ['vendor.crunch']\n")
    _write(root / "svc" / "svc" / "__init__.py")
    _write(root / "svc" / "svc" / "api.py", "import vendor\n\n\nasync def handler():\n    return vendor.crunch()\n")
    _age(tmp_path)

    def findings(cache_dir: Path | None) -> list[str]:
        result = scan(["."], None, cwd=str(root), configs=ConfigResolver(), cache_dir=cache_dir)
        return [f"{f.path}:{f.line} {f.symbol}" for f in result.findings]

    expected = findings(None)
    assert "svc/svc/api.py:5 vendor.crunch" in expected
    cache_dir = tmp_path / "cache"
    assert findings(cache_dir) == expected and len(walks) == 2
    shutil.rmtree(cache_dir / "files")  # the per-file entries go: the summaries are made again
    (cache_dir / "program.pickle").unlink()
    assert findings(cache_dir) == expected and len(walks) == 2  # the discovery was the cached one


def test_a_configuration_broken_since_is_reported_not_skipped(tmp_path: Path) -> None:
    from loopwarden.config import ConfigError

    root = _tree(tmp_path)
    cache_dir = tmp_path / "cache"
    _discover(root, cache_dir)
    (root / "pyproject.toml").write_text("[tool.loopwarden\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        _discover(root, None)
    with pytest.raises(ConfigError, match="invalid TOML"):
        _discover(root, cache_dir)


def test_cli_report_after_a_new_module_is_the_uncached_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from loopwarden.cli import main

    monkeypatch.delenv("LOOPWARDEN_NO_CACHE", raising=False)  # tests/conftest.py sets it for the rest
    monkeypatch.delenv(cache_mod.ENV_CACHE_DIR, raising=False)
    root = _tree(tmp_path)
    _write(root / "app" / "api.py", "import time\n\n\nasync def handler():\n    time.sleep(1)\n")
    _age(tmp_path)
    monkeypatch.chdir(root)

    def report(*extra: str) -> dict[str, object]:
        main(["scan", "--format", "json", *extra])
        return dict(json.loads(capsys.readouterr().out))

    cold, warm = report(), report()
    assert cold == warm == report("--no-cache") and cold["findings"]
    assert list((root / ".loopwarden_cache" / "discovery").glob("*.pickle"))
    _write(root / "app" / "api2" / "routes.py", "import time\n\n\nasync def other():\n    time.sleep(2)\n")
    after = report()
    assert after == report("--no-cache") and len(after["findings"]) == len(cold["findings"]) + 1  # type: ignore[arg-type]


def test_only_the_newest_entries_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover_mod, "_CACHE_ENTRIES", 2)
    root = _tree(tmp_path)
    cache_dir = tmp_path / "cache"
    written: list[str] = []
    for second, excludes in enumerate((["a"], ["b"], ["c"])):
        before = {p.name for p in (cache_dir / "discovery").glob("*.pickle")}
        _discover(root, cache_dir, excludes=excludes)
        (new,) = {p.name for p in (cache_dir / "discovery").glob("*.pickle")} - before
        os.utime(cache_dir / "discovery" / new, ns=(OLD[0] + second * 10**9,) * 2)  # a distinct age each
        written.append(new)
    kept = {p.name for p in (cache_dir / "discovery").glob("*.pickle")}
    assert kept == set(written[1:])  # the oldest went
    _discover(root, cache_dir, excludes=["c"])  # the newest is still there: reused, nothing removed
    assert {p.name for p in (cache_dir / "discovery").glob("*.pickle")} == kept
