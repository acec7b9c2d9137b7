"""Framework-registered entry points (``entries.toml``): one rule per way of registering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

_KEYS = {"framework", "kind", "decorator", "name", "base", "methods", "call", "arg", "path", "sync"}


@dataclass(frozen=True)
class EntryRule:
    framework: str
    kind: str
    decorator: tuple[str, ...] = ()
    name: tuple[str, ...] = ()
    base: str | None = None
    methods: tuple[str, ...] = ()
    call: tuple[str, ...] = ()
    arg: int = 0
    path: bool = False
    sync: bool = False


def glob_matches(patterns: tuple[str, ...], names: set[str] | frozenset[str]) -> bool:
    regex = _regex(patterns)
    return any(regex.fullmatch(n) for n in names)


@cache
def _regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for a rule's globs (`*` crosses dots)."""
    return re.compile("|".join(".*".join(re.escape(part) for part in glob.split("*")) for glob in globs))


def last_parts(patterns: tuple[str, ...]) -> frozenset[str] | None:
    """The last dotted component every name matching one of ``patterns`` must end with, or
    None when a pattern ends in a wildcard (a cheap pre-filter before resolving anything)."""
    parts = set()
    for pattern in patterns:
        last = pattern.rpartition(".")[2]
        if "*" in last:
            return None
        parts.add(last)
    return frozenset(parts)


def parse_entry(table: dict[str, Any], where: str) -> EntryRule:
    """One ``[[entry]]`` table (built-in or ``[[tool.loopwarden.catalog.entry]]``); ValueError
    naming ``where`` when it is malformed."""
    unknown = set(table) - _KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("framework", "kind"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ValueError(f"{where}: '{key}' must be a non-empty string")
    if not any(table.get(k) for k in ("decorator", "name", "base", "call")):
        raise ValueError(f"{where}: give one of 'decorator', 'name', 'base' (with 'methods') or 'call'")
    if "base" in table and (not isinstance(table["base"], str) or not table.get("methods")):
        raise ValueError(f"{where}: 'base' must be a class name, with 'methods'")
    for key in ("path", "sync"):
        if key in table and not isinstance(table[key], bool):
            raise ValueError(f"{where}: '{key}' must be true or false")
    if "arg" in table and (not isinstance(table["arg"], int) or isinstance(table["arg"], bool) or table["arg"] < 0):
        raise ValueError(f"{where}: 'arg' must be a non-negative integer")

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"{where}: {key} must be a list of non-empty strings")
        return tuple(value)

    return EntryRule(
        framework=str(table["framework"]),
        kind=str(table["kind"]),
        decorator=strings("decorator"),
        name=strings("name"),
        base=table.get("base"),
        methods=strings("methods"),
        call=strings("call"),
        arg=int(table.get("arg", 0)),
        path=bool(table.get("path", False)),
        sync=bool(table.get("sync", False)),
    )


@lru_cache(maxsize=1)
def entry_rules() -> tuple[EntryRule, ...]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    data = tomllib.loads(resources.files("loopwarden.catalog").joinpath("entries.toml").read_text("utf-8"))
    return tuple(parse_entry(t, f"entries.toml: entry[{i}]") for i, t in enumerate(data.get("entry", [])))
