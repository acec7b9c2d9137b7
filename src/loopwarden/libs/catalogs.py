"""Catalogue entries that libraries ship, through the ``loopwarden.catalog`` entry-point group.

A distribution declares, in its ``entry_points.txt`` (``[project.entry-points."loopwarden.catalog"]``
in its pyproject.toml)::

    [loopwarden.catalog]
    vendor_sdk = vendor_sdk:loopwarden.toml

The value names a package and, after the colon, a TOML file inside it, with the same tables
as ``[tool.loopwarden.catalog]`` (``group``, ``pattern``, ``offload``, ``hook``, ``types``,
``nonblocking``, ``loop_callback``). Nothing is imported: the file is found on the
interpreter's path and read. A file that cannot be read or parsed is left out with a warning.
"""

from __future__ import annotations

import os
from typing import Any

from loopwarden.libs.environment import Environment

GROUP = "loopwarden.catalog"


def _entry_points(path: str) -> list[tuple[str, str]]:
    """(name, value) of the group's entries in one entry_points.txt."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    found = []
    section = None
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section == GROUP and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def library_tables(env: Environment) -> tuple[list[tuple[dict[str, Any], str, str]], list[str]]:
    """(table, origin for error messages, label) of every entry, in distribution order, and
    one warning per entry that could not be read."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    tables: list[tuple[dict[str, Any], str, str]] = []
    warnings: list[str] = []
    for entry, metadata in env.metadata_dirs():
        for name, value in _entry_points(os.path.join(entry, metadata, "entry_points.txt")):
            dist = metadata.split("-")[0]  # "vendor_sdk-1.2.dist-info"
            module, _, resource = value.partition(":")
            module, resource = module.strip(), resource.split("[")[0].strip()
            label = f"{dist}: {module.replace('.', '/')}/{resource}"
            located = env.locate(module) if module else None
            if located is None or not located[2] or not resource:
                warnings.append(f"library catalogue {name} = {value} ({dist}): expected 'package:file.toml' naming a package on the path; ignored")
                continue
            path = os.path.join(os.path.dirname(located[0]), *resource.split("/"))
            try:
                with open(path, "rb") as fh:
                    table = tomllib.load(fh)
            except (OSError, ValueError) as exc:
                warnings.append(f"library catalogue {path} ({dist}): cannot read it: {exc}; ignored")
                continue
            tables.append((table, f"{path} ({dist})", label))
    return tables, warnings
