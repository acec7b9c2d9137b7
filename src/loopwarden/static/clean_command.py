"""``loopwarden clean [PATH]``: remove the scan cache of the project that governs PATH."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "clean",
        help="remove the scan cache (.loopwarden_cache/, or the configured cache-dir)",
        description="Remove the cache `loopwarden scan` keeps for the project governing PATH: $LOOPWARDEN_CACHE_DIR, "
        "else the cache-dir of the governing [tool.loopwarden] table, else .loopwarden_cache/ next to the nearest "
        "pyproject.toml (or in the current directory). Only a directory loopwarden created is removed. "
        "Exit codes: 0 removed or nothing to remove, 2 not a loopwarden cache or configuration error.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="a file or directory of the project (default: the current directory)")
    parser.add_argument("--config", metavar="PYPROJECT", help="use this file's [tool.loopwarden] (as `scan --config`)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from loopwarden.config import ConfigError, ConfigResolver
    from loopwarden.static.cache import cache_dir_for, clean, is_loopwarden_cache

    cwd = os.getcwd()
    try:
        forced = Path(args.config) if args.config else None
        if forced is not None and not forced.is_file():
            raise ConfigError(f"{args.config}: {'is a directory' if forced.is_dir() else 'no such file'}")
        config = ConfigResolver(forced).for_path(args.path if os.path.exists(args.path) else cwd)
    except ConfigError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    directory = cache_dir_for(config.source, config.cache_dir, args.path, cwd)
    shown = os.path.relpath(directory) if not os.path.relpath(directory).startswith("..") else str(directory)
    if not directory.exists():
        print(f"loopwarden: no cache at {shown}")
        return 0
    if not is_loopwarden_cache(directory):
        print(f"loopwarden: error: {shown} is not a loopwarden cache (no .gitignore written by loopwarden); not removed", file=sys.stderr)
        return 2
    try:
        clean(directory)
    except OSError as exc:
        print(f"loopwarden: error: cannot remove {shown}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"loopwarden: removed {shown}")
    return 0
