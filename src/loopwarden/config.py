"""``[tool.loopwarden]`` in pyproject.toml: read, validated, with clear one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    source: Path | None = None  # the pyproject.toml it came from


_KEYS = {
    "exclude": "exclude",
    "respect-gitignore": "respect_gitignore",
    "max-file-size": "max_file_size",
    "min-priority": "min_priority",
    "fail-on": "fail_on",
    "catalog": "catalog",
    "baseline": "baseline",
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
    return config


def _check(attr: str, value: Any, source: Path, key: str) -> Any:
    where = f"{source}: tool.loopwarden.{key}"
    if attr == "exclude":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of glob strings")
        return value
    if attr == "respect_gitignore":
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
        return value
    if attr == "baseline":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be the path of a baseline file")
        return value
    raise AssertionError(attr)
