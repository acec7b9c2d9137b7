"""The persistent cache of per-file results (``.loopwarden_cache/``), like ruff's and mypy's.

An entry holds one file's analysis result (its summary, or why it was skipped), under a key
made of the file's *content* hash and everything else that shapes the result: how the file
is named and imported (display path, module, aliases, package, test flag), its size limit,
and the *fingerprint* of the run: loopwarden's version and analysis code, the Python version
and the catalogue slice that per-file extraction reads (offload wrappers, aliases, loop
callbacks). A warm run reads only file metadata: an index maps each path to the size,
mtime and inode seen last time with the content hash it had, so an unchanged file costs one
``stat`` and one entry read. A file whose metadata changed is read and hashed; when its
content is the same (a ``git checkout`` or ``touch``), its entry is still used.

The whole-program result is cached too (``load_program``/``store_program``), keyed by the
fingerprint, the full catalogue and the keys of every file's entry: a warm run with nothing
changed skips the whole-program phase as well.

Nothing in the cache is trusted: a corrupt, truncated, foreign or half-written entry is
ignored and rebuilt, never a crash and never a wrong result. Writes are atomic (a temporary
file renamed into place), so concurrent runs never see each other's partial files, and the
worst a race costs is a redone analysis. Entries are pickles, so each carries an HMAC under a
per-user secret (``$XDG_CACHE_HOME/loopwarden/cache-key``, mode 0600): a cache directory that
came with a checked-out repository, or was written by another user, is never unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from loopwarden.static.discover import SourceFile
    from loopwarden.static.summary import Result

CACHE_DIR_NAME = ".loopwarden_cache"
ENV_CACHE_DIR = "LOOPWARDEN_CACHE_DIR"
_FORMAT = b"loopwarden-cache-2\n"
_MAC_SIZE = 32
_GITIGNORE = "# Created by loopwarden: its cache, never commit it (`loopwarden clean` removes it).\n*\n"
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by loopwarden.\n"
# An index entry whose mtime is this close to the moment it was hashed is not recorded: the
# file may still be changing within the file system's timestamp granularity ("racy git").
_RACY_NS = 2_000_000_000


# -- keys ------------------------------------------------------------------------------------


def fingerprint(extraction_options: object, extra: Iterable[object] = ()) -> str:
    """What, besides a file's own identity and content, shapes its analysis result."""
    from loopwarden import __version__

    digest = hashlib.sha256(_FORMAT)
    digest.update(f"{__version__}\0{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    package = Path(__file__).resolve().parent.parent  # .../loopwarden
    for sub in ("static", "catalog"):  # the analysis code and the catalogue's data
        for source in sorted((package / sub).glob("*")):
            if source.suffix in (".py", ".toml"):
                try:
                    digest.update(source.name.encode() + b"\0" + source.read_bytes())
                except OSError:
                    digest.update(source.name.encode())
    digest.update(repr(canonical(extraction_options)).encode())
    for item in extra:
        digest.update(b"\0" + repr(canonical(item)).encode())
    return digest.hexdigest()


def canonical(value: object) -> object:
    """A repr-stable form of a value: mappings and sets sorted, dataclasses as tuples."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(canonical(k)), canonical(v)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((canonical(v) for v in value), key=repr)))
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return (type(value).__name__, tuple((name, canonical(getattr(value, name))) for name in fields))
    if isinstance(value, (str, int, float, bool, bytes)) or value is None:
        return value
    return (type(value).__name__, repr(value))


class _Seen(NamedTuple):
    size: int
    mtime_ns: int
    inode: int
    content: str  # sha256 of the bytes


# -- sealed pickles --------------------------------------------------------------------------


def seal(payload: bytes, secret: bytes) -> bytes:
    return _FORMAT + hmac.new(secret, payload, hashlib.sha256).digest() + payload


def unseal(data: bytes, secret: bytes) -> object:
    """The value in a sealed entry, or None when it is not one this user's loopwarden wrote
    whole (foreign, another format, truncated, corrupt): such data is never unpickled."""
    if not data.startswith(_FORMAT):
        return None
    start = len(_FORMAT) + _MAC_SIZE
    mac, payload = data[len(_FORMAT) : start], data[start:]
    if len(mac) != _MAC_SIZE or not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # written by us but unreadable (another loopwarden's classes): not cached
        return None


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class EntryWriter:
    """Writes result entries; small and picklable, so worker processes write their own."""

    directory: Path
    secret: bytes

    def path(self, key: str) -> Path:
        return self.directory / "files" / f"{key}.pickle"

    def write(self, key: str, result: Result) -> None:
        if not _cacheable(result):
            return
        try:
            self.write_bytes(key, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError, RecursionError, TypeError):
            pass  # a cache that cannot be written only costs speed

    def write_bytes(self, key: str, payload: bytes) -> None:
        try:
            _atomic_write(self.path(key), seal(payload, self.secret))
        except OSError:
            pass


def _cacheable(result: Result) -> bool:
    """Everything but a skip that depends on the moment (memory, reading)."""
    from loopwarden.static.summary import Skipped

    return not isinstance(result, Skipped) or "out of memory" not in result.reason


# -- the cache -------------------------------------------------------------------------------


class SummaryCache:
    """One run's view of a cache directory. Use ``open_cache``."""

    def __init__(self, directory: Path, fingerprint: str, secret: bytes) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.writer = EntryWriter(directory, secret)
        self.hits = 0
        self.misses = 0
        self._secret = secret
        self._index_path = directory / "index.pickle"
        self._seen = self._load_index()
        self._dirty = False
        self._keys: dict[tuple[str, int], str | None] = {}

    def key(self, source_file: SourceFile, max_size: int) -> str | None:
        """The entry key of a file as it is now (None when it cannot be read or is over its
        size limit: analysis says why, uncached). Computed once per run."""
        memo = (source_file.path, max_size)
        if memo not in self._keys:
            self._keys[memo] = self._key(source_file, max_size)
        return self._keys[memo]

    def _key(self, source_file: SourceFile, max_size: int) -> str | None:
        try:
            info = os.stat(source_file.path)
        except OSError:
            return None
        if info.st_size > max_size:
            return None
        seen = self._seen.get(source_file.path)
        if seen is not None and (seen.size, seen.mtime_ns, seen.inode) == (info.st_size, info.st_mtime_ns, info.st_ino):
            content = seen.content
        else:
            try:
                with open(source_file.path, "rb") as fh:
                    data = fh.read()
            except OSError:
                return None
            content = hashlib.sha256(data).hexdigest()
            if len(data) == info.st_size and time.time_ns() - info.st_mtime_ns > _RACY_NS:
                self._seen[source_file.path] = _Seen(info.st_size, info.st_mtime_ns, info.st_ino, content)
                self._dirty = True
        identity = (source_file.display, source_file.module, source_file.aliases, source_file.package, source_file.is_test, max_size)
        text = f"{self.fingerprint}\0{identity!r}\0{content}"
        return hashlib.sha256(text.encode()).hexdigest()

    def load(self, key: str) -> Result | None:
        from loopwarden.static.summary import ModuleSummary, Skipped

        try:
            data = self.writer.path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        value = unseal(data, self._secret)
        if isinstance(value, (ModuleSummary, Skipped)):
            self.hits += 1
            return value
        self.misses += 1
        return None

    def load_program(self, key: str) -> object:
        try:
            data = (self.directory / "program.pickle").read_bytes()
        except OSError:
            return None
        value = unseal(data, self._secret)
        if isinstance(value, tuple) and len(value) == 2 and value[0] == key:
            return value[1]
        return None

    def store_program(self, key: str, value: object) -> None:
        try:
            payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
            _atomic_write(self.directory / "program.pickle", seal(payload, self._secret))
        except (OSError, pickle.PicklingError, RecursionError, TypeError):
            pass

    def close(self) -> None:
        """Write the metadata index (atomically); the cache stays valid if this fails."""
        if not self._dirty:
            return
        try:
            payload = pickle.dumps(dict(self._seen), protocol=pickle.HIGHEST_PROTOCOL)
            _atomic_write(self._index_path, seal(payload, self._secret))
            self._dirty = False
        except (OSError, pickle.PicklingError):
            pass

    def _load_index(self) -> dict[str, _Seen]:
        try:
            data = self._index_path.read_bytes()
        except OSError:
            return {}
        value = unseal(data, self._secret)
        if not isinstance(value, dict):
            return {}
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, _Seen)}


def load_sealed(path: Path) -> object:
    """The value of an entry written by ``store_sealed``; None when it is missing or is not
    one this user's loopwarden wrote whole."""
    secret = user_secret()
    if secret is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return unseal(data, secret)


def store_sealed(directory: Path, relative: str, value: object) -> None:
    """Write ``value`` (sealed, atomically) to ``directory / relative``, creating and marking
    the cache directory if needed; a cache that cannot be written only costs speed."""
    secret = user_secret()
    if secret is None:
        return
    target = directory / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _ensure_marked(directory)
        _atomic_write(target, seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), secret))
    except (OSError, pickle.PicklingError, RecursionError, TypeError):
        pass


def keep_newest(directory: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently written ``*.pickle`` entries of ``directory``
    (entries keyed by arguments, such as discovery's, would otherwise pile up)."""
    try:
        entries = sorted(((entry.stat().st_mtime_ns, entry) for entry in directory.glob("*.pickle")), reverse=True)
        for _, entry in entries[keep:]:
            entry.unlink(missing_ok=True)
    except OSError:
        pass


class CacheUnavailable(Exception):
    """The cache cannot be used this run (one warning line; the scan goes on without it)."""


def open_cache(directory: str | os.PathLike[str], fingerprint: str) -> SummaryCache:
    """The cache at ``directory``, created if needed. Raises CacheUnavailable with the reason
    when it cannot be written (the scan then runs without it)."""
    path = Path(directory)
    secret = user_secret()
    if secret is None:
        raise CacheUnavailable(f"cannot create the per-user cache key in {_secret_path().parent}")
    try:
        (path / "files").mkdir(parents=True, exist_ok=True)
        _ensure_marked(path)
        with tempfile.NamedTemporaryFile(prefix=".tmp-", dir=path / "files"):
            pass
    except OSError as exc:
        raise CacheUnavailable(f"cannot write the cache at {path}: {exc.strerror or exc}") from None
    return SummaryCache(path, fingerprint, secret)


def _ensure_marked(directory: Path) -> None:
    for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _TAG)):
        marker = directory / name
        if not marker.exists():
            _atomic_write(marker, text.encode())


def _secret_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "loopwarden" / "cache-key"


def user_secret() -> bytes | None:
    """This user's cache key (created on first use), or None when it cannot be had."""
    path = _secret_path()
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".cache-key-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
        try:
            os.link(tmp, path)  # first writer wins; a concurrent run reads the winner's key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        secret = path.read_bytes()
    except OSError:
        return None
    return secret if len(secret) >= 32 else None


def is_loopwarden_cache(directory: Path) -> bool:
    try:
        return (directory / ".gitignore").read_text(encoding="utf-8").startswith(_GITIGNORE.splitlines()[0])
    except (OSError, UnicodeDecodeError):
        return False


def clean(directory: Path) -> bool:
    """Remove a cache directory, only one that loopwarden created. True if it went."""
    import shutil

    if not directory.is_dir() or not is_loopwarden_cache(directory):
        return False
    shutil.rmtree(directory)
    return True


def cache_dir_for(config_source: Path | None, configured: str | None, start: str, cwd: str) -> Path:
    """Where the cache of a project lives: $LOOPWARDEN_CACHE_DIR, else the configuration's
    ``cache-dir`` (relative to its pyproject.toml), else ``.loopwarden_cache`` next to the
    governing pyproject.toml, else next to the nearest pyproject.toml above ``start``, else in
    ``cwd``."""
    from_env = os.environ.get(ENV_CACHE_DIR)
    if from_env:
        return Path(os.path.abspath(from_env))
    if config_source is not None:
        root = config_source.parent
        return Path(os.path.abspath(root / configured)) if configured else root / CACHE_DIR_NAME
    from loopwarden.config import find_pyproject

    found = find_pyproject(Path(start)) if os.path.exists(start) else None
    return (found.parent if found is not None else Path(cwd)) / CACHE_DIR_NAME
