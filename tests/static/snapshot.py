"""Snapshot format for fixture projects: one line per finding, readable in a diff.

    PRIORITY path:line:col symbol EXPOSURE chain-with-arrows
"""

from __future__ import annotations

import os
from pathlib import Path

from loopwarden.catalog import load_catalog
from loopwarden.config import find_pyproject, load_config
from loopwarden.report.text import chain_text
from loopwarden.static.scan import ScanResult, scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
UPDATE = os.environ.get("LOOPWARDEN_UPDATE_SNAPSHOTS") == "1"


def scan_fixture(name: str, jobs: int = 1) -> ScanResult:
    root = FIXTURES / name
    config = load_config(find_pyproject(root) if (root / "pyproject.toml").exists() else None)
    catalog = load_catalog(config.catalog, str(root / "pyproject.toml"))
    paths_file = root / "paths.txt"  # optional: what to scan, relative to the fixture
    paths = paths_file.read_text().split() if paths_file.exists() else ["."]
    return scan(paths, catalog, excludes=["expected.txt", *config.exclude], jobs=jobs, cwd=str(root))


def render_snapshot(result: ScanResult) -> str:
    lines = [
        f"{f.priority} {f.path}:{f.line}:{f.column} {f.symbol} {f.exposure} {chain_text(f)}"
        for f in result.findings
    ]
    lines += [f"SKIPPED {s.path}: {s.reason}" for s in result.skipped]
    lines.append(f"SUPPRESSED {result.suppressed}")
    return "\n".join(lines) + "\n"


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
