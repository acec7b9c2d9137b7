"""``loopwarden anchor``: the scaffold collects and runs as written, red while the blocking
call runs on the loop and green after ``loopwarden fix``, on a fixture project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopwarden.cli import main
from loopwarden.fix.anchor import async_test_style, module_of

PROJECT = Path(__file__).parent / "projects" / "anchor_app"


def _project(tmp_path: Path, auto: bool = False) -> Path:
    root = tmp_path / "anchor_app"
    shutil.copytree(PROJECT, root)
    if auto:
        with open(root / "pyproject.toml", "a", encoding="utf-8") as fh:
            fh.write('asyncio_mode = "auto"\nasyncio_default_fixture_loop_scope = "function"\n')
    return root


def _pytest(root: Path, test: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _anchor_red_then_green(root: Path, monkeypatch, target: str, key: str, test: str) -> str:
    monkeypatch.chdir(root)
    assert main(["anchor", target, "--output", test]) == 0
    red = _pytest(root, test)
    assert red.returncode == 1, red.stdout + red.stderr
    assert "1 blocking call in 1 test" in red.stdout
    assert main(["fix", "--key", key, "."]) == 0
    green = _pytest(root, test)
    assert green.returncode == 0, green.stdout + green.stderr
    assert "1 passed" in green.stdout
    return (root / test).read_text()


def test_file_io_anchor_red_before_fix_green_after(tmp_path, monkeypatch):
    root = _project(tmp_path)
    text = _anchor_red_then_green(root, monkeypatch, "app/store.py::names::pathlib.Path.iterdir", "app/store.py::names::pathlib.Path.iterdir", "tests/test_listing.py")
    assert "@pytest.mark.loopwarden" in text
    assert "from app.api import listing" in text  # the entry point, not the helper
    assert "listing(tmp_path)" in text  # a folder parameter gets tmp_path itself, which exists
    assert "asyncio.run(drive())" in text  # no async plugin configured: a plain asyncio.run


def test_network_anchor_mocks_the_boundary_with_a_blocking_stand_in(tmp_path, monkeypatch):
    root = _project(tmp_path, auto=True)
    text = _anchor_red_then_green(root, monkeypatch, "app/api.py:11", "app/net.py::resolve::socket.gethostbyname", "tests/test_ping.py")
    assert 'monkeypatch.setattr("socket.gethostbyname", _fake_gethostbyname)' in text
    assert "async def test_ping_does_not_block_the_loop" in text  # pytest-asyncio auto mode: a bare async test
    assert "# TODO: a real value for host" in text


def test_output_never_overwrites_and_unknown_target_is_named(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    (root / "tests").mkdir()
    (root / "tests" / "test_mine.py").write_text("# mine\n")
    assert main(["anchor", "app/api.py::listing", "--output", "tests/test_mine.py"]) == 2
    assert (root / "tests" / "test_mine.py").read_text() == "# mine\n"
    assert main(["anchor", "app/api.py::nothing"]) == 1
    assert "no finding or offload site matches app/api.py::nothing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("files", "style"),
    [
        ({"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'}, "auto"),
        ({"pytest.ini": "[pytest]\nasyncio_mode = auto\n"}, "auto"),
        ({"tests/test_a.py": "import pytest\n\n@pytest.mark.anyio\nasync def test_a(): ...\n"}, "anyio"),
        ({"tests/test_a.py": "import pytest\n\n@pytest.mark.asyncio\nasync def test_a(): ...\n"}, "asyncio"),
        ({"tests/test_a.py": "def test_a(): ...\n"}, "run"),
    ],
)
def test_style_follows_the_project(tmp_path, files, style):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert async_test_style(tmp_path) == style


def test_module_of():
    assert module_of("src/pkg/web.py", "pkg.web.Store.get") == "pkg.web"
    assert module_of("pkg/__init__.py", "pkg.main") == "pkg"
    assert module_of("app/api.py", "app.api.listing") == "app.api"
