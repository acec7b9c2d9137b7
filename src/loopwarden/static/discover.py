"""Which files to scan, what their module names are, and which inputs had to be skipped."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopwarden.static.summary import Skipped

if TYPE_CHECKING:
    import pathspec  # imported when a pattern is compiled: a heavy import a one-file scan does without

    from loopwarden.config import ConfigResolver

ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "build", "dist",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", ".bench", ".loopwarden_cache",
    }
)


@dataclass(frozen=True)
class SourceFile:
    path: str  # absolute
    display: str  # relative to the current directory when under it, posix separators
    module: str
    aliases: tuple[str, ...]
    package: str  # for relative imports
    is_test: bool
    root: str = ""  # import root: the directory holding its top-level package (absolute)


def display_path(path: str, cwd: str) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    if rel.startswith(".."):
        return Path(path).as_posix()
    return Path(rel).as_posix()


def is_test_path(display: str) -> bool:
    parts = display.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


class PatternError(ValueError):
    """An exclude pattern that cannot be compiled."""


def compile_patterns(lines: list[str], strict: bool) -> pathspec.PathSpec[Any] | None:
    """Gitignore-style patterns. A bad line in a .gitignore is skipped, as git does; a bad
    --exclude or config pattern (``strict``) is an error naming the pattern."""
    if not lines:
        return None
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # pathspec's error types vary across versions
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
                good.append(line)
            except Exception:
                if strict:
                    raise PatternError(f"invalid exclude pattern {line.rstrip()!r}") from None
        return pathspec.GitIgnoreSpec.from_lines(good) if good else None


class _Ignore:
    """Gitignore files met on the way down, plus the user's excludes: the command line's
    relative to each scanned directory, each configuration's relative to its pyproject.toml
    (applied to the directories that configuration governs)."""

    def __init__(
        self,
        root: str,
        excludes: list[str],
        respect_gitignore: bool,
        anchored: tuple[list[str], str] | None = None,
        configs: ConfigResolver | None = None,  # per-directory excludes and gitignore
        used: set[str] | None = None,
        trace: _Trace | None = None,
    ) -> None:
        # One spec per command-line pattern, to tell which patterns matched nothing.
        self.cli_rules: list[tuple[str, pathspec.PathSpec[Any]]] = []
        for pattern in excludes:
            spec = compile_patterns([pattern], strict=True)
            if spec is not None:
                self.cli_rules.append((pattern, spec))
        self.root = root
        self.used = used if used is not None else set()
        self.anchored = None
        if anchored is not None and anchored[0]:
            self.anchored = (compile_patterns(anchored[0], strict=True), anchored[1])
        self.configs = configs
        self.respect_gitignore = respect_gitignore
        self.trace = trace
        self.specs: dict[str, pathspec.PathSpec[Any] | None] = {}
        self.config_specs: dict[int, pathspec.PathSpec[Any] | None] = {}

    def _config_rule(self, path: str) -> tuple[pathspec.PathSpec[Any] | None, str, bool]:
        """(exclude spec, its base directory, respect .gitignore) for the entry's directory."""
        if self.configs is None:
            spec, base = self.anchored if self.anchored is not None else (None, self.root)
            return spec, base, self.respect_gitignore
        directory = os.path.dirname(path)
        config = self.configs.for_directory(directory)
        if self.trace is not None:
            self.trace.configs[directory] = _config_signature(config)
        key = id(config)
        if key not in self.config_specs:
            self.config_specs[key] = compile_patterns(config.exclude, strict=True)
        base = str(config.source.parent) if config.source is not None else self.root
        return self.config_specs[key], base, self.respect_gitignore and config.respect_gitignore

    def _spec_for(self, directory: str) -> pathspec.PathSpec[Any] | None:
        if directory not in self.specs:
            text = _read_gitignore(directory)
            if self.trace is not None:
                self.trace.gitignores[directory] = _text_hash(text)
            self.specs[directory] = compile_patterns(text.splitlines(), strict=False) if text is not None else None
        return self.specs[directory]

    def ignored(self, path: str, is_dir: bool, gitignore_dirs: list[str]) -> bool:
        suffix = "/" if is_dir else ""
        rel = os.path.relpath(path, self.root)
        if not rel.startswith(".."):
            matched = False
            for pattern, spec in self.cli_rules:
                if spec.match_file(Path(rel).as_posix() + suffix):
                    self.used.add(pattern)
                    matched = True
            if matched:
                return True
        config_spec, base, respect_gitignore = self._config_rule(path)
        if config_spec is not None:
            rel = os.path.relpath(path, base)
            if not rel.startswith("..") and config_spec.match_file(Path(rel).as_posix() + suffix):
                return True
        if not respect_gitignore:
            return False
        for directory in gitignore_dirs:
            ignore_spec = self._spec_for(directory)
            if ignore_spec is not None:
                rel = Path(os.path.relpath(path, directory)).as_posix()
                if ignore_spec.match_file(rel + suffix):
                    return True
        return False


def _read_gitignore(directory: str) -> str | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _text_hash(text: str | None) -> str | None:
    import hashlib

    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _config_signature(config: object) -> tuple[object, ...]:
    """What discovery reads of a directory's configuration."""
    source = getattr(config, "source", None)
    return (str(source) if source is not None else None, tuple(getattr(config, "exclude", ())), getattr(config, "respect_gitignore", True))


def _git_root(start: str, trace: _Trace | None = None) -> str | None:
    current = start
    while True:
        found = os.path.exists(os.path.join(current, ".git"))
        if trace is not None:
            trace.git_probes[current] = found
        if found:
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _ancestor_dirs(directory: str, trace: _Trace | None = None) -> list[str]:
    """Directories from the git root down to ``directory`` (their .gitignore files apply)."""
    root = _git_root(directory, trace)
    if root is None:
        return [directory]
    dirs = [directory]
    current = directory
    while current != root:
        current = os.path.dirname(current)
        dirs.append(current)
    return list(reversed(dirs))


@dataclass
class Discovery:
    files: list[SourceFile]
    skipped: list[Skipped]
    unused_excludes: list[str]  # command-line patterns that matched nothing


def discover(
    paths: list[str],
    excludes: list[str],
    respect_gitignore: bool,
    cwd: str | None = None,
    anchored_excludes: tuple[list[str], str] | None = None,
) -> tuple[list[SourceFile], list[Skipped]]:
    """The Python files under ``paths``, and the inputs that could not be read."""
    found = discover_all(paths, excludes, respect_gitignore, cwd=cwd, anchored_excludes=anchored_excludes)
    return found.files, found.skipped


def discover_all(
    paths: list[str],
    excludes: list[str],
    respect_gitignore: bool,
    cwd: str | None = None,
    anchored_excludes: tuple[list[str], str] | None = None,
    configs: ConfigResolver | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Discovery:
    """The Python files under ``paths``, the inputs that could not be read, and the
    command-line excludes that matched nothing.

    ``excludes`` are relative to each directory given; ``anchored_excludes`` is
    (patterns, base directory), for one configuration file's patterns; ``configs`` (a
    ``ConfigResolver``) instead gives each directory the excludes and gitignore setting of
    the configuration governing it.  The order of ``paths`` does not matter.  With
    ``cache_dir`` (the scan cache), the last discovery with the same arguments is reused
    when nothing it read has changed since (``_Trace.still_holds``)."""
    cwd = cwd or os.getcwd()
    if cache_dir is None:
        return _discover(paths, excludes, respect_gitignore, cwd, anchored_excludes, configs, None)
    return _discover_cached(paths, excludes, respect_gitignore, cwd, anchored_excludes, configs, Path(cache_dir))


def _absolute(paths: list[str], cwd: str) -> list[str]:
    return sorted({os.path.abspath(os.path.join(cwd, raw)) for raw in paths or ["."]})


def _discover(
    paths: list[str],
    excludes: list[str],
    respect_gitignore: bool,
    cwd: str,
    anchored_excludes: tuple[list[str], str] | None,
    configs: ConfigResolver | None,
    trace: _Trace | None,
) -> Discovery:
    _package_cache.clear()  # a long-lived process (tests, an editor) sees packages come and go
    found: dict[str, str] = {}  # file -> the scanned directory it was found under
    skipped: list[Skipped] = []
    used: set[str] = set()
    absolute = _absolute(paths, cwd)
    for path in absolute:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            skipped.append(Skipped(display_path(path, cwd), _os_reason(exc)))
            continue
        if trace is not None:
            trace.roots[path] = stat.S_IFMT(mode)
        if stat.S_ISDIR(mode):
            ignore = _Ignore(path, excludes, respect_gitignore, anchored_excludes, configs, used, trace)
            gitignore_dirs = _ancestor_dirs(path, trace)
            if ignore.ignored(path, True, gitignore_dirs[:-1]):
                gitignore_dirs = [path]  # asked for explicitly: only its own .gitignore files apply
            for file in _walk(path, ignore, gitignore_dirs, skipped, cwd):
                found.setdefault(file, path)
        elif stat.S_ISREG(mode):
            found.setdefault(path, os.path.dirname(path))
        else:
            skipped.append(Skipped(display_path(path, cwd), "not a regular file"))
    files = [_source_file(file, root, cwd) for file, root in found.items()]
    files = _unique_module_names(sorted(files, key=lambda f: f.display), cwd)
    unused = [p for p in dict.fromkeys(excludes) if p not in used] if any(os.path.isdir(p) for p in absolute) else []
    if trace is not None:
        trace.packages = dict(_package_cache)
    return Discovery(files, skipped, unused)


# -- the discovery cache -------------------------------------------------------------------
#
# A warm run with nothing changed must not walk the tree again, compile gitignore patterns
# and rebuild every module name (about half of such a run on a large project). The walk
# records what it read besides its arguments (a ``_Trace``): the stat signature of every
# directory it listed (an entry added, removed or renamed changes the directory's mtime),
# the text of every .gitignore, the configuration of every directory, and the few facts it
# looked up outside the listed directories (``.git`` and ``__init__.py`` above the roots).
# The next run with the same arguments checks those (one ``stat`` per directory) and reuses
# the result when all still hold; anything else walks again. Nothing is stored when the walk
# met an input it could not read, or when a directory changed within the file system's
# timestamp granularity of the walk (it may still be changing: the "racy git" problem).

# A directory modified this close to the walk (or later) is not trusted to stay as listed.
_RACY_NS = 2_000_000_000
_CACHE_SUBDIR = "discovery"
_CACHE_ENTRIES = 16  # sets of arguments remembered (each --diff checkout is one more)


def _dir_signature(path: str) -> tuple[int, ...] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mode, info.st_ino, info.st_dev, info.st_mtime_ns, info.st_ctime_ns)


@dataclass
class _Trace:
    """What one discovery read besides its arguments: enough to tell later that its result
    still holds."""

    started_ns: int
    dirs: dict[str, tuple[int, ...] | None] = field(default_factory=dict)  # listed directory -> stat signature
    roots: dict[str, int] = field(default_factory=dict)  # each path given -> its file type
    gitignores: dict[str, str | None] = field(default_factory=dict)  # directory -> hash of its .gitignore, None: none
    configs: dict[str, tuple[object, ...]] = field(default_factory=dict)  # directory -> its configuration's settings read
    git_probes: dict[str, bool] = field(default_factory=dict)  # directory -> has .git
    packages: dict[str, bool] = field(default_factory=dict)  # directory -> has __init__.py
    symlinks: list[str] = field(default_factory=list)  # files found through a symbolic link

    def reusable(self, found: Discovery) -> bool:
        """Whether the result may be stored: complete, and no listed directory too recent."""
        if found.skipped or not any(stat.S_ISDIR(kind) for kind in self.roots.values()):
            return False
        recent = self.started_ns - _RACY_NS
        return all(sig is not None and sig[3] < recent and sig[4] < recent for sig in self.dirs.values())

    def still_holds(self, configs: ConfigResolver | None) -> bool:
        listed = self.dirs
        if any(_dir_signature(d) != sig for d, sig in listed.items()):
            return False
        for path, kind in self.roots.items():
            try:
                if stat.S_IFMT(os.stat(path).st_mode) != kind:
                    return False
            except OSError:
                return False
        # An entry of a listed directory cannot appear or go without changing its signature.
        if any(os.path.exists(os.path.join(d, ".git")) != found for d, found in self.git_probes.items() if d not in listed):
            return False
        if any(os.path.isfile(os.path.join(d, "__init__.py")) != found for d, found in self.packages.items() if d not in listed):
            return False
        for d, digest in self.gitignores.items():
            if (digest is not None or d not in listed) and _text_hash(_read_gitignore(d)) != digest:
                return False
        for path in self.symlinks:  # the link's target may change without its directory
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    return False
            except OSError:
                return False
        if configs is not None:  # also leaves the resolver as the walk would have
            return all(_config_signature(configs.for_directory(d)) == sig for d, sig in self.configs.items())
        return True


@dataclass(frozen=True)
class _Recorded:
    key: str
    trace: _Trace
    discovery: Discovery


def _discovery_key(
    absolute: list[str],
    excludes: list[str],
    respect_gitignore: bool,
    cwd: str,
    anchored_excludes: tuple[list[str], str] | None,
    configs: ConfigResolver | None,
) -> str:
    """Everything but the file system that shapes a discovery: the arguments, loopwarden's
    code (this module and the configuration reader) and the gitignore matcher's."""
    import hashlib
    from importlib.util import find_spec

    from loopwarden.static.cache import canonical, fingerprint

    stamps: list[object] = []
    try:
        spec = find_spec("pathspec")
        origin = spec.origin if spec is not None else None
        info = os.stat(origin) if origin else None
        stamps.append((origin, info.st_size, info.st_mtime_ns) if info is not None else None)
    except (ImportError, ValueError, OSError):
        stamps.append(None)
    try:
        stamps.append((Path(__file__).resolve().parent.parent / "config.py").read_bytes())
    except OSError:
        stamps.append(None)
    arguments = (cwd, absolute, list(excludes), respect_gitignore, anchored_excludes, configs is not None)
    text = fingerprint("discovery", stamps) + repr(canonical(arguments))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _discover_cached(
    paths: list[str],
    excludes: list[str],
    respect_gitignore: bool,
    cwd: str,
    anchored_excludes: tuple[list[str], str] | None,
    configs: ConfigResolver | None,
    cache_dir: Path,
) -> Discovery:
    from loopwarden.static import cache

    key = _discovery_key(_absolute(paths, cwd), excludes, respect_gitignore, cwd, anchored_excludes, configs)
    entry = f"{_CACHE_SUBDIR}/{key}.pickle"
    record = cache.load_sealed(cache_dir / entry)
    if isinstance(record, _Recorded) and record.key == key and isinstance(record.discovery, Discovery):
        try:
            holds = record.trace.still_holds(configs)
        except Exception:  # e.g. a configuration that became invalid: the walk reports it
            holds = False
        if holds:
            return record.discovery
    trace = _Trace(time.time_ns())
    found = _discover(paths, excludes, respect_gitignore, cwd, anchored_excludes, configs, trace)
    if trace.reusable(found):
        cache.store_sealed(cache_dir, entry, _Recorded(key, trace, found))
        cache.keep_newest(cache_dir / _CACHE_SUBDIR, _CACHE_ENTRIES)
    return found


def _unique_module_names(files: list[SourceFile], cwd: str) -> list[SourceFile]:
    """Two files named ``app`` (``scan svc1 svc2``): name each by its path instead, so that
    neither hides the other; the short name stays as an (ambiguous, so unused) alias."""
    counts: dict[str, int] = {}
    for file in files:
        counts[file.module] = counts.get(file.module, 0) + 1
    unique = []
    for file in files:
        if counts[file.module] > 1:
            unique.append(_renamed(file, cwd))
        else:
            unique.append(file)
    return unique


def _renamed(file: SourceFile, cwd: str) -> SourceFile:
    parts = list(Path(display_path(file.path, cwd)).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    words = [p if p.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in p) for p in parts if p not in ("/", "..")]
    module = ".".join(words) or file.module
    is_init = file.path.endswith("__init__.py")
    package = module if is_init else module.rpartition(".")[0]
    # Relative imports keep working from the original package name.
    package = file.package if file.package else package
    return SourceFile(file.path, file.display, module, (file.module, *file.aliases), package, file.is_test, file.root)


def _walk(root: str, ignore: _Ignore, gitignore_dirs: list[str], skipped: list[Skipped], cwd: str) -> Iterator[str]:
    if ignore.trace is not None:
        ignore.trace.dirs[root] = _dir_signature(root)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        skipped.append(Skipped(display_path(root, cwd), _os_reason(exc)))
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError as exc:
            skipped.append(Skipped(display_path(entry.path, cwd), _os_reason(exc)))
            continue
        if is_dir:
            if entry.name in ALWAYS_SKIPPED_DIRS or entry.name.endswith(".egg-info"):
                continue
            if not ignore.ignored(entry.path, True, gitignore_dirs):
                yield from _walk(entry.path, ignore, [*gitignore_dirs, entry.path], skipped, cwd)
        elif entry.name.endswith(".py") and not ignore.ignored(entry.path, False, gitignore_dirs):
            reason = _not_a_source_file(entry)
            if reason is None:
                if ignore.trace is not None and entry.is_symlink():
                    ignore.trace.symlinks.append(entry.path)
                yield entry.path
            else:
                skipped.append(Skipped(display_path(entry.path, cwd), reason))


def _not_a_source_file(entry: os.DirEntry[str]) -> str | None:
    """Why a ``*.py`` entry cannot be read as source (a FIFO would hang the scan)."""
    try:
        mode = os.stat(entry.path).st_mode
    except OSError as exc:
        return _os_reason(exc)
    return None if stat.S_ISREG(mode) else "not a regular file"


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)


_package_cache: dict[str, bool] = {}


def _is_package_dir(directory: str) -> bool:
    if directory not in _package_cache:
        _package_cache[directory] = os.path.isfile(os.path.join(directory, "__init__.py"))
    return _package_cache[directory]


def _source_file(path: str, root: str, cwd: str) -> SourceFile:
    directory, name = os.path.split(path)
    stem = name[:-3] if name.endswith(".py") else os.path.splitext(name)[0]
    parts = _enclosing_package_parts(directory)
    is_init = stem == "__init__"
    package_parts = parts if is_init else [*parts, stem]
    module_parts = _primary_parts(path, root, package_parts or [stem])
    module = ".".join(module_parts)
    package = ".".join(module_parts if is_init else module_parts[:-1])
    aliases = _aliases(module_parts, package_parts)
    display = display_path(path, cwd)
    return SourceFile(path, display, module, aliases, package, is_test_path(display), _import_root(path, package_parts, is_init))


def _import_root(path: str, package_parts: list[str], is_init: bool) -> str:
    """The directory Python would import the file from: above its outermost package
    (``svc1`` for ``svc1/app/web.py`` when ``app/__init__.py`` exists), else its own directory."""
    root = os.path.dirname(path)
    for _ in range(len(package_parts) - (0 if is_init else 1)):
        root = os.path.dirname(root)
    return root


def _relative_parts(path: str, root: str) -> list[str]:
    rel = list(Path(os.path.relpath(path, root)).with_suffix("").parts)
    if rel and rel[-1] == "__init__":
        rel = rel[:-1]
    if rel and rel[0] == "src":
        rel = rel[1:]
    return rel


def _enclosing_package_parts(directory: str) -> list[str]:
    """The dotted package a directory is, walking up while ``__init__.py`` files exist:
    ``scan app`` where ``app/__init__.py`` exists makes the modules below ``app.*``."""
    parts: list[str] = []
    current = directory
    while _is_package_dir(current):
        parts.insert(0, os.path.basename(current))
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return parts


def _primary_parts(path: str, root: str, package_parts: list[str]) -> list[str]:
    """The module's name: its package-based name, extended with the directories above it up
    to the scan root when those have no ``__init__.py`` (namespace packages, app folders).
    Without this, ``app/utils/files.py`` and ``app/routers/files.py`` would both be ``files``."""
    rel = _enclosing_package_parts(root) + _relative_parts(path, root)
    n = len(package_parts)
    if len(rel) > n and rel[-n:] == package_parts and all(p.isidentifier() for p in rel):
        return rel
    return package_parts


def _aliases(module_parts: list[str], package_parts: list[str]) -> tuple[str, ...]:
    """Other dotted names the file may be imported under: its package-based name and the
    shorter suffixes of its full name (the index keeps only unambiguous ones)."""
    names = []
    for start in range(1, len(module_parts)):
        names.append(".".join(module_parts[start:]))
    package_name = ".".join(package_parts)
    if package_name not in names and package_parts != module_parts:
        names.append(package_name)
    return tuple(n for n in names if n)
