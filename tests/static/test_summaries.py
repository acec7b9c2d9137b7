"""Per-file summaries: plain, picklable, and recording offload sites with exact positions
(teeth verification will mutate those later)."""

from __future__ import annotations

import pickle

from loopwarden.catalog import default_catalog
from loopwarden.static.discover import discover
from loopwarden.static.scan import analyze_file, extract_options
from loopwarden.static.summary import ModuleSummary

SOURCE = '''\
import asyncio
import functools
from pathlib import Path


def read(p):
    return Path(p).read_text()


async def handler(loop, p):
    a = await asyncio.to_thread(read, p)
    b = await loop.run_in_executor(None, functools.partial(read, p))
    c = await asyncio.to_thread(lambda: read(p))
    return a, b, c
'''


def _summary(tmp_path) -> ModuleSummary:
    (tmp_path / "svc.py").write_text(SOURCE)
    files, _ = discover(["."], [], True, cwd=str(tmp_path))
    result = analyze_file(files[0], extract_options(default_catalog()), 1 << 20)
    assert isinstance(result, ModuleSummary)
    return result


def test_summary_round_trips_through_pickle(tmp_path):
    summary = _summary(tmp_path)
    again = pickle.loads(pickle.dumps(summary))
    assert again == summary
    assert set(again.functions) == {"svc.<module>", "svc.read", "svc.handler"}


def test_offload_sites_have_exact_positions(tmp_path):
    summary = _summary(tmp_path)
    sites = [(o.wrapper, o.line, o.col, o.end_line, o.end_col, o.callable_span, o.function) for o in summary.offloads]
    assert sites == [
        ("asyncio.to_thread", 11, 14, 11, 40, (11, 32, 11, 36), "svc.handler"),
        ("loop.run_in_executor", 12, 14, 12, 68, (12, 41, 12, 67), "svc.handler"),
        ("asyncio.to_thread", 13, 14, 13, 48, (13, 32, 13, 47), "svc.handler"),
    ]


def test_calls_inside_offloaded_lambda_are_marked_offloaded(tmp_path):
    summary = _summary(tmp_path)
    calls = [c for c in summary.functions["svc.handler"].calls if c.ref == ("name", "svc.read") and c.kind == "call"]
    assert [(c.line, c.offloaded) for c in calls] == [(13, True)]
