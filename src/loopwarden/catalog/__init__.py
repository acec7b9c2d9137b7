"""The catalogue of what blocks: loaded from ``blocking.toml`` plus user extensions.

One object, :class:`Catalog`, answers every question the scanner and the runtime gate ask:
is this symbol blocking, what category and cost, what type does this call return, is this
call an offload, which framework hooks run on the loop.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from loopwarden.catalog.categories import CATEGORIES, COSTS

__all__ = ["Sink", "Offload", "Hook", "Catalog", "CatalogError", "load_catalog", "default_catalog"]


class CatalogError(ValueError):
    """A catalogue table (built-in or from the user's config) is malformed."""


@dataclass(frozen=True)
class Sink:
    symbol: str
    category: str
    operation: str
    cost: str
    lazy: bool = False
    duck: bool = False
    yields: str | None = None
    file_arg: int | None = None  # blocks only when this positional argument is an open file
    path_arg: int | None = None  # does not block when this argument is an in-memory buffer


@dataclass(frozen=True)
class ArgumentRule:
    """A blocking call that returns at once when one argument is a given constant
    (``thread.join(timeout=0)``, ``executor.shutdown(wait=False)``)."""

    position: int | None  # index among the positional arguments (self excluded)
    keyword: str | None
    equals: object

    def matches(self, constants: tuple[tuple[int | str, object], ...]) -> bool:
        for key, value in constants:
            if key != self.position and key != self.keyword:
                continue
            if isinstance(value, bool) or isinstance(self.equals, bool):
                if value is self.equals:
                    return True
            elif value == self.equals:  # 0 == 0.0
                return True
        return False


@dataclass(frozen=True)
class Offload:
    name: str | None  # dotted symbol, or None when matched by method name
    method: str | None
    callable_arg: int


@dataclass(frozen=True)
class Hook:
    framework: str
    base: str | None = None
    methods: tuple[tuple[str, str], ...] = ()
    decorator: str | None = None


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    excludes: tuple[re.Pattern[str], ...]
    category: str
    cost: str
    any_method: bool = False  # the glob ends in ".*": matches only the SDK object's own members


@dataclass
class Catalog:
    sinks: dict[str, Sink] = field(default_factory=dict)
    patterns: list[_Pattern] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    offloads: list[Offload] = field(default_factory=list)
    loop_callbacks: list[Offload] = field(default_factory=list)  # run their callable ON the loop
    hooks: list[Hook] = field(default_factory=list)
    duck_methods: dict[str, Sink] = field(default_factory=dict)
    nonblocking: dict[str, list[ArgumentRule]] = field(default_factory=dict)
    entries: list[Any] = field(default_factory=list)  # user [[entry]] rules (catalog.entries.EntryRule)

    # -- questions -------------------------------------------------------------------------
    def canonical(self, symbol: str) -> str:
        """Rewrite a known alias prefix (``posixpath.exists`` -> ``os.path.exists``)."""
        if symbol in self.aliases:
            return self.aliases[symbol]
        head, dot, tail = symbol.rpartition(".")
        while head:
            if head in self.aliases:
                return f"{self.aliases[head]}.{symbol[len(head) + 1:]}"
            head, dot, _ = head.rpartition(".")
        return symbol

    def sink(self, symbol: str) -> Sink | None:
        found = self.sinks.get(symbol)
        if found is not None:
            return found
        # A pattern ending in ``.*`` (every method) covers an SDK object's own methods and
        # attributes, not the methods of what one of its calls returned
        # (``client.chat.completions.create(...).model_dump()`` is a method on a response
        # object) nor of an item taken out of it. Patterns that name the method
        # (``langchain*.invoke``, ``pymongo.*.find*``) still match there.
        on_result = "()" in symbol or "[]" in symbol
        for pattern in self.patterns:
            if on_result and pattern.any_method:
                continue
            if pattern.regex.match(symbol) and not any(x.match(symbol) for x in pattern.excludes):
                operation = symbol.rpartition(".")[2]
                return Sink(symbol, pattern.category, operation, pattern.cost)
        return None

    def returns_at_once(self, symbol: str, constants: tuple[tuple[int | str, object], ...]) -> bool:
        """Does this call, with these constant arguments ((position or keyword, value), ...),
        return without waiting (``Thread.join(timeout=0)``)?"""
        return bool(constants) and any(rule.matches(constants) for rule in self.nonblocking.get(symbol, ()))

    def duck_sink(self, method: str) -> Sink | None:
        return self.duck_methods.get(method)

    def offload_by_name(self, symbol: str) -> Offload | None:
        for offload in self.offloads:
            if offload.name == symbol:
                return offload
        return None

    def offload_by_method(self, method: str) -> Offload | None:
        for offload in self.offloads:
            if offload.method == method:
                return offload
        return None

    # -- building --------------------------------------------------------------------------
    def extend(self, table: Mapping[str, Any], origin: str) -> None:
        """Merge one catalogue table (the built-in TOML or ``[tool.loopwarden.catalog]``)."""
        known = {"group", "pattern", "types", "offload", "loop_callback", "hook", "nonblocking", "entry"}
        unknown = set(table) - known
        if unknown:
            raise CatalogError(f"{origin}: unknown catalogue key(s) {sorted(unknown)}; expected {sorted(known)}")
        types = table.get("types", {})
        if not isinstance(types, dict):
            raise CatalogError(f"{origin}: types: expected a table")
        self.aliases.update(_str_map(types.get("aliases", {}), f"{origin}: types.aliases"))
        self.returns.update(_str_map(types.get("returns", {}), f"{origin}: types.returns"))
        self.classes.update(_str_list(types.get("classes", []), f"{origin}: types.classes"))
        for i, group in enumerate(_table_list(table.get("group", []), f"{origin}: group")):
            for sink in _group_sinks(group, f"{origin}: group[{i}]"):
                self.sinks[sink.symbol] = sink
                if sink.duck:
                    self.duck_methods[sink.operation] = sink
        for i, pattern in enumerate(_table_list(table.get("pattern", []), f"{origin}: pattern")):
            self.patterns.append(_parse_pattern(pattern, f"{origin}: pattern[{i}]"))
        for i, offload in enumerate(_table_list(table.get("offload", []), f"{origin}: offload")):
            self.offloads.append(_parse_offload(offload, f"{origin}: offload[{i}]"))
        for i, callback in enumerate(_table_list(table.get("loop_callback", []), f"{origin}: loop_callback")):
            self.loop_callbacks.append(_parse_offload(callback, f"{origin}: loop_callback[{i}]"))
        for i, hook in enumerate(_table_list(table.get("hook", []), f"{origin}: hook")):
            self.hooks.append(_parse_hook(hook, f"{origin}: hook[{i}]"))
        if "entry" in table:  # framework registrations, as in catalog/entries.toml
            from loopwarden.catalog.entries import parse_entry

            for i, entry in enumerate(_table_list(table["entry"], f"{origin}: entry")):
                try:
                    self.entries.append(parse_entry(entry, f"{origin}: entry[{i}]"))
                except ValueError as exc:
                    raise CatalogError(str(exc)) from None
        for i, rule in enumerate(_table_list(table.get("nonblocking", []), f"{origin}: nonblocking")):
            symbols, parsed = _parse_nonblocking(rule, f"{origin}: nonblocking[{i}]")
            for symbol in symbols:
                self.nonblocking.setdefault(symbol, []).append(parsed)


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CatalogError(f"{where}: expected a table of strings")
    return dict(value)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: expected a list of strings")
    return list(value)


def _table_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CatalogError(f"{where}: expected an array of tables ([[...]])")
    return value


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")


def _check_types(table: dict[str, Any], expected: dict[str, type], where: str) -> None:
    for key, kind in expected.items():
        if key in table and not isinstance(table[key], kind):
            raise CatalogError(f"{where}: '{key}' must be a {'boolean' if kind is bool else 'string'}")


_GROUP_KEYS = {"category", "cost", "prefix", "symbols", "lazy", "duck"}
_ENTRY_KEYS = {"name", "cost", "lazy", "duck", "yields", "operation", "file_arg", "path_arg"}
_PATTERN_KEYS = {"match", "category", "cost", "exclude"}
_OFFLOAD_KEYS = {"name", "method", "callable_arg"}
_HOOK_KEYS = {"framework", "base", "methods", "decorator"}


def _check_category(category: Any, where: str) -> str:
    if not isinstance(category, str) or category not in CATEGORIES:
        raise CatalogError(f"{where}: unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    return category


def _check_cost(cost: Any, where: str) -> str:
    if not isinstance(cost, str) or cost not in COSTS:
        raise CatalogError(f"{where}: unknown cost {cost!r}; expected one of {', '.join(COSTS)}")
    return cost


def _group_sinks(group: dict[str, Any], where: str) -> Iterable[Sink]:
    _check_keys(group, _GROUP_KEYS, where)
    _check_types(group, {"prefix": str, "lazy": bool, "duck": bool}, where)
    category = _check_category(group.get("category"), where)
    cost = _check_cost(group.get("cost", CATEGORIES[category].cost), where)
    prefix = group.get("prefix")
    symbols = group.get("symbols")
    if not isinstance(symbols, list) or not symbols:
        raise CatalogError(f"{where}: 'symbols' must be a non-empty list")
    for entry in symbols:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise CatalogError(f"{where}: each symbol is a name or a table with a 'name'")
        _check_keys(entry, _ENTRY_KEYS, f"{where} symbol {entry['name']!r}")
        _check_types(entry, {"operation": str, "lazy": bool, "duck": bool}, f"{where} symbol {entry['name']!r}")
        if entry.get("yields") is not None and not isinstance(entry["yields"], str):
            raise CatalogError(f"{where} symbol {entry['name']!r}: 'yields' must be a dotted type name")
        name = f"{prefix}.{entry['name']}" if prefix else entry["name"]
        yield Sink(
            symbol=name,
            category=category,
            operation=entry.get("operation", name.rpartition(".")[2]),
            cost=_check_cost(entry.get("cost", cost), where),
            lazy=bool(entry.get("lazy", group.get("lazy", False))),
            duck=bool(entry.get("duck", group.get("duck", False))),
            yields=entry.get("yields"),
            file_arg=_check_arg_index(entry.get("file_arg"), f"{where} symbol {name!r}: file_arg"),
            path_arg=_check_arg_index(entry.get("path_arg"), f"{where} symbol {name!r}: path_arg"),
        )


def _check_arg_index(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1:
        raise CatalogError(f"{where} must be 0 or 1 (the index of a positional argument)")
    return value


def _glob_regex(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob))


def _parse_pattern(pattern: dict[str, Any], where: str) -> _Pattern:
    _check_keys(pattern, _PATTERN_KEYS, where)
    match = pattern.get("match")
    if not isinstance(match, str):
        raise CatalogError(f"{where}: 'match' must be a glob string")
    category = _check_category(pattern.get("category"), where)
    excludes = _str_list(pattern.get("exclude", []), f"{where}.exclude")
    return _Pattern(
        _glob_regex(match),
        tuple(_glob_regex(x) for x in excludes),
        category,
        _check_cost(pattern.get("cost", CATEGORIES[category].cost), where),
        match.endswith(".*") and "()" not in match and "[]" not in match,
    )


_NONBLOCKING_KEYS = {"symbols", "position", "keyword", "equals"}


def _parse_nonblocking(rule: dict[str, Any], where: str) -> tuple[list[str], ArgumentRule]:
    _check_keys(rule, _NONBLOCKING_KEYS, where)
    symbols = _str_list(rule.get("symbols"), f"{where}.symbols")
    position, keyword = rule.get("position"), rule.get("keyword")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
        raise CatalogError(f"{where}: 'position' must be a non-negative integer")
    if keyword is not None and not isinstance(keyword, str):
        raise CatalogError(f"{where}: 'keyword' must be a string")
    if position is None and keyword is None:
        raise CatalogError(f"{where}: give 'position', 'keyword' or both")
    if "equals" not in rule or not isinstance(rule["equals"], (bool, int, float, str)):
        raise CatalogError(f"{where}: 'equals' must be a boolean, number or string")
    return symbols, ArgumentRule(position, keyword, rule["equals"])


def _parse_offload(offload: dict[str, Any], where: str) -> Offload:
    _check_keys(offload, _OFFLOAD_KEYS, where)
    name, method = offload.get("name"), offload.get("method")
    if (name is None) == (method is None) or not isinstance(name or method, str):
        raise CatalogError(f"{where}: give exactly one of 'name' (dotted symbol) or 'method'")
    index = offload.get("callable_arg", 0)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise CatalogError(f"{where}: 'callable_arg' must be a non-negative integer")
    return Offload(name, method, index)


def _parse_hook(hook: dict[str, Any], where: str) -> Hook:
    _check_keys(hook, _HOOK_KEYS, where)
    _check_types(hook, {"framework": str, "base": str, "decorator": str}, where)
    base, decorator = hook.get("base"), hook.get("decorator")
    if (base is None) == (decorator is None):
        raise CatalogError(f"{where}: give exactly one of 'base' (with 'methods') or 'decorator'")
    methods: tuple[tuple[str, str], ...] = ()
    if base is not None:
        raw = hook.get("methods")
        if not raw:
            raise CatalogError(f"{where}: a 'base' hook needs 'methods'")
        if isinstance(raw, list):
            raw = {m: "" for m in _str_list(raw, f"{where}.methods")}
        methods = tuple(sorted(_str_map(raw, f"{where}.methods").items()))
        if not methods:
            raise CatalogError(f"{where}: a 'base' hook needs 'methods'")
    return Hook(str(hook.get("framework", "user")), base, methods, decorator)


def _builtin_table() -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    resource = resources.files("loopwarden.catalog").joinpath("blocking.toml")
    try:
        return tomllib.loads(resource.read_text("utf-8"))
    except (OSError, ValueError) as exc:  # ValueError covers TOMLDecodeError
        raise CatalogError(f"{resource}: cannot load the built-in catalogue: {exc}") from None


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The built-in catalogue, parsed once per process."""
    catalog = Catalog()
    catalog.extend(_builtin_table(), "loopwarden/catalog/blocking.toml")
    return catalog


def load_catalog(user_table: Mapping[str, Any] | None = None, origin: str = "pyproject.toml") -> Catalog:
    """The built-in catalogue extended with a user's ``[tool.loopwarden.catalog]`` table."""
    if not user_table:
        return default_catalog()
    catalog = Catalog()
    catalog.extend(_builtin_table(), "loopwarden/catalog/blocking.toml")
    catalog.extend(user_table, f"{origin} [tool.loopwarden.catalog]")
    return catalog
