"""Which code is the project's own: a blocking call only counts when its stack passes through it."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopwarden.runtime.rules import ConfigError, read_pyproject

_NOT_PROJECT_FILES = {"setup.py", "noxfile.py", "fabfile.py", "conftest.py"}
_TEST_PACKAGE_NAMES = {"tests", "test", "testing"}


@dataclass(frozen=True)
class Project:
    rootdir: str
    roots: tuple[str, ...]  # the project's modules: directory prefixes (ending with os.sep) or files
    test_roots: tuple[str, ...] = ()  # test directories and conftest files: named, never gated

    def contains(self, filename: str) -> bool:
        """The project's own code; tests inside a package (``pkg/tests/``) are not."""
        return any(filename.startswith(root) for root in self.roots) and not self.is_test(filename)

    def is_test(self, filename: str) -> bool:
        return any(filename.startswith(root) for root in self.test_roots)

    def is_local(self, filename: str) -> bool:
        """Project or test code: where an async entry point (a test, a served coroutine) lives."""
        return self.contains(filename) or self.is_test(filename)

    def header(self, configured: bool) -> str:
        """One line at session start naming what is gated, so a missed package is visible."""
        shown = sorted(self.relpath(root.rstrip(os.sep)) + ("/" if root.endswith(os.sep) else "") for root in self.roots)
        how = "loopwarden_modules" if configured else "detected; set loopwarden_modules to change"
        count = f"{len(shown)} project module{'' if len(shown) == 1 else 's'}"
        return f"loopwarden: gating {count} ({how}): {', '.join(shown)}"

    def relpath(self, filename: str) -> str:
        """Pure string work: it runs while the patches are active, so no os.path calls."""
        prefix = self.rootdir + os.sep
        if filename.startswith(prefix):
            filename = filename[len(prefix) :]
        return filename.replace(os.sep, "/")


def detect_project(
    rootdir: Path,
    configured_modules: Iterable[str],
    pyproject: dict[str, Any],
    test_files: Iterable[Path],
) -> Project:
    """The project's modules (configured, or detected) and, apart, its tests.

    Blocking calls made by test code itself (writing a fixture file in an async test) are not
    the product's: only stacks through the project's modules count.
    """
    test_files = [Path(p) for p in test_files]
    test_roots = _without_nested(list(_test_locations(rootdir, test_files)))
    modules = list(configured_modules)
    if modules:
        roots = [_module_location(name) for name in modules]
    else:
        detected = _detected_locations(rootdir, pyproject)
        roots = [root for root in detected if not _holds_tests(root, test_files)]
    if not roots:
        raise ConfigError(
            f"no project modules found under {rootdir} (packages at the top level or in src/, the "
            '[project] name): set loopwarden_modules = ["yourpackage"] in the pytest ini options'
        )
    return Project(str(rootdir), _without_nested(roots), test_roots)


def _holds_tests(root: str, test_files: list[Path]) -> bool:
    name = Path(root.rstrip(os.sep)).name
    if name in _TEST_PACKAGE_NAMES or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(str(path) == root for path in test_files)


def _module_location(name: str) -> str:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        raise ConfigError(f"loopwarden_modules: cannot find module {name!r}: {error}") from None
    if spec is None:
        raise ConfigError(f"loopwarden_modules: no module named {name!r}")
    if spec.submodule_search_locations:
        return _as_dir(next(iter(spec.submodule_search_locations)))
    if spec.origin and os.path.isfile(spec.origin):
        return spec.origin
    raise ConfigError(f"loopwarden_modules: module {name!r} has no source location")


def _detected_locations(rootdir: Path, pyproject: dict[str, Any]) -> Iterator[str]:
    yield from _project_locations(rootdir, pyproject, set())
    installed = _installed_location(project_name_from(pyproject))
    if installed:
        yield installed


def _project_locations(directory: Path, pyproject: dict[str, Any], seen: set[Path]) -> Iterator[str]:
    """One project directory: its layout (top-level packages and modules, and those of
    ``src/``), the packages its pyproject declares, and its uv workspace members, each one
    a project directory in turn."""
    if directory in seen:
        return
    seen.add(directory)
    for base in (directory, directory / "src"):
        yield from _top_level(base, modules=True)
    yield from _declared_locations(directory, pyproject)
    for member in _workspace_members(directory, pyproject):
        yield from _project_locations(member, _member_pyproject(member), seen)


def _top_level(base: Path, modules: bool) -> Iterator[str]:
    if not base.is_dir():
        return
    for entry in sorted(base.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").is_file():
            yield _as_dir(str(entry))
        elif modules and entry.suffix == ".py" and entry.name not in _NOT_PROJECT_FILES:
            yield str(entry)


def _member_pyproject(member: Path) -> dict[str, Any]:
    try:
        return read_pyproject(member / "pyproject.toml")
    except ConfigError:
        return {}  # a broken member pyproject: its layout still counts


def _table(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _existing(path: Path) -> Iterator[str]:
    if path.is_dir():
        yield _as_dir(str(path))
    elif path.with_suffix(".py").is_file():
        yield str(path.with_suffix(".py"))
    elif path.suffix == ".py" and path.is_file():
        yield str(path)


def _declared_locations(directory: Path, pyproject: dict[str, Any]) -> Iterator[str]:
    """Packages a pyproject declares: setuptools, hatch, poetry, flit, uv's build backend."""
    tool = _table(pyproject, "tool") or {}
    setuptools = _table(tool, "setuptools") or {}
    package_dir = _table(setuptools, "package-dir") or {}
    package_dir = package_dir if isinstance(package_dir, dict) else {}
    for name in _strings(setuptools.get("packages")) + _strings(setuptools.get("py-modules")):
        top = name.split(".")[0]
        if top in package_dir:
            yield from _existing(directory / str(package_dir[top]))
        else:
            yield from _existing(directory / str(package_dir.get("", ".")) / top)
    find = _table(setuptools, "packages", "find")
    if isinstance(find, dict):
        include, exclude = _strings(find.get("include")) or ["*"], _strings(find.get("exclude"))
        for where in _strings(find.get("where")) or ["."]:
            for location in _top_level(directory / where, modules=False):
                name = Path(location.rstrip(os.sep)).name
                if any(fnmatch.fnmatch(name, p) for p in include) and not any(fnmatch.fnmatch(name, p) for p in exclude):
                    yield location
    for packages in (_table(tool, "hatch", "build", "targets", "wheel", "packages"), _table(tool, "hatch", "build", "packages")):
        for path in _strings(packages):
            yield from _existing(directory / path)
    for entry in _table(tool, "poetry", "packages") or []:
        if isinstance(entry, dict) and isinstance(entry.get("include"), str):
            base = directory / str(entry.get("from", "."))
            for match in sorted(base.glob(entry["include"])):
                yield from _existing(match)
    flit = _table(tool, "flit", "module", "name")
    if isinstance(flit, str):
        for base in (directory, directory / "src"):
            yield from _existing(base / flit.split(".")[0])
    uv_backend = _table(tool, "uv", "build-backend") or {}
    root = uv_backend.get("module-root", "src") if isinstance(uv_backend, dict) else "src"
    for name in _strings(_table(uv_backend, "module-name")):
        yield from _existing(directory / str(root) / name.split(".")[0])


def _workspace_members(directory: Path, pyproject: dict[str, Any]) -> Iterator[Path]:
    """``[tool.uv.workspace] members`` (globs), less ``exclude``: directories with a pyproject."""
    workspace = _table(pyproject, "tool", "uv", "workspace") or {}
    excluded = {path for pattern in _strings(_table(workspace, "exclude")) for path in directory.glob(pattern)}
    for pattern in _strings(_table(workspace, "members")):
        for member in sorted(directory.glob(pattern)):
            if member not in excluded and (member / "pyproject.toml").is_file():
                yield member


def _installed_location(project_name: str | None) -> str | None:
    """The ``[project]`` name as an importable module, found without importing it."""
    if not project_name:
        return None
    module = re.sub(r"[-.]+", "_", project_name).lower()
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return _as_dir(next(iter(spec.submodule_search_locations)))
    return spec.origin if spec.origin and os.path.isfile(spec.origin) else None


def _test_locations(rootdir: Path, test_files: Iterable[Path]) -> Iterable[str]:
    """Test directories and the conftest.py files above them; a test file at the rootdir on
    its own, because the rootdir as a prefix would also cover a virtualenv inside it."""
    directories: set[Path] = set()
    for path in {Path(p) for p in test_files}:
        if path.parent == rootdir or _is_source_package(path.parent):
            yield str(path)  # only the file: its folder holds project code too
        else:
            yield _as_dir(str(path.parent))
        directories.update(_dirs_up_to(path.parent, rootdir))
    for directory in directories:
        conftest = directory / "conftest.py"
        if conftest.is_file():
            yield str(conftest)


_TEST_DIR_NAMES = frozenset({"tests", "test", "testing"})


def _is_source_package(directory: Path) -> bool:
    """``app/test_store.py`` beside ``app/store.py``: the folder is the project's package."""
    return (directory / "__init__.py").is_file() and directory.name not in _TEST_DIR_NAMES


def _dirs_up_to(directory: Path, rootdir: Path) -> Iterable[Path]:
    yield directory
    for parent in directory.parents:
        if rootdir not in parent.parents and parent != rootdir:
            return
        yield parent
        if parent == rootdir:
            return


def _as_dir(path: str) -> str:
    return path.rstrip(os.sep) + os.sep


def _without_nested(roots: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for root in sorted(set(roots), key=len):
        if not any(root.startswith(parent) for parent in kept if parent.endswith(os.sep)):
            kept.append(root)
    return tuple(kept)


def project_name_from(pyproject: dict[str, Any]) -> str | None:
    name = _table(pyproject, "project", "name")
    return name if isinstance(name, str) else None
