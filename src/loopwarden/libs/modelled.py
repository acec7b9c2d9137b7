"""Packages the catalogue models: their code is not followed.

A package whose names the catalogue mentions (a blocking symbol, a type, an offload wrapper,
a framework hook or entry rule) is described there, the way the standard library is: its
blocking calls are named at the project's call (``requests.Session.get``), its offload
wrappers and framework registrations are recognised by name. Following its code instead
would replace those names by chains into its internals, and change finding keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loopwarden.catalog import Catalog
from loopwarden.libs.environment import Environment

_GLOB = frozenset("*?[")


def _literal(glob: str) -> tuple[str, bool]:
    """The literal prefix of a glob, and whether a wildcard follows it."""
    for i, char in enumerate(glob):
        if char in _GLOB:
            return glob[:i], True
    return glob, False


def _regex_literal(pattern: str) -> tuple[str, bool]:
    """The literal prefix of an ``fnmatch.translate`` regex: ``(?s:pymongo\\..*)\\Z``."""
    text = pattern.removeprefix("(?s:")
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char.isalnum() or char == "_":
            out.append(char)
            i += 1
            continue
        return "".join(out), True
    return "".join(out), False


def catalogue_names(catalog: Catalog) -> Iterable[tuple[str, bool]]:
    """(literal prefix, followed by a wildcard) of every name the catalogue mentions."""
    from loopwarden.catalog.entries import entry_rules

    for name in (*catalog.sinks, *catalog.returns, *catalog.classes, *catalog.aliases, *catalog.aliases.values(), *catalog.nonblocking):
        yield name, False
    for offload in (*catalog.offloads, *catalog.loop_callbacks):
        if offload.name:
            yield offload.name, False
    for hook in catalog.hooks:
        for glob in (hook.base, hook.decorator):
            if glob:
                yield _literal(glob)
    for pattern in catalog.patterns:
        yield _regex_literal(pattern.regex.pattern)
    for rule in (*entry_rules(), *getattr(catalog, "entries", ())):
        for glob in (*rule.decorator, *rule.call, *((rule.base,) if rule.base else ())):
            yield _literal(glob)


def modelled_by(catalog: Catalog, env: Environment) -> Callable[[str], bool]:
    """``is_modelled(dotted_name)``: does the name belong to a package the catalogue models?
    A package is the top-level name, or its first two components when the top level is a
    namespace package (``google.genai`` is modelled, ``google.protobuf`` is not)."""
    exact: set[str] = set()
    starts: set[str] = set()
    for literal, wild in catalogue_names(catalog):
        parts = literal.split(".")
        if len(parts) == 1:
            if wild and parts[0]:
                starts.add(parts[0])  # "langchain*": every package whose name starts so
            elif parts[0]:
                exact.add(parts[0])
            continue
        exact.add(parts[0])
        if parts[1] or not wild:
            exact.add(f"{parts[0]}.{parts[1]}")
    namespace: dict[str, bool] = {}

    def is_modelled(name: str) -> bool:
        parts = name.split(".")
        top = parts[0]
        if any(top.startswith(s) for s in starts):
            return True
        if top not in exact:
            return False
        if top not in namespace:
            namespace[top] = env.locate(top) is None  # no __init__.py: a namespace (or absent)
        if namespace[top] and len(parts) > 1:
            return f"{top}.{parts[1]}" in exact
        return True

    return is_modelled
