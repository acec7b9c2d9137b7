"""The gate's interception rules: loopwarden's defaults on top of blockbuster's, plus the
project's ``[tool.loopwarden.runtime]`` table (``extra`` functions to intercept, ``allow``
functions inside which blocking is acceptable)."""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNTIME_TABLE = "[tool.loopwarden.runtime]"
_KNOWN_KEYS = ("extra", "allow")


class ConfigError(Exception):
    """A bad runtime gate setting; the plugin turns it into a one-line pytest.UsageError."""


@dataclass(frozen=True)
class AllowedFrame:
    """Blocking is acceptable while a frame of this function is on the stack."""

    filename: str  # a suffix of the code object's co_filename
    functions: frozenset[str]  # co_name values


@dataclass(frozen=True)
class RuleSpec:
    target: str  # dotted path of the attribute to patch: "os.lstat", "subprocess.Popen.__init__"
    allowed: tuple[AllowedFrame, ...] = ()


def _allow(filename: str, *functions: str) -> AllowedFrame:
    return AllowedFrame(filename, frozenset(functions))


_IMPORT_MACHINERY = _allow("<frozen importlib._bootstrap>", "_find_and_load")
_PYTEST_REWRITE = _allow("_pytest/assertion/rewrite.py", "_read_pyc", "_write_pyc", "_rewrite_test")

# Blocking primitives that blockbuster's default rules do not intercept (measured with
# loopwarden.runtime.probes; see docs/runtime.md). The allowances are the stdlib and pytest
# internals that legitimately run these on the loop thread.
DEFAULT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec("builtins.open", (_IMPORT_MACHINERY, _PYTEST_REWRITE)),
    RuleSpec("io.open", (_IMPORT_MACHINERY, _PYTEST_REWRITE)),
    RuleSpec("os.open", (_IMPORT_MACHINERY,)),
    RuleSpec("os.lstat", (_IMPORT_MACHINERY, _allow("linecache.py", "checkcache", "updatecache"))),
    RuleSpec("os.chmod"),
    RuleSpec("os.fsync"),
    RuleSpec("os.utime"),
    RuleSpec("sqlite3.connect"),
    RuleSpec("socket.getaddrinfo"),
    RuleSpec("socket.gethostbyname"),
    RuleSpec("socket.gethostbyaddr"),
    # asyncio's own subprocess transport starts the child on the loop thread by design.
    RuleSpec(
        "subprocess.Popen.__init__",
        (_allow("asyncio/base_subprocess.py", "__init__"), _allow("asyncio/unix_events.py", "_start")),
    ),
    # Python 3.10's pathlib calls os functions through references its accessor took at import
    # time, which patching the os module does not reach: intercept the Path methods instead.
    *(
        RuleSpec(f"pathlib.Path.{name}", (_IMPORT_MACHINERY,))
        for name in ("stat", "iterdir", "mkdir", "unlink", "rmdir", "rename", "replace", "touch")
        if sys.version_info < (3, 11)
    ),
)


@dataclass(frozen=True)
class RuntimeSettings:
    """The ``[tool.loopwarden.runtime]`` table, validated but not yet imported."""

    extra: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    origin: str = "pyproject.toml"


@dataclass(frozen=True)
class Target:
    """A resolved function: where it lives (to patch it) and its canonical dotted name."""

    owner: Any  # module or class holding the attribute
    attribute: str
    dotted: str
    function: Any


def read_pyproject(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def runtime_settings(pyproject: dict[str, Any], origin: str) -> RuntimeSettings:
    table = pyproject.get("tool", {}).get("loopwarden", {}).get("runtime", {})
    where = f"{origin} {RUNTIME_TABLE}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(table) - set(_KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected {list(_KNOWN_KEYS)}")
    return RuntimeSettings(
        extra=_entries(table.get("extra", []), f"{where} extra"),
        allow=_entries(table.get("allow", []), f"{where} allow"),
        origin=origin,
    )


def _entries(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of 'module:qualname' or dotted names")
    return tuple(v.strip() for v in value)


def resolve(entry: str, where: str) -> Target:
    """``pkg.mod:Class.method`` or ``pkg.mod.Class.method`` -> the function and its owner."""
    if ":" in entry:
        module_name, _, qualname = entry.partition(":")
        module = _import(module_name, entry, where)
    else:
        module, qualname = _import_longest_prefix(entry, where)
    owner: Any = module
    attribute: str | None = None
    parts = qualname.split(".") if qualname else []
    if not parts or not all(parts):
        raise ConfigError(f"{where}: {entry!r} names a module, not a function")
    value: Any = module
    for depth, part in enumerate(parts):
        if not hasattr(value, part):
            known = f"{module.__name__}.{'.'.join(parts[:depth])}".rstrip(".")
            raise ConfigError(f"{where}: {entry!r}: {known!r} has no attribute {part!r}")
        owner, attribute, value = value, part, getattr(value, part)
    if not callable(value):
        raise ConfigError(f"{where}: {entry!r} is not callable")
    assert attribute is not None  # ``parts`` is not empty
    return Target(owner, attribute, f"{module.__name__}.{qualname}", value)


def _import(module_name: str, entry: str, where: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and not module_name.startswith(error.name):  # the module's own import failed
            raise ConfigError(f"{where}: {entry!r}: importing {module_name!r} failed: {error}") from None
        raise ConfigError(f"{where}: {entry!r}: no module named {error.name!r}") from None
    except Exception as error:  # the user's module failed while importing
        raise ConfigError(f"{where}: {entry!r}: importing {module_name!r} failed: {error!r}") from None


def _import_longest_prefix(entry: str, where: str) -> tuple[Any, str]:
    parts = entry.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            return importlib.import_module(module_name), ".".join(parts[cut:])
        except ModuleNotFoundError as error:
            if error.name and not module_name.startswith(error.name):
                raise ConfigError(f"{where}: {entry!r}: importing {module_name!r} failed: {error}") from None
        except Exception as error:
            raise ConfigError(f"{where}: {entry!r}: importing {module_name!r} failed: {error!r}") from None
    if len(parts) == 1:
        try:
            importlib.import_module(entry)
        except Exception:
            pass
        else:
            raise ConfigError(f"{where}: {entry!r} names a module, not a function")
    raise ConfigError(f"{where}: {entry!r}: no module named {parts[0]!r}")


def allowed_frame(entry: str, where: str) -> AllowedFrame:
    target = resolve(entry, where)
    function = inspect.unwrap(target.function)
    code = getattr(function, "__code__", None)
    if code is None:
        raise ConfigError(f"{where}: {entry!r} is not a Python function (no code to find on the stack)")
    return AllowedFrame(code.co_filename.replace("\\", "/"), frozenset({code.co_name}))
