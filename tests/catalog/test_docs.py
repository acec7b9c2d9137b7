"""docs/rules.md is generated from the categories and the catalogue, and the category
examples really show (and really fix) what they document."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.catalog.categories import CATEGORIES
from loopwarden.catalog.docgen import main, render

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"


def test_rules_md_is_up_to_date() -> None:
    assert RULES.exists(), "run: python -m loopwarden.catalog.docgen docs/rules.md"
    assert main(["--check", str(RULES)]) == 0, "docs/rules.md is stale: run `make docs`"


def test_check_mode_detects_drift(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("# old\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "loopwarden.catalog.docgen", "--check", str(stale)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1
    assert "out of date" in result.stderr
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_render_covers_every_category_and_section() -> None:
    text = render()
    for name, category in CATEGORIES.items():
        assert f"## {name}\n" in text
        assert category.example.strip() in text
    for heading in ("## Exposures", "## Priorities", "## Offload wrappers", "## Hooks"):
        assert heading in text
    for word in ("DIRECT_ASYNC", "ASYNC_REACHABLE", "SYNC_HOOK", "STARTUP", "asyncio.to_thread", "AgentMiddleware"):
        assert word in text
    assert "`kubernetes.client.*Api.*`" in text


@pytest.mark.parametrize("name", list(CATEGORIES))
def test_examples_are_modules(name: str) -> None:
    category = CATEGORIES[name]
    for code in (category.example, category.instead):
        tree = ast.parse(code)
        assert any(isinstance(node, ast.AsyncFunctionDef) for node in tree.body), code


def _scan_source(tmp_path: Path, code: str) -> list:
    scan_module = pytest.importorskip("loopwarden.static.scan")
    path = tmp_path / "example_module.py"
    path.write_text(code, encoding="utf-8")
    result = scan_module.scan([str(path)], default_catalog(), respect_gitignore=False, cwd=str(tmp_path))
    return list(result.findings)


@pytest.mark.parametrize("name", list(CATEGORIES))
def test_example_is_found(tmp_path: Path, name: str) -> None:
    findings = _scan_source(tmp_path, CATEGORIES[name].example)
    assert name in {f.category for f in findings}, findings


@pytest.mark.parametrize("name", list(CATEGORIES))
def test_instead_is_clean(tmp_path: Path, name: str) -> None:
    findings = _scan_source(tmp_path, CATEGORIES[name].instead)
    assert name not in {f.category for f in findings}, findings
