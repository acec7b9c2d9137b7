"""Baselines: the findings a project has accepted for now, by key with a count per key.

The file is JSON, sorted and stable so that its diffs read well in review::

    {
      "tool": "loopwarden",
      "baseline": 1,
      "findings": {
        "src/app/store.py::Store.load::builtins.open": 1
      }
    }

Keys are ``<path>::<function>::<symbol>`` with the path relative to the project root (the
directory of the pyproject.toml in use, else the baseline file's directory), so moving lines,
or running from another directory, changes nothing, and a second copy of the same call in the
same function is still new (the count grows).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopwarden.config import Config
    from loopwarden.static.findings import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written: one line, exit code 2."""


@dataclass(frozen=True)
class Applied:
    reported: tuple[Finding, ...]  # findings not covered by the baseline
    known: int  # findings the baseline covers (not reported)
    stale: tuple[tuple[str, int], ...]  # (key, count) entries that no longer occur


def key_root(config: Config | None, baseline_file: str) -> str:
    """The directory key paths are relative to: the project's, else the baseline file's."""
    source = getattr(config, "source", None)
    if source is not None:
        return os.path.dirname(os.path.abspath(str(source)))
    return os.path.dirname(os.path.abspath(baseline_file))


def relative_path(path: str, base_dir: str, cwd: str) -> str:
    """A report path (relative to ``cwd``, or absolute) relative to ``base_dir``, posix."""
    full = os.path.normpath(os.path.join(cwd, path))
    try:
        return os.path.relpath(full, base_dir).replace(os.sep, "/")
    except ValueError:  # another drive on Windows
        return full


def finding_key(finding: Finding, base_dir: str, cwd: str) -> str:
    return f"{relative_path(finding.path, base_dir, cwd)}::{finding.function}::{finding.symbol}"


def counts(findings: Iterable[Finding], base_dir: str, cwd: str) -> dict[str, int]:
    return dict(sorted(Counter(finding_key(f, base_dir, cwd) for f in findings).items()))


def load(path: str) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file (create it with `loopwarden baseline`)") from None
    except IsADirectoryError:
        raise BaselineError(f"{path}: is a directory, not a baseline file") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not a baseline file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON at line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("tool") != "loopwarden" or "findings" not in data:
        raise BaselineError(f'{path}: not a loopwarden baseline (expected {{"tool": "loopwarden", "findings": {{...}}}})')
    if data.get("baseline") != FORMAT_VERSION:
        raise BaselineError(f"{path}: baseline format {data.get('baseline')!r} is not supported (expected {FORMAT_VERSION})")
    entries = data["findings"]
    if not isinstance(entries, dict):
        raise BaselineError(f"{path}: findings must be an object of key -> count")
    for key, count in entries.items():
        if key.count("::") < 2 or not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BaselineError(f"{path}: bad entry {key!r}: {count!r} (expected \"path::function::symbol\": count >= 1)")
    return dict(entries)


def dumps(entries: dict[str, int]) -> str:
    doc = {"tool": "loopwarden", "baseline": FORMAT_VERSION, "findings": dict(sorted(entries.items()))}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: keep it, escaped
        text = json.dumps(doc, indent=2) + "\n"
    return text


def apply(findings: Sequence[Finding], entries: dict[str, int], base_dir: str, cwd: str) -> Applied:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[finding_key(finding, base_dir, cwd)].append(finding)
    reported = []
    known = 0
    for key, group in groups.items():
        allowed = entries.get(key, 0)
        known += min(allowed, len(group))
        reported += group[allowed:]  # the later copies are the new ones
    stale = tuple((key, count - len(groups.get(key, ()))) for key, count in sorted(entries.items()) if count > len(groups.get(key, ())))
    reported.sort(key=lambda f: f.sort_key)
    return Applied(tuple(reported), known, stale)


def growth(old: dict[str, int], new: dict[str, int]) -> list[tuple[str, int]]:
    """Keys whose count would rise, with by how much."""
    return [(key, count - old.get(key, 0)) for key, count in sorted(new.items()) if count > old.get(key, 0)]


def write(path: str, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    from loopwarden._files import replace_atomically

    if os.path.isdir(path):
        raise BaselineError(f"{path}: is a directory")
    try:
        replace_atomically(path, text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write: {exc.strerror}") from None
