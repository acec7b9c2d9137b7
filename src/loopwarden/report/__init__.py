"""Report writers: text (default), summary, json, sarif, github, gitlab. Each takes a ScanResult.

``render`` hands every writer but SARIF a result whose paths are valid Unicode
(``safe_result``), so that no format has to handle undecodable file names itself; SARIF
percent-encodes the raw bytes for its URIs and shows them with ``source.safe_path``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from loopwarden.static.scan import ScanResult

FORMATS = ("text", "summary", "json", "sarif", "github", "gitlab")


# ScanResult fields that reports show (the program model and summaries are not walked).
_SHOWN_FIELDS = ("findings", "skipped", "suppression_notes", "unresolved", "ambiguous_imports")


def safe_result(result: ScanResult) -> ScanResult:
    """The result with every string that reports show passed through ``source.safe_path``
    (undecodable file-name bytes as ``\\xNN``); the same object when nothing changes."""
    import dataclasses

    from loopwarden.report.source import safe_path

    def safe(value: object) -> object:
        if isinstance(value, str):
            return safe_path(value)
        if isinstance(value, (tuple, list)):
            items = [safe(v) for v in value]
            if all(a is b for a, b in zip(items, value)):  # noqa: B905
                return value
            return type(value)(items) if not hasattr(value, "_make") else value._make(items)  # a NamedTuple
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes: dict[str, Any] = {}
            for f in dataclasses.fields(value):
                if f.init:
                    new = safe(getattr(value, f.name))
                    if new is not getattr(value, f.name):
                        changes[f.name] = new
            return dataclasses.replace(value, **changes) if changes else value
        return value

    if not _may_hold_surrogates([getattr(result, name, None) for name in _SHOWN_FIELDS]):
        return result  # the common case, without walking every finding in Python
    changes: dict[str, Any] = {}
    for name in _SHOWN_FIELDS:
        if hasattr(result, name):
            new = safe(getattr(result, name))
            if new is not getattr(result, name):
                changes[name] = new
    return dataclasses.replace(result, **changes) if changes else result


def _may_hold_surrogates(values: object) -> bool:
    """Whether a string that ``safe_result`` would change is reachable from ``values`` through
    the same tuples, lists and dataclass fields (a lone surrogate is how an undecodable
    file-name byte reaches Python). It only looks, in a tight loop that reads each dataclass's
    fields at C speed and encodes all strings at once: on a large project's result (100,000
    values) about a sixth of what walking and rebuilding the values costs."""
    import dataclasses
    from operator import attrgetter

    # Per type: what to look into, as a tuple (a dataclass's init fields); None: nothing.
    getters: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {int: None, float: None, bool: None, type(None): None}
    texts: list[str] = []
    stack = [values]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind in getters:
            getter = getters[kind]
            if getter is not None:
                stack.extend(getter(value))
        elif isinstance(value, str):
            texts.append(value)
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f.name for f in dataclasses.fields(value) if f.init]
            getters[kind] = attrgetter(*fields) if len(fields) > 1 else _one_field(fields[0]) if fields else None
            stack.append(value)
        else:
            getters[kind] = None
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _one_field(name: str) -> Callable[[Any], tuple[Any, ...]]:
    return lambda value: (getattr(value, name),)


def render(result: ScanResult, fmt: str, *, color: bool = False) -> str:
    if fmt != "sarif":
        result = safe_result(result)
    if fmt == "json":
        from loopwarden.report.json import render_json

        return render_json(result)
    if fmt == "sarif":
        from loopwarden.report.sarif import render_sarif

        return render_sarif(result)
    if fmt in ("github", "gitlab"):  # CI formats (docs/ci.md)
        from importlib import import_module

        writer: Callable[[ScanResult], str] = getattr(import_module(f"loopwarden.report.{fmt}"), f"render_{fmt}")
        return writer(result)
    if fmt == "summary":
        from loopwarden.report.summary import render_summary

        return render_summary(result)
    from loopwarden.report.text import render_text

    return render_text(result, color=color)
