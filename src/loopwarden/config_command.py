"""``loopwarden config [PATH]``: the configuration that governs PATH, and where each value
came from (the governing pyproject.toml, or the built-in default)."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the configuration that governs a path, and where each value came from",
        description="Print the effective [tool.loopwarden] settings for PATH: those of the nearest pyproject.toml "
        "with a [tool.loopwarden] table at or above it (as `loopwarden scan` uses them), or of --config. "
        "Exit codes: 0 shown, 2 configuration error.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="a file or directory (default: the current directory)")
    parser.add_argument("--config", metavar="PYPROJECT", help="show this file's settings, as `scan --config` would apply them")


# Settings in the order they are documented, with their names in pyproject.toml.
_SETTINGS = (
    ("exclude", "exclude"),
    ("respect-gitignore", "respect_gitignore"),
    ("max-file-size", "max_file_size"),
    ("min-priority", "min_priority"),
    ("fail-on", "fail_on"),
    ("select", "select"),
    ("ignore", "ignore"),
    ("skipped-ok", "skipped_ok"),
    ("follow-libs", "follow_libs"),
)
# Per-project paths, shown when set (their default is computed, not a value).
_PATHS = (
    ("baseline", "baseline"),
    ("cache-dir", "cache_dir"),
    ("libs-cache-dir", "libs_cache_dir"),
)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from loopwarden.config import ConfigError, ConfigResolver

    try:
        forced = Path(args.config) if args.config else None
        if forced is not None and not forced.is_file():
            raise ConfigError(f"{args.config}: {'is a directory' if forced.is_dir() else 'no such file'}")
        if not os.path.exists(args.path):
            raise ConfigError(f"{args.path}: no such file or directory")
        config = ConfigResolver(forced).for_path(args.path)
    except ConfigError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    source = _shown(config.source) if config.source is not None else None
    if source is None:
        print(f"# {args.path}: no pyproject.toml with a [tool.loopwarden] table at or above it; built-in defaults")
    else:
        print(f"# {args.path}: governed by {source}")
    print("[tool.loopwarden]")
    width = max(len(name) for name, _ in _SETTINGS) + 3
    rows = [(f"{name} = {json.dumps(getattr(config, attr))}", attr) for name, attr in _SETTINGS]
    rows += [(f"{name} = {json.dumps(getattr(config, attr))}", attr) for name, attr in _PATHS if getattr(config, attr) is not None]
    column = max(len(text) for text, _ in rows) + 2
    for text, attr in rows:
        origin = source if attr in config.explicit else "default"
        print(f"{text:<{max(column, width)}}# {origin}")
    if config.catalog:
        parts = ", ".join(f"{key} ({len(value) if isinstance(value, (list, dict)) else 1})" for key, value in sorted(config.catalog.items()))
        print(f"# [tool.loopwarden.catalog] from {source}: {parts}; catalogue tables of every governing file extend the built-in one")
    return 0


def _shown(path: str | os.PathLike[str]) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
