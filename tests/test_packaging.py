"""Packaging: the README renders on the package index (absolute links only), project URLs
exist, and the wheel build ships docs/ (what reports and messages point to)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_readme_links_are_absolute_so_they_work_on_pypi():
    links = re.findall(r"\]\(([^)\s]+)\)", (REPO / "README.md").read_text())
    relative = [link for link in links if not re.match(r"https?://|#|mailto:", link)]
    assert links and relative == []


def test_project_urls_exist():
    urls = _pyproject()["project"]["urls"]
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert all(url.startswith("https://github.com/loopwarden/loopwarden") for url in urls.values())


def test_the_build_copies_docs_into_the_package_and_the_sdist_carries_them():
    setup = (REPO / "setup.py").read_text()
    assert '"loopwarden" / "_docs"' in setup and 'DOC_SUFFIXES = (".md", ".json")' in setup
    assert "graft docs" in (REPO / "MANIFEST.in").read_text()
    assert (REPO / "docs" / "rules.md").is_file() and (REPO / "docs" / "report.schema.json").is_file()
