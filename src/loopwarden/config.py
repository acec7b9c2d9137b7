"""``[tool.loopwarden]`` in pyproject.toml: read, validated, with clear one-line errors.

Configuration is hierarchical, as in ruff: each file is governed by the nearest
``pyproject.toml`` at or above its directory that has a ``[tool.loopwarden]`` table (files
without the table are passed over), or by ``--config FILE`` for every file.  ``ConfigResolver``
answers "which configuration governs this directory" and remembers the answers, so that
the CLI can say which file governs which path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopwarden.catalog import Catalog

PRIORITY_NAMES = ("HIGH", "MEDIUM", "LOW")
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


class ConfigError(Exception):
    """Broken configuration: reported on one line, exit code 2."""


@dataclass
class Config:
    exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    min_priority: str = "LOW"
    fail_on: str = "HIGH"  # what serves traffic and blocks for real; see docs/triage.md
    catalog: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None  # baseline file for `scan`, relative to the pyproject.toml
    select: list[str] = field(default_factory=list)  # categories or symbols; empty: all
    ignore: list[str] = field(default_factory=list)
    skipped_ok: bool = False  # files that cannot be scanned do not fail the run
    cache_dir: str | None = None  # the scan cache, relative to the pyproject.toml (default .loopwarden_cache)
    follow_libs: bool = False  # analyse the installed libraries the code reaches (docs/libraries.md)
    libs_cache_dir: str | None = None  # where library summaries are kept (default: user cache)
    source: Path | None = None  # the pyproject.toml it came from
    explicit: tuple[str, ...] = ()  # settings the file gives (the rest are defaults)


_KEYS = {
    "exclude": "exclude",
    "respect-gitignore": "respect_gitignore",
    "max-file-size": "max_file_size",
    "min-priority": "min_priority",
    "fail-on": "fail_on",
    "catalog": "catalog",
    "baseline": "baseline",
    "select": "select",
    "ignore": "ignore",
    "skipped-ok": "skipped_ok",
    "cache-dir": "cache_dir",
    "follow-libs": "follow_libs",
    "libs-cache-dir": "libs_cache_dir",
    "runtime": None,  # read by the pytest plugin (loopwarden.runtime)
}


def find_pyproject(start: Path) -> Path | None:
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for directory in (current, *current.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def has_loopwarden_table(pyproject: Path) -> bool:
    """Whether the file has a ``[tool.loopwarden]`` table (a broken file counts: its error is
    reported when it is loaded, rather than passed over silently)."""
    try:
        data = _toml_loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return True
    tool = data.get("tool", {})
    return not isinstance(tool, dict) or "loopwarden" in tool


class ConfigResolver:
    """The configuration governing each directory: the nearest ``pyproject.toml`` with a
    ``[tool.loopwarden]`` table at or above it, or ``forced`` (``--config``) for all."""

    def __init__(self, forced: Path | None = None, *, fixed: Config | None = None) -> None:
        self._forced = load_config(forced) if forced is not None else fixed
        self._by_dir: dict[str, Config] = {}
        self._by_file: dict[Path, Config] = {}

    def for_directory(self, directory: str) -> Config:
        if self._forced is not None:
            return self._forced
        found = self._by_dir.get(directory)
        if found is None:
            candidate = os.path.join(directory, "pyproject.toml")
            parent = os.path.dirname(directory)
            if os.path.isfile(candidate) and has_loopwarden_table(Path(candidate)):
                path = Path(candidate)
                if path not in self._by_file:
                    self._by_file[path] = load_config(path)
                found = self._by_file[path]
            elif parent != directory:
                found = self.for_directory(parent)
            else:
                found = _DEFAULTS
            self._by_dir[directory] = found
        return found

    def for_path(self, path: str) -> Config:
        """A file's configuration (that of its directory); a directory's own."""
        path = os.path.abspath(path)
        return self.for_directory(path if os.path.isdir(path) else os.path.dirname(path))

    def used(self) -> list[Config]:
        """Every configuration met so far, in path order (the defaults last)."""
        if self._forced is not None:
            return [self._forced]
        unique = {id(c): c for c in self._by_dir.values()}.values()
        return sorted(unique, key=lambda c: (c.source is None, str(c.source)))


def merged_catalog(configs: list[Config]) -> Catalog:
    """The built-in catalogue extended by each configuration's catalogue table, in path
    order (the program is analysed as one, so catalogue entries apply to all files)."""
    from loopwarden.catalog import load_catalog

    tables = [c for c in configs if c.catalog]
    if not tables:
        return load_catalog(None)
    catalog = load_catalog(tables[0].catalog, str(tables[0].source))
    for config in tables[1:]:
        catalog.extend(config.catalog, f"{config.source} [tool.loopwarden.catalog]")
    return catalog


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def load_config(pyproject: Path | None) -> Config:
    if pyproject is None:
        return Config()
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = _toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    table = tool.get("loopwarden", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.loopwarden] must be a table")
    return _from_table(table, pyproject)


def _from_table(table: dict[str, Any], source: Path) -> Config:
    config = Config(source=source)
    explicit = []
    seen: dict[str, str] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key not in _KEYS:
            raise ConfigError(f"{source}: unknown key tool.loopwarden.{raw_key}; known: {', '.join(sorted(_KEYS))}")
        if key in seen:
            raise ConfigError(f"{source}: tool.loopwarden.{raw_key} and tool.loopwarden.{seen[key]} are the same setting")
        seen[key] = raw_key
        if key == "runtime" and not isinstance(value, dict):
            raise ConfigError(f"{source}: [tool.loopwarden.runtime] must be a table")
        attr = _KEYS[key]
        if attr is not None:
            setattr(config, attr, _check(attr, value, source, raw_key))
            explicit.append(attr)
    config.explicit = tuple(explicit)
    return config


def _check(attr: str, value: Any, source: Path, key: str) -> Any:
    where = f"{source}: tool.loopwarden.{key}"
    if attr == "exclude":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of glob strings")
        return value
    if attr in ("select", "ignore"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of categories or symbols")
        try:
            return check_selectors(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if attr in ("respect_gitignore", "skipped_ok", "follow_libs"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if attr == "max_file_size":
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where} must be a positive number of bytes")
        return value
    if attr in ("min_priority", "fail_on"):
        if not isinstance(value, str) or value.upper() not in PRIORITY_NAMES:
            raise ConfigError(f"{where} must be one of {', '.join(PRIORITY_NAMES)}")
        return value.upper()
    if attr == "catalog":
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table")
        _check_catalog_symbols(value, where)
        return value
    if attr == "baseline":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be the path of a baseline file")
        return value
    if attr == "cache_dir":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be the path of a directory")
        return value
    if attr == "libs_cache_dir":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a directory path")
        return str((source.parent / os.path.expanduser(value)).resolve()) if not os.path.isabs(os.path.expanduser(value)) else os.path.expanduser(value)
    raise AssertionError(attr)


_DEFAULTS = Config()
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
# Catalogue keys that hold symbols (dotted names), alone or in lists.
_SYMBOL_KEYS = ("symbols", "name", "base", "yields", "classes")


def is_dotted_name(text: str) -> bool:
    return bool(_DOTTED.match(text))


def check_selectors(values: list[str]) -> list[str]:
    """``--select``/``--ignore`` entries: category names (``SLEEP``) or dotted symbols
    (``time.sleep``, or a module prefix such as ``subprocess``). Raises ValueError."""
    from loopwarden.catalog.categories import CATEGORIES as BLOCKING
    from loopwarden.catalog.categories import HAZARDS

    CATEGORIES = {**BLOCKING, **HAZARDS}  # noqa: N806
    checked = []
    for value in values:
        text = value.strip()
        if text.upper() in CATEGORIES:
            checked.append(text.upper())
        elif text.isupper() and "." not in text:
            raise ValueError(f"unknown category {value!r}; known: {', '.join(sorted(CATEGORIES))}")
        elif is_dotted_name(text):
            checked.append(text)
        else:
            raise ValueError(f"{value!r} is neither a category nor a dotted symbol")
    return checked


def _check_catalog_symbols(table: dict[str, Any], where: str) -> None:
    """Empty or malformed symbols in ``[tool.loopwarden.catalog]`` are errors, not entries
    that silently never match."""
    for section, entries in table.items():
        if section == "entry":  # globs over names, checked when the catalogue is built
            continue
        for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
            if not isinstance(entry, dict):
                continue
            for key in _SYMBOL_KEYS:
                if key not in entry:
                    continue
                values = entry[key] if isinstance(entry[key], list) else [entry[key]]
                if key == "symbols" and not values:
                    raise ConfigError(f"{where}.{section}[{index}].symbols is empty")
                for value in values:
                    if isinstance(value, dict):  # an inline table {name = ..., ...}
                        value = value.get("name")
                    if isinstance(value, str) and not is_dotted_name(value):
                        raise ConfigError(f"{where}.{section}[{index}].{key}: {value!r} is not a dotted name (like 'pkg.module.function')")
