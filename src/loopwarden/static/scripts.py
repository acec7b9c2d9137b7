"""Console scripts the scanned projects declare: their functions are CLI entry points.

``[project.scripts]`` / ``[project.gui-scripts]`` and ``[tool.poetry.scripts]`` in
pyproject.toml, ``console_scripts`` / ``gui_scripts`` under ``[options.entry_points]`` in
setup.cfg, and the same lists in a ``setup(entry_points=...)`` call in setup.py. Each
``name = "pkg.cli:main"`` makes ``pkg.cli.main`` a script entry point (run by hand, like a
``main()`` under ``if __name__ == "__main__"``). Nothing is imported or run; a file that does
not parse declares nothing here (its own tools report it).
"""

from __future__ import annotations

import ast
import configparser
import os
import re
from collections.abc import Iterable
from typing import Any

_TARGET = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_][\w.]*)\s*(\[.*\])?\s*$")
_GROUPS = ("console_scripts", "gui_scripts")


def console_scripts(roots: Iterable[str]) -> dict[str, str]:
    """Dotted function name -> script name, from the project files at each import root and
    the directory above it (a src layout keeps pyproject.toml above ``src/``)."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    for root in sorted(set(roots)):
        if not root:
            continue
        for directory in (root, os.path.dirname(root)):
            if directory in seen:
                continue
            seen.add(directory)
            for name, target in sorted(_declared(directory)):
                dotted = _dotted(target)
                if dotted is not None:
                    found.setdefault(dotted, name)
    return found


def _dotted(target: str) -> str | None:
    match = _TARGET.match(target)
    if match is None:
        return None
    return f"{match.group(1)}.{match.group(2)}"


def _declared(directory: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    entries += _from_pyproject(os.path.join(directory, "pyproject.toml"))
    entries += _from_setup_cfg(os.path.join(directory, "setup.cfg"))
    entries += _from_setup_py(os.path.join(directory, "setup.py"))
    return entries


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(1 << 20)
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _from_pyproject(path: str) -> list[tuple[str, str]]:
    text = _read(path)
    if text is None or "scripts" not in text:
        return []
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(text)
    except ValueError:
        return []
    tables: list[Any] = []
    project = data.get("project")
    if isinstance(project, dict):
        tables += [project.get("scripts"), project.get("gui-scripts")]
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables.append(poetry.get("scripts"))
    entries = []
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            if isinstance(value, dict):  # poetry: {reference = "pkg.cli:main", type = "console"}
                value = value.get("reference") if value.get("type", "console") == "console" else None
            if isinstance(name, str) and isinstance(value, str):
                entries.append((name, value))
    return entries


def _from_setup_cfg(path: str) -> list[tuple[str, str]]:
    text = _read(path)
    if text is None or "entry_points" not in text:
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    if not parser.has_section("options.entry_points"):
        return []
    entries = []
    for group in _GROUPS:
        value = parser.get("options.entry_points", group, fallback="")
        entries += _lines(value)
    return entries


def _lines(value: str) -> list[tuple[str, str]]:
    entries = []
    for line in value.splitlines():
        name, sep, target = line.partition("=")
        if sep and name.strip():
            entries.append((name.strip(), target.strip()))
    return entries


def _from_setup_py(path: str) -> list[tuple[str, str]]:
    text = _read(path)
    if text is None or "console_scripts" not in text and "gui_scripts" not in text:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    entries = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values):  # noqa: B905
            if not (isinstance(key, ast.Constant) and key.value in _GROUPS):
                continue
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            for item in items:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    entries += _lines(item.value)
    return entries
