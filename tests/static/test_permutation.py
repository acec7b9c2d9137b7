"""Results do not depend on the order of files, the order of definitions, --jobs or the
hash seed.

Each fixture project is copied with its function definitions shuffled (at module level and
inside classes, where Python semantics allow it: a name defined twice in one scope keeps
its order), its files listed in another order, and scanned with other --jobs; every line
of the report is mapped back to the original file and the report must be identical.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loopwarden.catalog import load_catalog
from loopwarden.config import find_pyproject, load_config
from loopwarden.static import scan as scan_module
from loopwarden.static.scan import ScanResult, scan
from tests.static.snapshot import FIXTURES, fixture_names

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _start(stmt: ast.stmt) -> int:
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])


def _order(stmts: list[ast.stmt], first: int, end: int, rng: random.Random) -> list[int]:
    """Original line numbers [first, end] in a new order: function definitions (each with
    the lines that follow it up to the next statement) trade places; class bodies recurse."""
    if not stmts:
        return list(range(first, end + 1))
    starts = [_start(s) for s in stmts]
    segments: list[list[int]] = [list(range(first, starts[0]))] if stmts and starts[0] > first else []
    movable: list[int] = []
    names = [s.name for s in stmts if isinstance(s, (*_DEFS, ast.ClassDef))]
    for i, stmt in enumerate(stmts):
        stop = starts[i + 1] - 1 if i + 1 < len(stmts) else end
        if isinstance(stmt, ast.ClassDef) and stmt.body and _start(stmt.body[0]) > stmt.lineno:
            body_first = _start(stmt.body[0])
            inner = _order(stmt.body, body_first, stmt.end_lineno or body_first, rng)
            segment = [*range(starts[i], body_first), *inner, *range((stmt.end_lineno or body_first) + 1, stop + 1)]
        else:
            segment = list(range(starts[i], stop + 1))
        if isinstance(stmt, _DEFS) and names.count(stmt.name) == 1 and stop >= (stmt.end_lineno or 0):
            movable.append(len(segments))
        segments.append(segment)
    shuffled = [segments[i] for i in movable]
    rng.shuffle(shuffled)
    for slot, segment in zip(movable, shuffled, strict=True):
        segments[slot] = segment
    return [line for segment in segments for line in segment]


def _permute_file(path: Path, rng: random.Random) -> dict[int, int]:
    """Rewrites the file with its definitions shuffled; returns new line -> original line."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    order = _order(tree.body, 1, len(lines), rng)
    assert sorted(order) == list(range(1, len(lines) + 1)), path
    path.write_text("\n".join(lines[n - 1] for n in order), encoding="utf-8")
    return {new: old for new, old in enumerate(order, start=1)}


def _permuted_copy(name: str, destination: Path, seed: int) -> dict[str, dict[int, int]]:
    shutil.copytree(FIXTURES / name, destination)
    rng = random.Random(seed)
    maps = {}
    for path in sorted(destination.rglob("*.py")):
        maps[path.relative_to(destination).as_posix()] = _permute_file(path, rng)
    return maps


def _scan(root: Path, jobs: int) -> ScanResult:
    config = load_config(find_pyproject(root) if (root / "pyproject.toml").exists() else None)
    catalog = load_catalog(config.catalog, str(root / "pyproject.toml"))
    paths_file = root / "paths.txt"
    paths = paths_file.read_text().split() if paths_file.exists() else ["."]
    return scan(paths, catalog, excludes=["expected.txt", *config.exclude], jobs=jobs, cwd=str(root))


def _normal(result: ScanResult, maps: dict[str, dict[int, int]]) -> list[str]:
    def line(path: str, number: int) -> int:
        return maps.get(path, {}).get(number, number)

    def name(function: str, path: str) -> str:  # `handler@14`: a line number inside a name
        return re.sub(r"@(\d+)", lambda m: f"@{line(path, int(m.group(1)))}", function)

    out = []
    for f in result.findings:
        chain = " ".join(f"{name(s.function, s.path)}:{s.path}:{line(s.path, s.line)}:{s.inferred}:{s.elided}" for s in f.chain)
        out.append(
            f"{f.priority} {f.path}:{line(f.path, f.line)}:{f.column} {name(f.function, f.path)} {f.symbol} "
            f"{f.exposure} {f.inferred} {name(f.reason, f.path)!r} [{chain}]"
        )
    out += [f"SKIPPED {s.path} {s.reason}" for s in result.skipped]
    out.append(f"SUPPRESSED {result.suppressed}")
    return sorted(out)


@pytest.mark.parametrize("name", fixture_names())
def test_definition_and_file_order_and_jobs_do_not_change_the_report(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = _normal(_scan(FIXTURES / name, jobs=1), {})
    maps = _permuted_copy(name, tmp_path / "seed1", 1)
    assert _normal(_scan(tmp_path / "seed1", jobs=1), maps) == baseline
    monkeypatch.setattr(scan_module, "_PARALLEL_THRESHOLD", 0)  # really use worker processes
    discover = scan_module.discover_all

    def reversed_discover(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = discover(*args, **kwargs)
        return dataclasses.replace(found, files=found.files[::-1], skipped=found.skipped[::-1])

    monkeypatch.setattr(scan_module, "discover_all", reversed_discover)  # the files in the other order
    maps = _permuted_copy(name, tmp_path / "seed2", 2)
    assert _normal(_scan(tmp_path / "seed2", jobs=2), maps) == baseline


def test_hash_seed_does_not_change_the_report() -> None:
    """Every fixture project at once, in worker processes, under two hash seeds."""
    reports = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-m", "loopwarden", "scan", "--format", "json", "--jobs", "2", "."],
            cwd=FIXTURES,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode in (0, 1), proc.stderr
        report = json.loads(proc.stdout)
        assert len(report["findings"]) > 50
        report.pop("duration_seconds", None)
        reports.append(json.dumps(report, sort_keys=True))
    assert reports[0] == reports[1]
