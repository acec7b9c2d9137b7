"""Which modules are the project's: layouts, declared packages, uv workspace members; the
header line that names them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

BLOCKING = """
async def blocking_stat(path):
    import os

    return os.lstat(path)
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def _test_calling(*modules: str) -> str:
    lines = [f"import {module}" for module in modules]
    for index, module in enumerate(modules):
        lines += [f"async def test_{index}(tmp_path):", f"    await {module}.blocking_stat(tmp_path)"]
    return "\n".join(lines) + "\n"


def test_uv_workspace_members_are_found(pytester: pytest.Pytester) -> None:
    """backend/app/ plus a member package in packages/harness/: a block in either fails."""
    _write(
        pytester.path,
        {
            "pyproject.toml": """
                [project]
                name = "deer"
                [tool.uv.workspace]
                members = ["packages/*"]
                exclude = ["packages/scratch"]
                [tool.pytest.ini_options]
                pythonpath = [".", "packages/harness", "packages/api/src"]
                asyncio_mode = "auto"
                asyncio_default_fixture_loop_scope = "function"
            """,
            "app/__init__.py": "",
            "app/gateway.py": BLOCKING,
            "packages/harness/pyproject.toml": '[project]\nname = "harness"\n[tool.hatch.build.targets.wheel]\npackages = ["deerflow"]\n',
            "packages/harness/deerflow/__init__.py": "",
            "packages/harness/deerflow/client.py": BLOCKING,
            "packages/api/pyproject.toml": '[project]\nname = "deerflow-api"\n',
            "packages/api/src/deerflow_api/__init__.py": BLOCKING,
            "packages/scratch/pyproject.toml": '[project]\nname = "scratch"\n',
            "packages/scratch/scratchpkg/__init__.py": "",
            "tests/test_gate.py": _test_calling("app.gateway", "deerflow.client", "deerflow_api"),
        },
    )
    result = pytester.runpytest("--loopwarden")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "collected 3 items",
            "loopwarden: gating 3 project modules (detected; set loopwarden_modules to change): "
            "app/, packages/api/src/deerflow_api/, packages/harness/deerflow/",
        ]
    )
    result.stdout.fnmatch_lines(["  at           packages/harness/deerflow/client.py:5 in blocking_stat"])


def test_src_layout_is_found(pytester: pytest.Pytester) -> None:
    _write(
        pytester.path,
        {
            "pyproject.toml": """
                [project]
                name = "something-else"
                [tool.pytest.ini_options]
                pythonpath = ["src"]
                asyncio_mode = "auto"
                asyncio_default_fixture_loop_scope = "function"
            """,
            "src/svc/__init__.py": BLOCKING,
            "tests/test_gate.py": _test_calling("svc"),
        },
    )
    result = pytester.runpytest("--loopwarden", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["loopwarden: gating 1 project module (detected; *): src/svc/"])


@pytest.mark.parametrize(
    "declaration",
    [
        '[tool.setuptools]\npackages = ["alpha", "alpha.sub", "beta"]\npy-modules = ["gamma"]\n'
        '[tool.setuptools.package-dir]\nalpha = "lib/alpha"\n"" = "code"\n',
        '[tool.poetry]\npackages = [{include = "alpha", from = "lib"}, {include = "beta", from = "code"}, {include = "gamma.py", from = "code"}]\n',
        '[tool.hatch.build.targets.wheel]\npackages = ["lib/alpha", "code/beta", "code/gamma.py"]\n',
        '[tool.setuptools.packages.find]\nwhere = ["lib", "code"]\nexclude = ["scratch*"]\n[tool.setuptools]\npy-modules = ["gamma"]\n'
        '[tool.setuptools.package-dir]\n"" = "code"\n',
    ],
    ids=["setuptools", "poetry", "hatch", "setuptools-find"],
)
def test_packages_declared_in_pyproject_are_found(pytester: pytest.Pytester, declaration: str) -> None:
    """Packages outside the conventional places, found only through the declaration."""
    _write(
        pytester.path,
        {
            "pyproject.toml": """
                [project]
                name = "multi"
                [tool.pytest.ini_options]
                pythonpath = ["lib", "code"]
                asyncio_mode = "auto"
                asyncio_default_fixture_loop_scope = "function"
            """,
            "lib/alpha/__init__.py": "",
            "lib/alpha/sub.py": BLOCKING,
            "code/beta/__init__.py": BLOCKING,
            "code/gamma.py": BLOCKING,
            "code/scratchpad/__init__.py": BLOCKING,
            "tests/test_gate.py": _test_calling("alpha.sub", "beta", "gamma", "scratchpad"),
        },
    )
    path = pytester.path / "pyproject.toml"
    path.write_text(path.read_text() + declaration)
    result = pytester.runpytest("--loopwarden", "-q", "-rA")
    result.stdout.fnmatch_lines(["loopwarden: gating 3 project modules (detected; *): code/beta/, code/gamma.py, lib/alpha/"])
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(["PASSED tests/test_gate.py::test_3"])  # not declared: not the project's


def test_configured_modules_are_named_as_such(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes="async def test_nothing():\n    pass\n")
    result = service.runpytest("--loopwarden", "-o", "loopwarden_modules=app", "-q")
    result.stdout.fnmatch_lines(["loopwarden: gating 1 project module (loopwarden_modules): app/"])


def test_no_header_while_the_gate_is_off(service: pytest.Pytester) -> None:
    service.makepyfile(test_notes="async def test_nothing():\n    pass\n")
    assert "gating" not in service.runpytest().stdout.str()
