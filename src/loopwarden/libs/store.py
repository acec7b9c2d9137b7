"""The user-level cache of library summaries, one directory per distribution and version.

    <libs cache>/<fingerprint>/<distribution>-<version>/<module>.pickle

The fingerprint covers loopwarden's version and analysis code, the Python version that
parses and the one the libraries are installed for, and the catalogue slice that per-file
extraction reads; so a summary is made once per dependency version and reused by every
project and virtual environment that has that version. Each entry also records the
module's path inside its distribution and the file's size, and is used only when both
match (a distribution rebuilt under the same version, or a module installed outside any
distribution, is analysed again). Entries are sealed and written atomically by the
project cache's machinery (``loopwarden.static.cache``): a corrupt, foreign or half-written
entry is ignored and rewritten.
"""

from __future__ import annotations

import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

from loopwarden.libs.closure import LibraryModule
from loopwarden.static.summary import ModuleSummary, Result, Skipped

ENV_LIBS_CACHE = "LOOPWARDEN_LIBS_CACHE"


def default_directory() -> Path:
    """``$LOOPWARDEN_LIBS_CACHE``, else ``$XDG_CACHE_HOME/loopwarden/libs`` (``~/.cache/...``)."""
    configured = os.environ.get(ENV_LIBS_CACHE)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "loopwarden" / "libs"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text) or "_"


@dataclass
class LibraryStore:
    directory: Path  # already including the fingerprint
    secret: bytes
    hits: int = 0
    misses: int = 0

    def _path(self, library: LibraryModule) -> Path:
        dist = library.distribution
        if dist.version:
            folder = f"{_safe(dist.name.lower())}-{_safe(dist.version)}"
        else:  # outside any distribution: keyed by where it lives
            import hashlib

            folder = "unpackaged-" + hashlib.sha256(library.entry.encode()).hexdigest()[:16]
        return self.directory / folder / f"{_safe(library.module)}.pickle"

    @staticmethod
    def _identity(library: LibraryModule) -> tuple[str, int, int]:
        relative = os.path.relpath(library.path, library.entry).replace(os.sep, "/")
        try:
            info = os.stat(library.path)
        except OSError:
            return relative, -1, -1
        # Files of a versioned distribution are the same wherever installed: size only. Others
        # (editable, unpackaged) change in place: their modification time counts too.
        return relative, info.st_size, 0 if library.distribution.version else info.st_mtime_ns

    def load(self, library: LibraryModule) -> Result | None:
        from loopwarden.static.cache import unseal

        try:
            data = self._path(library).read_bytes()
        except OSError:
            return None
        value = unseal(data, self.secret)
        if not (isinstance(value, tuple) and len(value) == 2 and value[0] == self._identity(library)):
            return None
        result = value[1]
        if isinstance(result, ModuleSummary) and result.module == library.module:
            result.path = library.path  # the same version installed elsewhere
            self.hits += 1
            return result
        if isinstance(result, Skipped):
            self.hits += 1
            return Skipped(library.path, result.reason)
        return None

    def store(self, library: LibraryModule, result: Result) -> None:
        from loopwarden.static.cache import _atomic_write, seal

        self.misses += 1
        if isinstance(result, Skipped) and "out of memory" in result.reason:
            return
        target = self._path(library)
        try:
            payload = pickle.dumps((self._identity(library), result), protocol=pickle.HIGHEST_PROTOCOL)
            target.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(target, seal(payload, self.secret))
        except (OSError, pickle.PicklingError, RecursionError, TypeError):
            pass  # a cache that cannot be written costs only speed


def open_store(directory: Path, options: object, target_version: str) -> LibraryStore | None:
    """The store for this run, or None when it cannot be used (no per-user key)."""
    try:
        from loopwarden.static.cache import fingerprint, user_secret
    except ImportError:  # the project cache's sealed store is not there: no cache
        return None
    secret = user_secret()
    if secret is None:
        return None
    return LibraryStore(directory / fingerprint(options, extra=("libs-1", target_version))[:24], secret)
