"""``scan --follow-libs``: the code of installed libraries joins the analysis.

Stages, each in its own module, data flowing one way:

- ``environment``: the interpreter's module search path (``--python PATH`` is run once and
  asked for it) and the distributions installed there, read from their metadata files;
- ``closure``: the library modules the project reaches, found name by name from what the
  project's summaries use (never the standard library, nor packages the catalogue models);
- ``store``: their summaries, cached per distribution name and version in a user-level
  directory, so each dependency version is analysed once;
- ``join``: library functions in the call graph, never entry points, and findings inside a
  library moved to the project's call into it;
- ``catalogs``: catalogue entries that libraries ship through the ``loopwarden.catalog``
  entry-point group.

``import loopwarden.libs`` is light: the stages are imported when a scan follows libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from loopwarden.catalog import Catalog
    from loopwarden.libs.environment import Environment
    from loopwarden.libs.join import Reanchor
    from loopwarden.static.discover import SourceFile
    from loopwarden.static.entries import EntryPoints
    from loopwarden.static.extract import ExtractOptions
    from loopwarden.static.findings import Finding, SuppressionNote
    from loopwarden.static.index import ProgramIndex
    from loopwarden.static.reach import CallGraph
    from loopwarden.static.summary import ModuleSummary, Skipped

__all__ = ["FollowOptions", "LibraryStats", "Libraries", "prepare", "follow", "environment_key", "files_unchanged"]


@dataclass(frozen=True)
class FollowOptions:
    """How ``--follow-libs`` runs (from the command line and configuration)."""

    python: str | None = None  # another interpreter (or virtual environment directory)
    cache_dir: str | None = None  # None: $LOOPWARDEN_LIBS_CACHE or $XDG_CACHE_HOME/loopwarden/libs
    use_cache: bool = True


@dataclass(frozen=True)
class LibraryStats:
    """What following libraries did in one scan (printed in the summary line, JSON summary)."""

    interpreter: str
    modules: int  # library modules joined to the analysis
    distributions: tuple[str, ...]  # "vendor-sdk 1.2.0", of the modules joined
    analysed: int  # analysed this run (cache misses)
    reused: int  # read from the cache
    skipped: int  # library files that could not be analysed (never listed as project errors)
    truncated: bool  # the bound on modules was reached
    catalogues: tuple[str, ...]  # library-shipped catalogue entries merged ("vendor-sdk: vendor_sdk/loopwarden.toml")
    warnings: tuple[str, ...] = ()


@dataclass
class Prepared:
    """The environment and the catalogue extended by library-shipped entries."""

    options: FollowOptions
    env: Environment
    catalog: Catalog
    catalogues: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)


def environment_key(prepared: Prepared) -> str:
    """What a cached whole-program result that followed libraries depends on, besides the
    project: the interpreter, its path, every distribution installed there (name and version,
    from the metadata directory names) and the entries' modification times (an install or
    removal changes them), and the library-shipped catalogue entries. Edits inside an
    unversioned (editable) library are caught by ``Libraries.files`` instead."""
    import hashlib
    import os

    env = prepared.env
    digest = hashlib.sha256(f"{env.executable}\0{env.version}\0".encode())
    for entry in env.paths:
        try:
            stamp = os.stat(entry).st_mtime_ns
            names = sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info", ".pth")))
        except OSError:
            stamp, names = -1, []
        digest.update(f"{entry}\0{stamp}\0{'/'.join(names)}\n".encode())
    digest.update("\0".join(prepared.catalogues).encode())
    return digest.hexdigest()


def files_unchanged(files: Iterable[tuple[str, int, int]]) -> bool:
    """Are these (path, size, mtime_ns) of library files as they were?"""
    import os

    for path, size, mtime in files:
        try:
            info = os.stat(path)
        except OSError:
            return False
        if info.st_size != size or info.st_mtime_ns != mtime:
            return False
    return True


@dataclass
class Libraries:
    """Library summaries for one scan, and the hooks the pipeline calls."""

    summaries: list[ModuleSummary]
    functions: frozenset[str]
    paths: frozenset[str]
    labels: dict[str, tuple[str, str]]  # library path -> (distribution, version)
    stats: LibraryStats
    files: tuple[tuple[str, int, int], ...] = ()  # (path, size, mtime_ns) of the modules joined
    _reanchor: Reanchor | None = None

    def graph(self, index: ProgramIndex) -> CallGraph:
        from loopwarden.libs.join import LibraryGraph

        return LibraryGraph(index, self.functions)

    def restrict(self, entries: EntryPoints) -> None:
        from loopwarden.libs.join import restrict_entries

        restrict_entries(entries, self.functions)

    def reanchor(self, index: ProgramIndex, findings: list[Finding], suppressed: int, notes: list[SuppressionNote]) -> tuple[list[Finding], int, list[SuppressionNote]]:
        from loopwarden.libs.join import Reanchor

        self._reanchor = Reanchor(index, self.functions, self.paths, self.labels)
        moved = self._reanchor.apply(findings)
        return moved, suppressed + self._reanchor.suppressed, self._reanchor.notes(notes)

    def own_findings(self, findings: Iterable[Finding]) -> list[Finding]:
        return [f for f in findings if f.path not in self.paths]

    def own_skips(self, skipped: Iterable[Skipped]) -> list[Skipped]:
        return [s for s in skipped if s.path not in self.paths]


def prepare(catalog: Catalog, options: FollowOptions, project_roots: Iterable[str]) -> Prepared:
    """The environment to follow (raises ``loopwarden.config.ConfigError`` when ``--python``
    cannot be run) and the catalogue with the entries its libraries ship."""
    from loopwarden.catalog import Catalog, CatalogError, with_tables
    from loopwarden.config import ConfigError
    from loopwarden.libs.catalogs import library_tables
    from loopwarden.libs.environment import EnvironmentError_, current_environment, interpreter_environment

    roots = tuple(sorted({r for r in project_roots if r}))
    try:
        env = interpreter_environment(options.python, roots) if options.python else current_environment(roots)
    except EnvironmentError_ as exc:
        raise ConfigError(str(exc)) from None
    found, warnings = library_tables(env)
    merged = catalog
    tables = []
    for table, origin, label in found:
        try:  # a malformed table is named and left out whole: one library cannot break a scan
            Catalog().extend(table, origin)
        except CatalogError as exc:
            warnings.append(f"library catalogue {exc}; ignored")
            continue
        tables.append((table, origin, label))
    if tables:
        merged, errors = with_tables(catalog, [(table, origin) for table, origin, _ in tables])
        warnings += errors
    return Prepared(options, env, merged, tuple(label for _, _, label in tables), warnings)


def follow(prepared: Prepared, project: list[ModuleSummary], options: ExtractOptions, max_size: int, jobs: int) -> Libraries:
    """Load (from the cache, or analyse) the library modules the project reaches."""
    from loopwarden.libs.closure import Follower, LibraryModule
    from loopwarden.libs.modelled import modelled_by
    from loopwarden.libs.store import LibraryStore, default_directory, open_store
    from loopwarden.static.summary import Result

    env = prepared.env
    store: LibraryStore | None = None
    warnings = list(prepared.warnings)
    if prepared.options.use_cache:
        import os
        from pathlib import Path

        from loopwarden.libs.store import ENV_LIBS_CACHE

        # $LOOPWARDEN_LIBS_CACHE, else the configuration's libs-cache-dir, else the user cache.
        configured = prepared.options.cache_dir if not os.environ.get(ENV_LIBS_CACHE) else None
        directory = Path(configured).expanduser() if configured else default_directory()
        store = open_store(directory, options, env.version)
        if store is None:
            warnings.append("cannot create the per-user cache key: library summaries are not cached")
    analysed = 0

    def load(batch: list[LibraryModule]) -> list[Result]:
        nonlocal analysed
        from loopwarden.static.scan import summarize

        found: list[Result | None] = [store.load(m) if store is not None else None for m in batch]
        todo = [m for m, hit in zip(batch, found, strict=True) if hit is None]
        if todo:
            fresh = summarize([_source_file(m) for m in todo], options, max_size, jobs)
            analysed += len(todo)
            fresh_by_module = dict(zip((m.module for m in todo), fresh, strict=True))
            for library in todo:
                if store is not None:
                    store.store(library, fresh_by_module[library.module])
            found = [hit if hit is not None else fresh_by_module[m.module] for m, hit in zip(batch, found, strict=True)]
        return [r for r in found if r is not None]

    closure = Follower(env, project, modelled_by(prepared.catalog, env), load).run()
    labels = {m.path: (m.distribution.name, m.distribution.version) for m in closure.modules.values()}
    joined = {s.path for s in closure.summaries}
    dists = sorted({m.distribution.label for m in closure.modules.values() if m.path in joined})
    stats = LibraryStats(
        interpreter=env.executable,
        modules=len(closure.summaries),
        distributions=tuple(dists),
        analysed=analysed,
        reused=store.hits if store is not None else 0,
        skipped=closure.skipped,
        truncated=closure.truncated,
        catalogues=prepared.catalogues,
        warnings=tuple(warnings),
    )
    functions = frozenset(q for s in closure.summaries for q in s.functions)
    return Libraries(closure.summaries, functions, frozenset(joined), labels, stats, _stamps(joined))


def _stamps(paths: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    import os

    found = []
    for path in sorted(paths):
        try:
            info = os.stat(path)
        except OSError:
            continue
        found.append((path, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _source_file(library: object) -> SourceFile:
    from loopwarden.libs.closure import LibraryModule
    from loopwarden.static.discover import SourceFile

    assert isinstance(library, LibraryModule)
    package = library.module if library.package else library.module.rpartition(".")[0]
    return SourceFile(
        path=library.path,
        display=library.path.replace("\\", "/"),
        module=library.module,
        aliases=(),
        package=package,
        is_test=False,
        root=library.entry,
    )
