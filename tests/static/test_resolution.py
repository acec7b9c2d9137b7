"""What each call resolves to, function by function, on fixture projects: the edges out of
each async function (project functions it runs, ~ for inferred) and the blocking calls in it.
The fixture snapshots show one chain per finding; these pin every entry point's own edges."""

from __future__ import annotations

from loopwarden.catalog import load_catalog
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import CallGraph
from tests.static.snapshot import scan_fixture


def _edges(name: str) -> dict[str, tuple[list[str], list[str]]]:
    result = scan_fixture(name)
    index = ProgramIndex(result.modules, load_catalog())
    graph = CallGraph(index)
    found = {}
    for qualname, fn in index.functions.items():
        if fn.is_async:
            targets = sorted({("~" if e.inferred else "") + e.target for e in graph.edges[qualname]})
            found[qualname] = (targets, sorted({h.sink.symbol for h in graph.sinks[qualname]}))
    return found


def test_typed_shapes() -> None:
    assert _edges("typed_shapes") == {
        "shapes.any_is_unknown": ([], []),  # Any is unknown; `wipe` is not distinctive (two classes)
        "shapes.final_keeps_type": ([], ["pathlib.Path.exists"]),
        "shapes.field_defaults": (["shapes.Disk.wipe"], []),
        "shapes.union_of_assignments": (["~shapes.Disk.wipe", "~shapes.Memory.wipe"], []),
        "shapes.yielded": (["shapes.workspace"], ["pathlib.Path.mkdir"]),
        "shapes.dict_values": (["shapes.Disk.wipe"], []),  # and no Path.exists on the keys
        "shapes.generic": (["shapes.Repo.fetch"], []),
        "shapes.streams": ([], []),
    }


def test_dispatch() -> None:
    edges = _edges("dispatch")
    assert edges["stores.make"] == (["stores.DiskStore.__init__"], [])
    assert edges["stores.label"] == (["stores.Store.describe"], [])
    assert edges["stores.cleanup"] == (["stores.DiskStore.purge"], [])
    assert edges["stores.reset"] == (["stores.MemoryStore.purge"], [])
    assert edges["stores.cleanup_sql"] == (["stores.PgStore.purge"], [])


def test_super_and_explicit_base_calls() -> None:
    result = scan_fixture("dispatch")
    index = ProgramIndex(result.modules, load_catalog())
    graph = CallGraph(index)
    assert sorted(e.target for e in graph.edges["stores.DiskStore.__init__"]) == ["stores.Store.__init__"]
    assert sorted(e.target for e in graph.edges["stores.CacheStore.__init__"]) == ["stores.Store.__init__"]


FACTORY = """\
import time


class Store:
    def run(self, callback):
        callback()

    def save(self):
        time.sleep(1)


def build_store():
    return Store()


def make(factory):
    return factory()


def later():
    pass


async def handler():
    make(build_store).run(later)  # a callback handed to a call whose receiver needs a parameter's value
    make(build_store).save()
"""


def test_what_binding_arguments_resolved_from_a_parameter_is_not_kept(tmp_path) -> None:
    """Arguments are bound to parameters by resolving every call that passes a function;
    while that runs, parameters have no values yet. What those resolutions found without
    reading a parameter is kept; what read one (``make(build_store)``) is resolved again."""
    from loopwarden.static.scan import scan

    (tmp_path / "svc.py").write_text(FACTORY, encoding="utf-8")
    result = scan([str(tmp_path)], load_catalog(), cwd=str(tmp_path), jobs=1)
    index = ProgramIndex(result.modules, load_catalog())
    graph = CallGraph(index)
    assert sorted(e.target for e in graph.edges["svc.handler"]) == ["svc.Store.run", "svc.Store.save", "svc.make", "svc.make"]
    assert [(f.symbol, f.function) for f in result.findings] == [("time.sleep", "Store.save")]
