"""Command line: ``loopwarden COMMAND ...``.

Each subcommand other than ``scan`` lives in its own module, listed in ``COMMANDS``, which
exposes ``add_parser(subparsers)`` (argument definitions only, cheap to import) and
``run(args) -> int``.

Exit codes: 0 clean; 1 findings at or above --fail-on, or an input that could not be
scanned (an internal error in one unit skips that unit: exit 1, the rest of the report is
complete); 2 usage or configuration error; 3 internal error that stopped the whole run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from loopwarden import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
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
        description="Report every blocking call reachable from the event loop, with the call chain that exposes it.",
    )
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: the current directory)")
    scan.add_argument("--format", choices=("text", "summary", "json", "sarif", "github", "gitlab"), default="text")
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    scan.add_argument("--min-priority", type=_priority, default=None, metavar="LEVEL", help="report only findings at or above LEVEL (HIGH, MEDIUM, LOW)")
    scan.add_argument("--fail-on", type=_priority, default=None, metavar="LEVEL", help="exit 1 when a finding is at or above LEVEL (default HIGH)")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="gitignore-style pattern to skip (repeatable)")
    scan.add_argument("--no-gitignore", action="store_true", help="scan files that .gitignore excludes")
    scan.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N", help="worker processes for per-file analysis (default: number of cores)")
    scan.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file instead of the nearest pyproject.toml")
    scan.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    # Changed-code mode and baselines (loopwarden.workflow, docs/ci.md).
    scan.add_argument("--diff", metavar="BASE", help="report only what the change from the merge base with BASE (a git revision) introduces")
    scan.add_argument("--include-uncommitted", action="store_true", help="with --diff: include the index's and working tree's changes")
    scan.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE (see `loopwarden baseline`)")
    scan.add_argument("--no-baseline", action="store_true", help="ignore the configured baseline")
    scan.add_argument("--show-unresolved", action="store_true", help="list the calls the scanner cannot resolve in code that runs on the loop")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    if args.command != "scan" and args.command not in COMMANDS:
        parser.print_help()
        return EXIT_ERROR if args.command is None and argv else EXIT_CLEAN
    try:
        if args.command == "scan":
            return _scan(args)
        return int(importlib.import_module(COMMANDS[args.command]).run(args))
    except _UsageError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("loopwarden: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in loopwarden: say so in one line, with its own exit code
        where = _innermost_frame(exc)
        print(f"loopwarden: internal error: {type(exc).__name__}: {exc} ({where}); please report it", file=sys.stderr)
        return EXIT_INTERNAL


def _innermost_frame(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "unknown location"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


class _UsageError(Exception):
    pass


def _scan(args: argparse.Namespace) -> int:
    from loopwarden.catalog import CatalogError, load_catalog
    from loopwarden.config import ConfigError, find_pyproject, load_config
    from loopwarden.report import render
    from loopwarden.static.discover import PatternError
    from loopwarden.static.findings import PRIORITY_RANK
    from loopwarden.static.scan import scan

    paths = args.paths or ["."]
    try:
        pyproject = Path(args.config) if args.config else find_pyproject(Path(paths[0]) if os.path.exists(paths[0]) else Path.cwd())
        if args.config and not pyproject.is_file():
            raise ConfigError(f"{args.config}: {'is a directory' if pyproject.is_dir() else 'no such file'}")
        config = load_config(pyproject)
        catalog = load_catalog(config.catalog, str(pyproject) if pyproject else "pyproject.toml")
    except (ConfigError, CatalogError) as exc:
        raise _UsageError(str(exc)) from None
    fail_on = args.fail_on or config.fail_on

    def run(scan_paths: list[str], cwd: str | None = None, config_dir: str | None = None):
        anchor = config_dir or (str(config.source.parent) if config.source is not None else None)
        return scan(
            scan_paths,
            catalog,
            excludes=args.exclude if config.source is not None else [*config.exclude, *args.exclude],
            respect_gitignore=config.respect_gitignore and not args.no_gitignore,
            max_file_size=config.max_file_size,
            jobs=args.jobs or os.cpu_count() or 1,
            min_priority=args.min_priority or config.min_priority,
            cwd=cwd,
            anchored_excludes=(config.exclude, anchor) if anchor is not None else None,
        )

    try:
        result = run(paths)
        if args.diff or args.include_uncommitted or args.baseline or (config.baseline and not args.no_baseline):
            from loopwarden.workflow.narrow import WorkflowError, narrow

            try:
                result, render = narrow(result, args, config, run)
            except WorkflowError as exc:
                raise _UsageError(str(exc)) from None
    except PatternError as exc:
        raise _UsageError(str(exc)) from None
    for skipped in result.skipped:
        print(f"loopwarden: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    _note_internal_errors(result.skipped)
    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    report = render(result, args.format, color=color)
    if args.show_unresolved and args.format in ("text", "summary"):
        from loopwarden.report.text import unresolved_lines

        report += "\n".join(unresolved_lines(result))
    if args.output:
        _write_atomically(Path(args.output), report)
    else:
        from loopwarden.report.text import fits, plain

        sys.stdout.write(report if fits(report, sys.stdout.encoding) else plain(report, sys.stdout.encoding))
    failing = any(PRIORITY_RANK[f.priority] <= PRIORITY_RANK[fail_on] for f in result.findings)
    return EXIT_FINDINGS if failing or result.skipped else EXIT_CLEAN


def _note_internal_errors(skipped: list) -> None:
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
    import stat
    import tempfile

    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise _UsageError(f"{path}: is a directory")
    if target.exists() and not target.is_file():  # /dev/null, a FIFO: not ours to replace
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise _UsageError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


if __name__ == "__main__":
    raise SystemExit(main())
