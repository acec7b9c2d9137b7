"""Configuration and scanning for the workflow subcommands, as ``loopwarden scan`` does them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopwarden.catalog import Catalog
    from loopwarden.config import Config
    from loopwarden.static.scan import ScanResult


class ProjectError(Exception):
    """Broken configuration or catalogue: one line, exit code 2."""


def load(config_arg: str | None, paths: list[str]) -> tuple[Config, Catalog]:
    """(config, catalog) for ``paths`` from --config or the nearest pyproject.toml."""
    from loopwarden.catalog import CatalogError, load_catalog
    from loopwarden.config import ConfigError, find_pyproject, load_config

    pyproject: Path | None
    try:
        if config_arg:
            pyproject = Path(config_arg)
            if not pyproject.is_file():
                raise ConfigError(f"{config_arg}: {'is a directory' if pyproject.is_dir() else 'no such file'}")
        else:
            pyproject = find_pyproject(Path(paths[0]) if os.path.exists(paths[0]) else Path.cwd())
        config = load_config(pyproject)
        catalog = load_catalog(config.catalog, str(pyproject) if pyproject else "pyproject.toml")
    except (ConfigError, CatalogError) as exc:
        raise ProjectError(str(exc)) from None
    return config, catalog


def scan_paths(
    paths: list[str], config: Config, catalog: Catalog, *, excludes: list[str], no_gitignore: bool, jobs: int | None
) -> ScanResult:
    from loopwarden.static.discover import PatternError
    from loopwarden.static.scan import scan

    anchored = (config.exclude, str(config.source.parent)) if config.source is not None else None
    try:
        return scan(
            paths,
            catalog,
            excludes=excludes if config.source is not None else [*config.exclude, *excludes],
            respect_gitignore=config.respect_gitignore and not no_gitignore,
            max_file_size=config.max_file_size,
            jobs=jobs or os.cpu_count() or 1,
            min_priority="LOW",
            anchored_excludes=anchored,
        )
    except PatternError as exc:
        raise ProjectError(str(exc)) from None
