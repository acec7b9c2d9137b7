"""The scan pipeline: discover files -> per-file summaries (in parallel) -> findings."""

from __future__ import annotations

import ast
import gc
import io
import os
import stat
import sys
import tokenize
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loopwarden.catalog import Catalog
from loopwarden.static.discover import SourceFile, discover_all
from loopwarden.static.extract import ExtractOptions, catalogue_knowledge, extract_module, parse_suppressions
from loopwarden.static.findings import PRIORITY_RANK, Finding, SuppressionNote, build_findings_and_notes
from loopwarden.static.index import ProgramIndex, prefer_own_root
from loopwarden.static.newsyntax import downlevel, newer_syntax_hint
from loopwarden.static.reach import CallGraph
from loopwarden.static.summary import ModuleSummary, Result, Skipped, internal_error

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from loopwarden.config import ConfigResolver
    from loopwarden.libs import FollowOptions, Libraries, LibraryStats, Prepared
    from loopwarden.static.cache import EntryWriter, SummaryCache
    from loopwarden.static.entries import EntryPoints
    from loopwarden.static.explain import Unresolved

    Program = tuple[ProgramIndex, CallGraph, EntryPoints, list[Finding]]

# Below this many files, worker processes cost more than they save.
_PARALLEL_THRESHOLD = 40


@dataclass
class ScanResult:
    findings: list[Finding]
    skipped: list[Skipped]
    suppressed: int
    files: int
    lines: int
    modules: list[ModuleSummary] = field(default_factory=list, repr=False)
    hidden: int = 0  # findings below min_priority, left out
    suppression_notes: list[SuppressionNote] = field(default_factory=list)  # unused / mismatched
    unresolved: list[Unresolved] = field(default_factory=list)  # on the loop
    program: Program | None = field(default=None, repr=False)  # (index, graph, entries, all findings), for explain
    # (importer, import name, claimants): imports not followed, several files equally near
    ambiguous_imports: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    unused_excludes: list[str] = field(default_factory=list)  # command-line patterns that matched nothing
    discovered: int = 0  # Python files found (scanned or skipped while reading)
    cache_stats: tuple[int, int] | None = None  # (hits, misses) of the per-file cache; None: no cache
    cache_warning: str | None = None  # why the cache could not be used this run
    scanned: list[str] = field(default_factory=list)  # display paths of the files analysed
    libraries: LibraryStats | None = None  # with --follow-libs: what library code joined


def extract_options(catalog: Catalog) -> ExtractOptions:
    return ExtractOptions(
        offload_names={o.name: o.callable_arg for o in catalog.offloads if o.name},
        offload_methods={o.method: o.callable_arg for o in catalog.offloads if o.method},
        aliases=dict(catalog.aliases),
        callback_methods={c.method: c.callable_arg for c in catalog.loop_callbacks if c.method},
        watched=catalog.watched_names(),
        variants={symbol: tuple(found) for symbol, found in catalog.variants.items()},
        **catalogue_knowledge(catalog),  # start-up registration, iteration helpers, thread runners, ...
    )


def read_source(path: str, max_size: int) -> str:
    """The file's text; raises ValueError with a one-line reason when it cannot be scanned."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > max_size:
            raise ValueError(f"file is {_size(info.st_size)}, over the max-file-size of {_size(max_size)}")
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        from loopwarden.static.discover import _os_reason

        raise ValueError(_os_reason(exc)) from None
    _check_encoding_family(data)
    if b"\x00" in data:
        raise ValueError("contains NUL bytes (not a text file)")
    _check_cost(data)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # undecodable bytes in the first two lines: report them as such
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} in the coding declaration") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"cannot decode as {exc.encoding}: invalid byte 0x{data[exc.start]:02x} at line {line}") from None


# The cost of one file is bounded: parsing takes about 0.5 KB of memory per token (a 20 MB
# module of dense code: ~8 million tokens, 4 GB, minutes). Files estimated above this many
# tokens are skipped with a reason whatever max-file-size allows. The default max-file-size
# (2 MiB) holds about a million tokens of dense code, so only raised limits meet this one.
TOKEN_BUDGET = 1_500_000
_COST_CHECK_FROM = TOKEN_BUDGET  # bytes: the estimate counts bytes, so smaller files cannot exceed it


def estimated_tokens(data: bytes) -> int:
    """A fast over-estimate of the token count: separators and punctuation (C-speed counts;
    the tokenizer itself would take seconds on a large file)."""
    return sum(data.count(c) for c in (b" ", b"\n", b"(", b"[", b"{", b",", b".", b":", b"="))


def _check_cost(data: bytes) -> None:
    if len(data) < _COST_CHECK_FROM:
        return
    tokens = estimated_tokens(data)
    if tokens > TOKEN_BUDGET:
        raise ValueError(
            f"too large to analyse: about {tokens // 1000}k tokens, over the per-file budget of "
            f"{TOKEN_BUDGET // 1000}k (parsing would need about {tokens * 512 / 2**30:.1f} GiB); exclude it or split it"
        )


def _check_encoding_family(data: bytes) -> None:
    """UTF-16/32 files: name the encoding instead of complaining about NUL bytes."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise ValueError(f"{name} is not supported (Python source must be UTF-8 or declare an 8-bit coding); re-save it as UTF-8")
    head = data[:4096]
    if len(head) >= 4 and b"\x00" in head:
        zeros_even, zeros_odd = head[0::2].count(0), head[1::2].count(0)
        half = len(head) // 2
        if max(zeros_even, zeros_odd) > 0.6 * half and min(zeros_even, zeros_odd) < 0.1 * half:
            raise ValueError("looks like UTF-16 without a byte-order mark: UTF-16 is not supported; re-save it as UTF-8")


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MiB" if size >= 1_048_576 else f"{size} bytes"


def analyze_file(source_file: SourceFile, options: ExtractOptions, max_size: int) -> Result:
    """One file -> its summary, or the reason it was skipped. Never raises: a bug in
    loopwarden costs the smallest unit it happened in (a statement or class of the file,
    else the whole file), listed in ``skipped`` as an internal error."""
    try:
        return _analyze_file(source_file, options, max_size)
    except Exception as exc:
        return Skipped(source_file.display, internal_error(exc, "the whole file"))


def _analyze_file(source_file: SourceFile, options: ExtractOptions, max_size: int) -> Result:
    try:
        text = read_source(source_file.path, max_size)
    except ValueError as exc:
        return Skipped(source_file.display, str(exc))
    try:
        tree = _parse(text, source_file.display)
    except SyntaxError as exc:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        hint = newer_syntax_hint(exc.msg or "", exc.text or "")
        advice = f"; {hint}" if hint else ""
        return Skipped(source_file.display, f"syntax error at line {exc.lineno}: {exc.msg} (parsed as Python {version}){advice}")
    except RecursionError:
        return Skipped(source_file.display, "too deeply nested to parse")
    except MemoryError as exc:
        return Skipped(source_file.display, f"cannot parse: out of memory{f' ({exc})' if str(exc) else ''}; exclude the file or raise the memory limit")
    except ValueError as exc:
        return Skipped(source_file.display, f"cannot parse: {type(exc).__name__}: {exc}")
    summary = ModuleSummary(
        path=source_file.display,
        module=source_file.module,
        aliases=source_file.aliases,
        is_test=source_file.is_test,
        lines=_count_lines(text),
        suppressions=parse_suppressions(text),
    )
    try:
        return extract_module(tree, summary, options, source_file.package)
    except RecursionError:
        return Skipped(source_file.display, "too deeply nested to analyse")


def _parse(text: str, filename: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError:
            rewritten = downlevel(text) if sys.version_info < (3, 12) else None
            if rewritten is None:
                raise
            return ast.parse(rewritten, filename=filename)


# -- the garbage collector -------------------------------------------------------------
# Summaries pile up for the whole scan while the parser allocates without pause, so every
# full collection would walk all the summaries made so far again: on Home Assistant that was
# a quarter of a cold scan's CPU. During a scan (and in its workers) what exists after each
# file is frozen (``gc.freeze`` is O(1); frozen objects are still freed by reference
# counting, and an AST holds no cycles), and the collector rests during the whole-program
# phase. The scan gives everything back to the collector when it ends.
_sparing = False


def _after_file() -> None:
    if _sparing:
        gc.freeze()


@contextmanager
def _collector_spared() -> Iterator[None]:
    global _sparing
    was_sparing, _sparing = _sparing, True
    try:
        yield
    finally:
        _sparing = was_sparing
        if not was_sparing:
            gc.unfreeze()


@contextmanager
def _collector_off() -> Iterator[None]:
    """No collection at all (the whole-program phase makes no cyclic garbage worth it)."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _analyze_chunk(args: tuple[list[tuple[SourceFile, int]], ExtractOptions]) -> list[Result]:
    files, options = args
    results = []
    for f, max_size in files:
        results.append(analyze_file(f, options, max_size))
        _after_file()
    return results


def _analyze_and_store(args: tuple[list[tuple[SourceFile, int, str | None]], ExtractOptions, EntryWriter]) -> list[Result]:
    """A chunk of cache misses: analyse each file and write its entry (in the worker, so
    that the parent neither pickles the results again nor writes them)."""
    files, options, writer = args
    results = []
    for source_file, max_size, key in files:
        result = analyze_file(source_file, options, max_size)
        if key is not None:
            writer.write(key, result)
        results.append(result)
        _after_file()
    return results


def _worker_init() -> None:
    """Workers leave SIGINT to the parent (which stops them all), and die with it on Linux
    even when it is killed outright (no orphans burning CPU)."""
    import signal

    global _sparing
    _sparing = True  # a worker lives for one scan
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate every worker now (shutdown() alone waits for running chunks to finish)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


def summarize(
    files: list[SourceFile],
    options: ExtractOptions,
    max_size: int | dict[str, int],
    jobs: int,
    cache: SummaryCache | None = None,
) -> list[Result]:
    """Per-file summaries, in the order of ``files``. ``max_size`` is one limit for all or
    one per file path. With ``cache``, files whose entry is there are not analysed, and the
    others' results are written to it. An interruption (SIGINT, or SIGTERM turned into an
    exception by the CLI) terminates every worker at once before it propagates."""
    sized = [(f, max_size if isinstance(max_size, int) else max_size[f.path]) for f in files]
    if cache is None:
        return _summarize([(f, size, None) for f, size in sized], options, jobs, None)
    keys = [cache.key(f, size) for f, size in sized]
    found: list[Result | None] = []
    for key in keys:
        found.append(cache.load(key) if key is not None else None)
        _after_file()
    todo = [(f, size, key) for (f, size), key, hit in zip(sized, keys, found, strict=True) if hit is None]
    if todo:
        fresh = iter(_summarize(todo, options, jobs, cache.writer))
        found = [hit if hit is not None else next(fresh) for hit in found]
    cache.close()
    return [r for r in found if r is not None]


def _summarize(
    sized: list[tuple[SourceFile, int, str | None]], options: ExtractOptions, jobs: int, writer: EntryWriter | None
) -> list[Result]:
    if jobs <= 1 or len(sized) < _PARALLEL_THRESHOLD:
        if writer is None:
            return _analyze_chunk(([(f, size) for f, size, _ in sized], options))
        return _analyze_and_store((sized, options, writer))
    chunk = max(8, len(sized) // (jobs * 8))
    chunks = [sized[i : i + chunk] for i in range(0, len(sized), chunk)]
    from concurrent.futures import ProcessPoolExecutor  # not for small scans: multiprocessing is a heavy import

    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        if writer is None:
            futures = [pool.submit(_analyze_chunk, ([(f, size) for f, size, _ in c], options)) for c in chunks]
        else:
            futures = [pool.submit(_analyze_and_store, (c, options, writer)) for c in chunks]
        results: list[Result] = []
        for files_of_chunk, future in zip(chunks, futures, strict=True):
            try:
                results.extend(future.result())
                _after_file()
            except Exception:  # a worker died or a summary could not cross processes: redo here
                results.extend(analyze_file(f, options, size) for f, size, _ in files_of_chunk)
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    return results


def scan(
    paths: list[str],
    catalog: Catalog | None,
    *,
    excludes: list[str] = (),  # type: ignore[assignment]
    respect_gitignore: bool = True,
    max_file_size: int = 2 * 1024 * 1024,
    jobs: int = 1,
    min_priority: str | None = None,
    cwd: str | None = None,
    anchored_excludes: tuple[list[str], str] | None = None,
    configs: ConfigResolver | None = None,
    select: list[str] | None = None,
    ignore: list[str] = (),  # type: ignore[assignment]
    cache_dir: str | os.PathLike[str] | None = None,
    follow_libs: FollowOptions | None = None,
) -> ScanResult:
    """Scan ``paths``. With ``configs`` (a ``loopwarden.config.ConfigResolver``), each file
    follows the configuration governing it (excludes, gitignore, max-file-size,
    min-priority, select, ignore), and ``catalog=None`` means the built-in catalogue extended
    by every governing configuration's catalogue table.  ``min_priority`` and ``select``
    given here override the configurations; ``ignore`` adds to theirs.  With ``cache_dir``,
    per-file results and the whole-program result are kept there between runs
    (``loopwarden.static.cache``); a warm result has no ``program`` and no ``modules``
    when nothing changed (``scanned`` lists the files).  With ``follow_libs``, the installed
    libraries the project reaches join the analysis (``loopwarden.libs``)."""
    found = discover_all(
        list(paths), list(excludes), respect_gitignore, cwd=cwd, anchored_excludes=anchored_excludes, configs=configs, cache_dir=cache_dir
    )
    files, skipped = found.files, found.skipped
    # What the catalogue is made of, for the cache: the built-in one is in the fingerprint,
    # so only the configurations' tables (cheap to key) or else the catalogue given.
    catalog_source: object = catalog
    if catalog is None:
        from loopwarden.config import merged_catalog

        used = configs.used() if configs is not None else []
        catalog_source = [("configured catalogue", c.catalog) for c in used]
        catalog = merged_catalog(used)
    prepared = None
    if follow_libs is not None:  # the environment's libraries, and the catalogue entries they ship
        from loopwarden import libs

        prepared = libs.prepare(catalog, follow_libs, [f.root for f in files])
        catalog = catalog_source = prepared.catalog  # keyed whole: libraries ship entries
    # f.path is an absolute file name: its directory's configuration, without for_path's stat.
    sizes = {f.path: configs.for_directory(os.path.dirname(f.path)).max_file_size for f in files} if configs is not None else max_file_size
    options = extract_options(catalog)
    cache, cache_warning = _open_cache(cache_dir, options)
    from loopwarden.static.scripts import console_scripts

    scripts = console_scripts(f.root for f in files)  # the projects' declared entry points
    program_key = _program_key(cache, files, sizes, catalog_source, cwd, scripts) if cache is not None else None
    if program_key is not None and prepared is not None:
        program_key = _with_libraries_key(program_key, prepared)
    phase = cache.load_program(program_key) if cache is not None and program_key is not None else None
    if isinstance(phase, ProgramPhase) and not _libraries_unchanged(phase):
        phase = None  # an unversioned library file changed since
    modules: list[ModuleSummary] = []
    program = None
    if isinstance(phase, ProgramPhase) and cache is not None:
        cache.close()
        cache.hits += len(files)  # none analysed, none even read
    else:
        with _collector_spared():
            results = summarize(files, options, sizes, jobs, cache)
            modules = [r for r in results if isinstance(r, ModuleSummary)]
            libraries = libs.follow(prepared, modules, options, max_file_size, jobs) if prepared is not None else None
            with _collector_off():
                phase, program = _whole_program(modules, [r for r in results if isinstance(r, Skipped)], files, catalog, cwd, scripts, libraries)
        if cache is not None and program_key is not None:
            cache.store_program(program_key, phase)
    skipped += phase.skipped
    findings = phase.findings
    absolute = {f.display: f.path for f in files}
    shown, hidden = [], 0
    for finding in findings:
        config = configs.for_path(absolute.get(finding.path, finding.path)) if configs is not None else None
        limit = min_priority or (config.min_priority if config is not None else "LOW")
        chosen = select if select is not None else (config.select if config is not None else [])
        dropped = [*ignore, *(config.ignore if config is not None else [])]
        if not is_selected(finding, chosen, dropped):
            continue
        if PRIORITY_RANK[finding.priority] <= PRIORITY_RANK[limit]:
            shown.append(finding)
        else:
            hidden += 1
    skipped.sort(key=lambda s: s.path)
    return ScanResult(
        findings=shown,
        skipped=skipped,
        suppressed=phase.suppressed,
        files=len(phase.scanned),
        lines=phase.lines,
        modules=modules,
        hidden=hidden,
        suppression_notes=list(phase.notes),
        unresolved=list(phase.unresolved),
        program=program,
        ambiguous_imports=list(phase.ambiguous),
        unused_excludes=found.unused_excludes,
        discovered=len(files),
        cache_stats=(cache.hits, cache.misses) if cache is not None else None,
        cache_warning=cache_warning,
        scanned=list(phase.scanned),
        libraries=_library_stats(phase, program is None),
    )


@dataclass(frozen=True)
class ProgramPhase:
    """What the whole-program phase yields, before the per-file filters (priority, select,
    ignore): cached whole when no file changed."""

    findings: list[Finding]  # every finding, hazards included, sorted
    skipped: list[Skipped]  # analysis-stage skips: files, units, index and graph errors
    suppressed: int
    notes: list[SuppressionNote]
    unresolved: list[Unresolved]
    ambiguous: list[tuple[str, str, tuple[str, ...]]]
    scanned: list[str]  # display paths of the modules
    lines: int
    libraries: LibraryStats | None = None  # --follow-libs: what library code joined
    library_files: tuple[tuple[str, int, int], ...] = ()  # (path, size, mtime_ns) of the library modules joined


def _whole_program(
    modules: list[ModuleSummary],
    file_skips: list[Skipped],
    files: list[SourceFile],
    catalog: Catalog,
    cwd: str | None,
    scripts: dict[str, str],
    libraries: Libraries | None = None,
) -> tuple[ProgramPhase, Program]:
    ambiguous = prefer_own_root(modules, {f.display: f.root for f in files})
    skipped = list(file_skips)
    skipped += [Skipped(m.path, error) for m in modules for error in m.errors]
    index = ProgramIndex([*modules, *libraries.summaries] if libraries is not None else modules, catalog, scripts=scripts)
    skipped += index.errors
    graph = libraries.graph(index) if libraries is not None else CallGraph(index)
    from loopwarden.static.entries import EntryPoints
    from loopwarden.static.explain import unresolved_calls

    entries = EntryPoints(index, graph)
    if libraries is not None:  # library functions are never entry points
        libraries.restrict(entries)
    findings, suppressed, notes = build_findings_and_notes(index, graph, entries)
    if libraries is not None:  # findings inside a library move to the project's call into it
        findings, suppressed, notes = libraries.reanchor(index, findings, suppressed, notes)
    findings, hazard_suppressed = _with_hazards(findings, index, graph, cwd, entries)
    suppressed += len(hazard_suppressed)
    notes = [n for n in notes if (n.path, n.line) not in set(hazard_suppressed)]
    skipped += [Skipped(index.function_module[q].path, reason) for q, reason in graph.errors]
    unresolved = unresolved_calls(index, graph, entries)
    if libraries is not None:  # library code is not the project's: none of its problems are listed
        findings = libraries.own_findings(findings)
        skipped = libraries.own_skips(skipped)
        unresolved = [u for u in unresolved if u.path not in libraries.paths]
    phase = ProgramPhase(
        findings=findings,
        skipped=skipped,
        suppressed=suppressed,
        notes=notes,
        unresolved=unresolved,
        ambiguous=ambiguous,
        scanned=[m.path for m in modules],
        lines=sum(m.lines for m in modules),
        libraries=libraries.stats if libraries is not None else None,
        library_files=libraries.files if libraries is not None else (),
    )
    return phase, (index, graph, entries, findings)


def _with_libraries_key(program_key: str, prepared: Prepared) -> str:
    """--follow-libs: the whole-program result also depends on the installed libraries."""
    import hashlib

    from loopwarden.libs import environment_key

    return hashlib.sha256(f"{program_key}\0libs\0{environment_key(prepared)}".encode()).hexdigest()


def _libraries_unchanged(phase: ProgramPhase) -> bool:
    from loopwarden.libs import files_unchanged

    return files_unchanged(phase.library_files)


def _library_stats(phase: ProgramPhase, cached: bool) -> LibraryStats | None:
    """The phase's library figures; a cached phase analysed and read nothing this run."""
    stats = phase.libraries
    if stats is None or not cached:
        return stats
    import dataclasses

    return dataclasses.replace(stats, analysed=0, reused=stats.modules)


def _open_cache(cache_dir: str | os.PathLike[str] | None, options: ExtractOptions) -> tuple[SummaryCache | None, str | None]:
    """The cache for this run, or None and why not (the scan then goes on without it)."""
    if cache_dir is None:
        return None, None
    from loopwarden.static import cache

    try:
        return cache.open_cache(cache_dir, cache.fingerprint(options)), None
    except cache.CacheUnavailable as exc:
        return None, f"{exc}; scanning without the cache"


def _program_key(
    cache: SummaryCache, files: list[SourceFile], sizes: int | dict[str, int], catalog: object, cwd: str | None, scripts: dict[str, str]
) -> str | None:
    """The key of the whole-program result: every file's entry key (so its content and
    identity), its import root, the whole catalogue (or the configuration tables it was
    built from), the declared console scripts and the directory hazards read from.
    None when a file cannot be keyed (unreadable, too large): then it is not cached."""
    import hashlib

    from loopwarden.static.cache import canonical

    digest = hashlib.sha256(cache.fingerprint.encode())
    digest.update(repr(canonical(catalog)).encode())
    digest.update(repr(canonical(scripts)).encode())
    digest.update(f"\0{cwd or os.getcwd()}\0".encode())
    for f in sorted(files, key=lambda f: f.path):
        key = cache.key(f, sizes if isinstance(sizes, int) else sizes[f.path])
        if key is None:
            return None
        digest.update(f"{f.path}\0{f.root}\0{key}\n".encode())
    return digest.hexdigest()


def _with_hazards(findings: list[Finding], index: ProgramIndex, graph: CallGraph, cwd: str | None, entries: EntryPoints) -> tuple[list[Finding], list[tuple[str, int]]]:
    """The blocking-call findings plus the hazards an offload brings (loopwarden.hazards), and
    the lines where a suppression comment silenced a hazard."""
    from loopwarden import hazards

    found, used = hazards.check_with_suppressed(index, graph, cwd, entries)
    return sorted([*findings, *found], key=lambda f: f.sort_key), used


def _matches(finding: Finding, selector: str) -> bool:
    return selector == finding.category or finding.symbol == selector or finding.symbol.startswith(selector + ".")


def is_selected(finding: Finding, select: list[str], ignore: list[str]) -> bool:
    """``select``: categories or symbols (a module prefix matches its members); empty: all."""
    if select and not any(_matches(finding, s) for s in select):
        return False
    return not any(_matches(finding, s) for s in ignore)
