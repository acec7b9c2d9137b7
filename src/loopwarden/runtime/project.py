"""Which code is the project's own: a blocking call only counts when its stack passes through it."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loopwarden.runtime.rules import ConfigError

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

    def relpath(self, filename: str) -> str:
        """Pure string work: it runs while the patches are active, so no os.path calls."""
        prefix = self.rootdir + os.sep
        if filename.startswith(prefix):
            filename = filename[len(prefix) :]
        return filename.replace(os.sep, "/")


def detect_project(
    rootdir: Path,
    configured_modules: Iterable[str],
    project_name: str | None,
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
        detected = _detected_locations(rootdir, project_name)
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


def _detected_locations(rootdir: Path, project_name: str | None) -> Iterable[str]:
    for base in (rootdir, rootdir / "src"):
        if not base.is_dir():
            continue
        for entry in sorted(base.iterdir()):
            if entry.is_dir() and (entry / "__init__.py").is_file():
                yield _as_dir(str(entry))
            elif entry.suffix == ".py" and entry.name not in _NOT_PROJECT_FILES:
                yield str(entry)
    installed = _installed_location(project_name)
    if installed:
        yield installed


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
    directories = set()
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


def project_name_from(pyproject: dict) -> str | None:
    name = pyproject.get("project", {}).get("name")
    return name if isinstance(name, str) else None
