"""The installed distributions of an interpreter: where its modules live and who ships them.

Nothing here imports a library: the interpreter given with ``--python`` is asked for its
``sys.path`` by running it (a two-line script that imports only ``sys``, ``sysconfig`` and
``json``), and distributions are read from their ``*.dist-info`` / ``*.egg-info`` metadata
files on that path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field

_PROBE = (
    "import json, sys, sysconfig\n"
    "paths = sysconfig.get_paths()\n"
    "print(json.dumps({'path': sys.path, 'stdlib': [paths.get('stdlib'), paths.get('platstdlib')],"
    " 'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'names': sorted(getattr(sys, 'stdlib_module_names', ())) + sorted(sys.builtin_module_names),"
    " 'executable': sys.executable}))\n"
)


class EnvironmentError_(Exception):
    """The interpreter given with ``--python`` cannot be asked for its path."""


@dataclass(frozen=True)
class Distribution:
    name: str  # as its metadata spells it: "vendor-sdk"
    version: str
    location: str  # the sys.path entry holding it

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass
class Environment:
    """An interpreter's module search path, the standard library left out."""

    executable: str
    version: str  # the interpreter's Python version, "3.11.4"
    paths: tuple[str, ...]  # absolute directories, in sys.path order
    stdlib_names: frozenset[str]
    _dists: dict[str, dict[tuple[str, str | None], Distribution]] = field(default_factory=dict, repr=False)
    _located: dict[str, tuple[str, str, bool] | None] = field(default_factory=dict, repr=False)
    _tops: dict[str, list[str]] = field(default_factory=dict, repr=False)

    # -- modules ---------------------------------------------------------------------------
    def locate(self, module: str) -> tuple[str, str, bool] | None:
        """(file, sys.path entry, is a package) of a pure-Python module, or None (not found,
        compiled, or a namespace package without code of its own)."""
        if module in self._located:
            return self._located[module]
        found = None
        parts = module.split(".")
        if all(p.isidentifier() for p in parts):
            for entry in self._entries_with(parts[0]):
                base = os.path.join(entry, *parts)
                package = os.path.join(base, "__init__.py")
                if os.path.isfile(package):
                    found = (package, entry, True)
                    break
                if os.path.isfile(base + ".py"):
                    found = (base + ".py", entry, False)
                    break
        self._located[module] = found
        return found

    def _entries_with(self, top: str) -> list[str]:
        """The path entries that have a top-level ``top`` (a directory or a module file)."""
        found = self._tops.get(top)
        if found is None:
            found = self._tops[top] = [
                e for e in self.paths if os.path.isdir(os.path.join(e, top)) or os.path.isfile(os.path.join(e, top + ".py"))
            ]
        return found

    # -- distributions ---------------------------------------------------------------------
    def distribution(self, entry: str, relative: str) -> Distribution | None:
        """The distribution that installed ``relative`` (a posix path under ``entry``)."""
        table = self._dists.get(entry)
        if table is None:
            table = self._dists[entry] = _read_distributions(entry)
        parts = relative.split("/")
        top = parts[0].removesuffix(".py")
        if len(parts) > 1:
            found = table.get((top, parts[1].removesuffix(".py")))
            if found is not None:
                return found
        return table.get((top, None))

    def distributions(self) -> list[Distribution]:
        """Every distribution on the path (for library-shipped catalogue entries)."""
        seen: dict[str, Distribution] = {}
        for entry in self.paths:
            for metadata in _metadata_dirs(entry):
                dist = _read_metadata(entry, metadata)
                if dist is not None:
                    seen.setdefault(_normalise(dist.name), dist)
        return sorted(seen.values(), key=lambda d: _normalise(d.name))

    def metadata_dirs(self) -> list[tuple[str, str]]:
        """(entry, metadata directory name), first entry first, one per distribution name."""
        seen: dict[str, tuple[str, str]] = {}
        for entry in self.paths:
            for metadata in _metadata_dirs(entry):
                name = _normalise(metadata.split("-")[0])
                seen.setdefault(name, (entry, metadata))
        return sorted(seen.values(), key=lambda item: item[1].lower())


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _metadata_dirs(entry: str) -> list[str]:
    try:
        names = os.listdir(entry)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".dist-info", ".egg-info")) and os.path.isdir(os.path.join(entry, n)))


def _read_metadata(entry: str, metadata: str) -> Distribution | None:
    name = version = ""
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(entry, metadata, filename), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key == "Name" and not name:
                        name = value.strip()
                    elif key == "Version" and not version:
                        version = value.strip()
            break
        except OSError:
            continue
    if not name:
        return None
    return Distribution(name, version, entry)


def _read_distributions(entry: str) -> dict[tuple[str, str | None], Distribution]:
    """(top-level name, second component for namespace packages) -> distribution."""
    table: dict[tuple[str, str | None], Distribution] = {}
    for metadata in _metadata_dirs(entry):
        dist = _read_metadata(entry, metadata)
        if dist is None:
            continue
        paths = _record_paths(os.path.join(entry, metadata))
        present = set(paths)
        for path in paths:
            parts = path.split("/")
            if not parts[0] or parts[0].startswith(".") or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "__pycache__":
                continue
            top = parts[0].removesuffix(".py")
            if len(parts) >= 3 and f"{parts[0]}/__init__.py" not in present:
                table.setdefault((top, parts[1].removesuffix(".py")), dist)
            else:
                table.setdefault((top, None), dist)
    return table


def _record_paths(metadata_dir: str) -> list[str]:
    for filename, column in (("RECORD", True), ("installed-files.txt", False), ("top_level.txt", False)):
        try:
            with open(os.path.join(metadata_dir, filename), encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        if column:
            return [line.split(",")[0].replace("\\", "/") for line in lines if line]
        if filename == "installed-files.txt":  # relative to the .egg-info directory
            return [os.path.normpath(line).replace("\\", "/").removeprefix("../") for line in lines if line]
        return [f"{line.strip()}/__init__.py" for line in lines if line.strip()] + [f"{line.strip()}.py" for line in lines if line.strip()]
    return []


# -- building ------------------------------------------------------------------------------


def current_environment(exclude: tuple[str, ...] = ()) -> Environment:
    """loopwarden's own interpreter (the active environment)."""
    paths = sysconfig.get_paths()
    stdlib = [paths.get("stdlib"), paths.get("platstdlib")]
    names = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
    version = ".".join(str(part) for part in sys.version_info[:3])
    return _build(sys.executable, version, sys.path, stdlib, names, exclude)


def interpreter_environment(python: str, exclude: tuple[str, ...] = ()) -> Environment:
    """Another interpreter's environment: run it once to print its ``sys.path``."""
    import tempfile

    executable = os.path.abspath(python) if os.sep in python or (os.altsep and os.altsep in python) else python
    if os.path.isdir(python):  # a virtual environment's directory
        for candidate in (os.path.join(executable, "bin", "python"), os.path.join(executable, "Scripts", "python.exe")):
            if os.path.exists(candidate):
                executable = candidate
                break
    try:
        with tempfile.TemporaryDirectory(prefix="loopwarden-probe-") as empty:  # '' on its path is not the project
            done = subprocess.run(
                [executable, "-c", _PROBE], cwd=empty, capture_output=True, text=True, timeout=60, check=False,
                env={k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONINSPECT")},
            )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentError_(f"--python {python}: cannot run it: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentError_(f"--python {python}: it exited with code {done.returncode}: {last}")
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
        path = [str(p) for p in data["path"]]
        stdlib = [str(p) for p in data["stdlib"] if p]
        names = frozenset(str(n) for n in data["names"])
        version = str(data["version"])
        executable = str(data.get("executable") or executable)
    except (ValueError, KeyError, TypeError, IndexError):
        raise EnvironmentError_(f"--python {python}: it did not answer like a Python interpreter") from None
    if not names:  # Python < 3.10 has no stdlib_module_names: ours is close enough
        names = frozenset(getattr(sys, "stdlib_module_names", ()))
    return _build(executable, version, path, stdlib, names, exclude)


def _build(executable: str, version: str, path: Sequence[str], stdlib: Sequence[str | None], names: frozenset[str], exclude: tuple[str, ...]) -> Environment:
    stdlib_dirs = [os.path.realpath(p) for p in stdlib if p]
    excluded = [os.path.realpath(p) for p in exclude]
    entries: list[str] = []
    for raw in path:
        if not raw or not os.path.isdir(raw):
            continue  # '' (the current directory), zip files, missing entries
        real = os.path.realpath(raw)
        if any(_under(real, d) for d in stdlib_dirs) and "-packages" not in real.replace("\\", "/").rsplit("/", 1)[-1]:
            continue
        if real in excluded:
            continue  # a project's own source root (an editable install's path entry)
        if real not in entries:
            entries.append(real)
    return Environment(executable, version, tuple(entries), names)


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
