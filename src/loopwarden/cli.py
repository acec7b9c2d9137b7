"""Command line: ``loopwarden COMMAND ...``.

Each subcommand other than ``scan`` lives in its own module, listed in ``COMMANDS``, which
exposes ``add_parser(subparsers)`` (argument definitions only, cheap to import) and
``run(args) -> int``.

Exit codes: see ``EXIT_CODES`` (printed by ``loopwarden scan --help``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import types
    from collections.abc import Callable, Iterable

    from loopwarden.config import Config, ConfigResolver
    from loopwarden.libs import FollowOptions
    from loopwarden.static.scan import ScanResult
    from loopwarden.static.summary import Skipped

from loopwarden import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM, EXIT_SIGPIPE = 130, 143, 141
EXIT_CODES = """exit codes:
  0    no finding at or above --fail-on, every file scanned (or --exit-zero)
  1    findings at or above --fail-on (default HIGH), or files that could not be
       scanned, or an internal error in one unit (the rest of the report is complete)
       (--skipped-ok or skipped-ok = true: skipped files do not, internal errors still do)
  2    usage or configuration error, or no Python file found (unless --allow-empty)
  3    internal error that stopped the whole run (a bug in loopwarden; please report it)
  130  interrupted (SIGINT, Ctrl-C); 143 terminated (SIGTERM): workers stopped, no report written
  141  the reader of stdout went away (`| head`)
"""
_PRIORITIES = ("HIGH", "MEDIUM", "LOW")

# Subcommand modules (besides ``scan``), one line each: name -> module path.
COMMANDS: dict[str, str] = {
    "baseline": "loopwarden.workflow.baseline_command",
    "catalog": "loopwarden.workflow.catalog_command",
    "rule": "loopwarden.workflow.rule_command",
    "explain": "loopwarden.static.explain_cmd",
    "teeth": "loopwarden.teeth.command",
    "fix": "loopwarden.fix.command",
    "anchor": "loopwarden.fix.anchor",
    "agent-skill": "loopwarden.fix.skill",
    "guard": "loopwarden.guard.command",
    "config": "loopwarden.config_command",
    "clean": "loopwarden.static.clean_command",
}


def _priority(value: str) -> str:
    upper = value.upper()
    if upper not in _PRIORITIES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(_PRIORITIES)}, got {value!r}")
    return upper


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return jobs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loopwarden",
        description="Keeps asyncio event loops free of blocking I/O.",
    )
    parser.add_argument("--version", action="version", version=f"loopwarden {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = commands.add_parser(
        "scan",
        help="report blocking calls reachable from the event loop",
        description="Report every blocking call reachable from the event loop, with the call chain that exposes it. "
        "Each file follows the nearest pyproject.toml with a [tool.loopwarden] table (or --config for all).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: the current directory)")
    scan.add_argument("--format", choices=("text", "summary", "json", "sarif", "github", "gitlab"), default="text", help="report format (default: text)")
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    scan.add_argument("--min-priority", type=_priority, default=None, metavar="LEVEL", help="report only findings at or above LEVEL (HIGH, MEDIUM, LOW)")
    scan.add_argument("--fail-on", type=_priority, default=None, metavar="LEVEL", help="exit 1 when a finding is at or above LEVEL (default HIGH)")
    scan.add_argument("--select", action="append", default=None, metavar="NAMES", help="report only these categories (SLEEP) or symbols (time.sleep, subprocess); comma-separated, repeatable; replaces the configuration's select")
    scan.add_argument("--ignore", action="append", default=[], metavar="NAMES", help="do not report these categories or symbols; comma-separated, repeatable; added to the configuration's ignore")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="gitignore-style pattern to skip, relative to each PATH (repeatable); one that matches nothing is warned about")
    scan.add_argument("--no-gitignore", action="store_true", help="scan files that .gitignore excludes")
    scan.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N", help="worker processes for per-file analysis (default: number of cores)")
    scan.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file for every file, instead of each file's nearest pyproject.toml")
    scan.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text report (default: auto, when stdout is a terminal and NO_COLOR is unset)")
    scan.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings or skipped files (errors still exit 2 or 3)")
    scan.add_argument("--skipped-ok", action="store_true", help="files that cannot be scanned are reported but do not make the exit code 1 (internal errors still do)")
    scan.add_argument("--allow-empty", action="store_true", help="finding no Python file is not an error (a warning, exit 0)")
    scan.add_argument("--verbose", "-v", action="store_true", help="say on stderr which configuration governs which files")
    # Changed-code mode and baselines (loopwarden.workflow, docs/ci.md).
    scan.add_argument("--diff", metavar="BASE", help="report only what the change from the merge base with BASE (a git revision) introduces")
    scan.add_argument("--include-uncommitted", action="store_true", help="with --diff: include the index's and working tree's changes")
    scan.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE (see `loopwarden baseline`)")
    scan.add_argument("--no-baseline", action="store_true", help="ignore the configured baseline")
    scan.add_argument("--no-cache", action="store_true", help="neither read nor write the cache (.loopwarden_cache/ at the project root, or cache-dir)")
    # Installed libraries (loopwarden.libs, docs/libraries.md).
    scan.add_argument("--follow-libs", action=argparse.BooleanOptionalAction, default=None, help="also analyse the installed libraries the code reaches, and report blocking calls inside them at the project's call (config: follow-libs; default off)")
    scan.add_argument("--python", metavar="PATH", help="with --follow-libs: the interpreter (or virtual environment) whose installed libraries to analyse (default: the one running loopwarden)")
    scan.add_argument("--show-unresolved", action="store_true", help="list the calls the scanner cannot resolve in code that runs on the loop")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(commands)
    for sub in commands.choices.values():
        _fill_missing_help(sub)
    return parser


def _fill_missing_help(parser: argparse.ArgumentParser) -> None:
    """Every option shows some help: one a subcommand left bare says its choices and default."""
    for action in parser._actions:
        if action.help is None and not action.option_strings:
            action.help = f"the {str(action.metavar or action.dest).lower()} (see the command's description)"
        elif action.help is None:
            parts = [f"one of {', '.join(map(str, action.choices))}"] if action.choices else []
            if action.default not in (None, False, argparse.SUPPRESS):
                parts.append(f"default: {action.default}")
            action.help = "; ".join(parts) or "see the documentation of this command"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    if args.command != "scan" and args.command not in COMMANDS:
        parser.print_help()
        return EXIT_ERROR if args.command is None and argv else EXIT_CLEAN
    previous = _terminate_on_sigterm()
    try:
        if args.command == "scan":
            return _scan(args)
        return int(importlib.import_module(COMMANDS[args.command]).run(args))
    except _UsageError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("loopwarden: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except _Terminated:
        print("loopwarden: terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except BrokenPipeError:  # `loopwarden ... | head`: the reader left; not an error of ours
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_SIGPIPE
    except Exception as exc:  # a bug in loopwarden: say so in one line, with its own exit code
        where = _innermost_frame(exc)
        print(f"loopwarden: internal error: {type(exc).__name__}: {exc} ({where}); please report it", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        _restore_sigterm(previous)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that workers are stopped and no report is
    written (like KeyboardInterrupt for SIGINT)."""


def _terminate_on_sigterm() -> Any:  # the previous handler (signal.signal's own return type)
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: types.FrameType | None) -> None:
        raise _Terminated()

    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous: Any) -> None:
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _innermost_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "unknown location"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class _UsageError(Exception):
    pass


def _names(values: list[str] | None) -> list[str] | None:
    """``--select A,B --select C`` -> [A, B, C]."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _scan(args: argparse.Namespace) -> int:
    from loopwarden.catalog import CatalogError
    from loopwarden.config import ConfigError, ConfigResolver, check_selectors, merged_catalog
    from loopwarden.report import render, safe_result
    from loopwarden.static.discover import PatternError
    from loopwarden.static.findings import PRIORITY_RANK
    from loopwarden.static.scan import scan

    paths = args.paths or ["."]
    cwd = os.getcwd()
    try:
        forced = None
        if args.config:
            forced = Path(args.config)
            if not forced.is_file():
                raise ConfigError(f"{args.config}: {'is a directory' if forced.is_dir() else 'no such file'}")
        configs = ConfigResolver(forced)
        # The configuration of the first path: the baseline and changed-code settings.
        config = configs.for_path(paths[0] if os.path.exists(paths[0]) else cwd)
        select = _selectors("--select", _names(args.select), check_selectors)
        ignore = _selectors("--ignore", _names(args.ignore), check_selectors) or []
    except (ConfigError, CatalogError) as exc:
        raise _UsageError(str(exc)) from None

    no_cache = args.no_cache or os.environ.get("LOOPWARDEN_NO_CACHE", "") not in ("", "0")
    cache_dir = None if no_cache else _cache_dir(config, paths[0], cwd)

    def run(scan_paths: list[str], cwd: str | None = None, config_dir: str | None = None) -> ScanResult:
        resolver, catalog = configs, None
        if cwd is not None:  # a rescan of another checkout (--diff): this tree's configuration
            import dataclasses

            base = config
            if config_dir is not None and base.source is not None:
                base = dataclasses.replace(base, source=Path(config_dir) / base.source.name)
            resolver, catalog = ConfigResolver(fixed=base), merged_catalog(configs.used())
        return scan(
            scan_paths,
            catalog,
            excludes=args.exclude,
            respect_gitignore=not args.no_gitignore,
            jobs=args.jobs or os.cpu_count() or 1,
            min_priority=args.min_priority,
            cwd=cwd,
            configs=resolver,
            select=select,
            ignore=ignore,
            cache_dir=cache_dir,
            follow_libs=_follow_libs(args, config),
        )

    try:
        result = run(paths)
        if args.diff or args.include_uncommitted or args.baseline or (config.baseline and not args.no_baseline):
            from loopwarden.workflow.narrow import WorkflowError, narrow

            try:
                result, render = narrow(result, args, config, run)
            except WorkflowError as exc:
                raise _UsageError(str(exc)) from None
    except (ConfigError, CatalogError, PatternError) as exc:
        raise _UsageError(str(exc)) from None
    shown = safe_result(result)  # undecodable file names escaped (report.source.safe_path)

    def config_of(display: str) -> Config:
        return configs.for_path(os.path.join(cwd, display))

    _say_which_config_governs(result, configs, cwd, verbose=args.verbose)
    if result.cache_warning:
        print(f"loopwarden: warning: {result.cache_warning}", file=sys.stderr)
    for warning in getattr(result.libraries, "warnings", ()):
        print(f"loopwarden: warning: {warning}", file=sys.stderr)
    for pattern in result.unused_excludes:
        print(f"loopwarden: warning: --exclude {pattern!r} matched nothing", file=sys.stderr)
    for name, importers, claimants in _group_ambiguous(result.ambiguous_imports):
        print(
            f"loopwarden: warning: import {name} (in {_some(importers)}) is provided equally by {_some(claimants)}; "
            "calls through it are not followed (scan each project separately)",
            file=sys.stderr,
        )
    if result.discovered == 0:
        where = " ".join(paths)
        if not args.allow_empty:
            for skipped in shown.skipped:
                print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
            print(f"loopwarden: error: no Python files found in {where} (pass --allow-empty if that is expected)", file=sys.stderr)
            return EXIT_ERROR
        print(f"loopwarden: warning: no Python files found in {where}", file=sys.stderr)
    if args.format != "text" or args.output:  # the text report on stdout lists them itself: print each once
        for skipped in shown.skipped:
            print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    _note_internal_errors(result.skipped)
    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    # SARIF percent-encodes the file system's bytes for its URIs itself, so it gets the raw names.
    report = render(result if args.format == "sarif" else shown, args.format, color=color)
    if args.show_unresolved and args.format in ("text", "summary"):
        from loopwarden.report.text import unresolved_lines

        report += "\n".join(unresolved_lines(shown))
    if args.output:
        _write_atomically(Path(args.output), report)
    else:
        from loopwarden.report.text import fits, plain

        _write_whole(report if fits(report, sys.stdout.encoding) else plain(report, sys.stdout.encoding))
    failing = any(
        PRIORITY_RANK[f.priority] <= PRIORITY_RANK[args.fail_on or config_of(f.path).fail_on] for f in result.findings
    )
    failing_skips = [s for s in result.skipped if _is_internal(s) or not (args.skipped_ok or config_of(s.path).skipped_ok)]
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if failing or failing_skips else EXIT_CLEAN


def _cache_dir(config: Config, first_path: str, cwd: str) -> Path:
    from loopwarden.static.cache import cache_dir_for

    return cache_dir_for(config.source, config.cache_dir, first_path, cwd)


def _follow_libs(args: argparse.Namespace, config: Config) -> FollowOptions | None:
    """``loopwarden.libs.FollowOptions`` when libraries are followed (``--follow-libs`` or
    ``follow-libs = true``; ``--no-follow-libs`` wins), else None."""
    follow = args.follow_libs if args.follow_libs is not None else config.follow_libs
    if args.python and not follow:
        raise _UsageError("--python needs --follow-libs (or follow-libs = true in the configuration)")
    if not follow:
        return None
    from loopwarden.libs import FollowOptions

    no_cache = args.no_cache or os.environ.get("LOOPWARDEN_NO_CACHE", "") not in ("", "0")
    return FollowOptions(python=args.python, cache_dir=config.libs_cache_dir, use_cache=not no_cache)


def _selectors(option: str, values: list[str] | None, check: Callable[[list[str]], list[str]]) -> list[str] | None:
    if values is None:
        return None
    try:
        return check(values)
    except ValueError as exc:
        raise _UsageError(f"{option}: {exc}") from None


def _group_ambiguous(entries: Iterable[tuple[str, str, tuple[str, ...]]]) -> list[tuple[str, list[str], tuple[str, ...]]]:
    grouped: dict[str, tuple[list[str], tuple[str, ...]]] = {}
    for importer, name, claimants in entries:
        grouped.setdefault(name, ([], claimants))[0].append(importer)
    return [(name, importers, claimants) for name, (importers, claimants) in sorted(grouped.items())]


def _some(paths: Iterable[str], limit: int = 3) -> str:
    paths = list(paths)
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _say_which_config_governs(result: ScanResult, configs: ConfigResolver, cwd: str, verbose: bool) -> None:
    """One line per configuration: always when several govern the scan, else with --verbose."""
    governed: dict[int, tuple[Config, list[str]]] = {}
    by_directory: dict[str, list[str]] = {}  # one lookup per directory, not per file
    for path in result.scanned:
        by_directory.setdefault(os.path.dirname(path), []).append(path)
    for directory, paths in by_directory.items():
        config = configs.for_directory(os.path.abspath(os.path.join(cwd, directory)))
        governed.setdefault(id(config), (config, []))[1].extend(paths)
    if not verbose and len(governed) < 2:
        return
    for config, files in sorted(governed.values(), key=lambda item: (item[0].source is None, str(item[0].source))):
        where = os.path.commonpath([os.path.dirname(f) or "." for f in files]) or "."
        if config.source is None:
            name = "built-in defaults (no pyproject.toml with [tool.loopwarden] above them)"
        else:
            name = os.path.relpath(config.source, cwd) if not os.path.relpath(config.source, cwd).startswith("..") else str(config.source)
        print(f"loopwarden: config {name} governs {len(files)} file(s) under {where}/", file=sys.stderr)


def _write_whole(report: str) -> None:
    """Write the report with SIGINT/SIGTERM held back, so that a signal never cuts it short
    (it takes effect once the report is out)."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # Windows, or not the main thread
        old = None
    try:
        sys.stdout.write(report)
        sys.stdout.flush()
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _is_internal(skipped: Skipped) -> bool:
    """A bug in loopwarden, not an input that cannot be scanned: --skipped-ok never hides it."""
    from loopwarden.static.summary import INTERNAL_ERROR

    return bool(skipped.reason.startswith(INTERNAL_ERROR))


def _note_internal_errors(skipped: list[Skipped]) -> None:
    from loopwarden.static.summary import INTERNAL_ERROR

    count = sum(1 for s in skipped if s.reason.startswith(INTERNAL_ERROR))
    if count:
        print(
            f"loopwarden: {count} internal error(s) above: bugs in loopwarden, please report them; "
            "each cost only the unit it names, the rest of the report is complete",
            file=sys.stderr,
        )


def _write_atomically(path: Path, text: str) -> None:
    """Replace a regular file in one step (readers never see half a report), through
    symlinks, keeping its permissions; write straight into devices and pipes."""
    from loopwarden._files import replace_atomically

    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise _UsageError(f"{path}: is a directory")
    if target.exists() and not target.is_file():  # /dev/null, a FIFO: not ours to replace
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    try:
        replace_atomically(target, text)
    except OSError as exc:
        raise _UsageError(f"{path}: cannot write: {exc.strerror}") from None


if __name__ == "__main__":
    raise SystemExit(main())
