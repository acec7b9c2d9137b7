"""The scan pipeline: discover files -> per-file summaries (in parallel) -> findings."""

from __future__ import annotations

import ast
import io
import os
import stat
import sys
import tokenize
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from loopwarden.catalog import Catalog
from loopwarden.static.discover import SourceFile, discover
from loopwarden.static.extract import ExtractOptions, extract_module, parse_suppressions
from loopwarden.static.findings import PRIORITY_RANK, Finding, SuppressionNote, build_findings_and_notes
from loopwarden.static.index import ProgramIndex
from loopwarden.static.newsyntax import downlevel, newer_syntax_hint
from loopwarden.static.reach import CallGraph
from loopwarden.static.summary import ModuleSummary, Result, Skipped, internal_error

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
    unresolved: list = field(default_factory=list)  # loopwarden.static.explain.Unresolved, on the loop
    program: tuple | None = field(default=None, repr=False)  # (index, graph, entries, all findings), for explain


def extract_options(catalog: Catalog) -> ExtractOptions:
    return ExtractOptions(
        offload_names={o.name: o.callable_arg for o in catalog.offloads if o.name},
        offload_methods={o.method: o.callable_arg for o in catalog.offloads if o.method},
        aliases=dict(catalog.aliases),
        callback_methods={c.method: c.callable_arg for c in catalog.loop_callbacks if c.method},
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
    if b"\x00" in data:
        raise ValueError("contains NUL bytes (not a text file)")
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
    except (MemoryError, ValueError) as exc:
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


def _analyze_chunk(args: tuple[list[SourceFile], ExtractOptions, int]) -> list[Result]:
    files, options, max_size = args
    return [analyze_file(f, options, max_size) for f in files]


def summarize(files: list[SourceFile], options: ExtractOptions, max_size: int, jobs: int) -> list[Result]:
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        return [analyze_file(f, options, max_size) for f in files]
    chunk = max(8, len(files) // (jobs * 8))
    chunks = [files[i : i + chunk] for i in range(0, len(files), chunk)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_analyze_chunk, (c, options, max_size)) for c in chunks]
        results: list[Result] = []
        for files_of_chunk, future in zip(chunks, futures, strict=True):
            try:
                results.extend(future.result())
            except Exception:  # a worker died or a summary could not cross processes: redo here
                results.extend(analyze_file(f, options, max_size) for f in files_of_chunk)
    return results


def scan(
    paths: list[str],
    catalog: Catalog,
    *,
    excludes: list[str] = (),  # type: ignore[assignment]
    respect_gitignore: bool = True,
    max_file_size: int = 2 * 1024 * 1024,
    jobs: int = 1,
    min_priority: str = "LOW",
    cwd: str | None = None,
    anchored_excludes: tuple[list[str], str] | None = None,
) -> ScanResult:
    files, skipped = discover(list(paths), list(excludes), respect_gitignore, cwd=cwd, anchored_excludes=anchored_excludes)
    results = summarize(files, extract_options(catalog), max_file_size, jobs)
    modules = [r for r in results if isinstance(r, ModuleSummary)]
    skipped += [r for r in results if isinstance(r, Skipped)]
    skipped += [Skipped(m.path, error) for m in modules for error in m.errors]
    index = ProgramIndex(modules, catalog)
    skipped += index.errors
    graph = CallGraph(index)
    from loopwarden.static.entries import EntryPoints
    from loopwarden.static.explain import unresolved_calls

    entries = EntryPoints(index, graph)
    findings, suppressed, notes = build_findings_and_notes(index, graph, entries)
    findings = _with_hazards(findings, index, graph, cwd, entries)
    skipped += [Skipped(index.function_module[q].path, reason) for q, reason in graph.errors]
    limit = PRIORITY_RANK[min_priority]
    findings_all = findings
    shown = [f for f in findings if PRIORITY_RANK[f.priority] <= limit]
    hidden, findings = len(findings) - len(shown), shown
    skipped.sort(key=lambda s: s.path)
    return ScanResult(
        findings=findings,
        skipped=skipped,
        suppressed=suppressed,
        files=len(modules),
        lines=sum(m.lines for m in modules),
        modules=modules,
        hidden=hidden,
        suppression_notes=notes,
        unresolved=unresolved_calls(index, graph, entries),
        program=(index, graph, entries, findings_all),
    )


def _with_hazards(findings: list[Finding], index: ProgramIndex, graph: CallGraph, cwd: str | None, entries) -> list[Finding]:
    """The blocking-call findings plus the hazards an offload brings (loopwarden.hazards)."""
    from loopwarden import hazards

    return sorted([*findings, *hazards.check(index, graph, cwd, entries)], key=lambda f: f.sort_key)
