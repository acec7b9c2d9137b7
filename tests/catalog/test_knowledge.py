"""Knowledge about frameworks and libraries lives in the catalogue, not in the analysis code:
each table below is read by the scanner (changing it changes a result on a tiny project),
is validated with an error naming its file and key, and is listed in the generated docs."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

import pytest

from loopwarden.catalog import Catalog, CatalogError, Startup, default_catalog, load_catalog
from loopwarden.catalog import categories as categories_module
from loopwarden.catalog.docgen import render
from loopwarden.static import scan as scan_module
from loopwarden.static.extract import ExtractOptions, catalogue_knowledge, extract_module
from loopwarden.static.findings import Finding
from loopwarden.static.scan import scan
from loopwarden.static.summary import ModuleSummary


def _scan(tmp_path: Path, code: str, catalog: Catalog | None = None) -> list[Finding]:
    (tmp_path / "svc.py").write_text(code, encoding="utf-8")
    result = scan([str(tmp_path / "svc.py")], catalog or default_catalog(), respect_gitignore=False, cwd=str(tmp_path))
    return sorted(result.findings, key=lambda f: f.sort_key)


def _functions(code: str, options: ExtractOptions) -> dict[str, tuple[bool, bool]]:
    """(is_startup, is_cached) of each function, and the start-up callables as "<startup>"."""
    summary = extract_module(ast.parse(code), ModuleSummary(path="svc.py", module="svc", aliases=(), is_test=False, lines=code.count("\n")), options, "")
    found = {name.rpartition(".")[2]: (fn.is_startup, fn.is_cached) for name, fn in summary.functions.items()}
    found["<startup>"] = (bool(summary.startup_refs), False)
    return found


# -- categories: fix texts and handles (catalog/categories.py) -------------------------------

SLEEPER = "import time\n\n\nasync def tick():\n    time.sleep(1)\n"


def test_fix_text_comes_from_the_category(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (finding,) = _scan(tmp_path, SLEEPER)
    assert finding.fix == categories_module.CATEGORIES["SLEEP"].fix == "use await asyncio.sleep(...)"
    changed = dataclasses.replace(categories_module.CATEGORIES["SLEEP"], fix="nap elsewhere")
    monkeypatch.setitem(categories_module.CATEGORIES, "SLEEP", changed)
    (finding,) = _scan(tmp_path, SLEEPER)
    assert finding.fix == "nap elsewhere"
    monkeypatch.setitem(categories_module.CATEGORIES, "SLEEP", dataclasses.replace(changed, fix=""))
    (finding,) = _scan(tmp_path, SLEEPER)
    assert finding.fix == "offload with await asyncio.to_thread(time.sleep, ...)"


HANDLE = "import subprocess\n\n\nasync def run():\n    proc = subprocess.Popen(['ls'])\n    proc.wait()\n"


def test_handle_categories_come_from_the_category(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [f.symbol for f in _scan(tmp_path, HANDLE)] == ["subprocess.Popen"]  # wait() is the Popen's
    category = categories_module.CATEGORIES["SUBPROCESS"]
    monkeypatch.setitem(categories_module.CATEGORIES, "SUBPROCESS", dataclasses.replace(category, handle=False))
    assert [f.symbol for f in _scan(tmp_path, HANDLE)] == ["subprocess.Popen", "subprocess.Popen.wait"]


def test_cost_rank_follows_costs() -> None:
    assert sorted(categories_module.COSTS, key=categories_module.COST_RANK.__getitem__) == ["free", "cheap", "heavy"]


# -- [names] common_methods (read by reach) --------------------------------------------------

GUESSED = """\
import time


class Store:
    def persist_all(self):
        time.sleep(1)


async def handler(store):
    store.persist_all()
"""


def test_common_methods_are_read_from_the_catalogue(tmp_path: Path) -> None:
    (finding,) = _scan(tmp_path, GUESSED)
    assert finding.inferred and finding.function == "Store.persist_all"
    catalog = load_catalog({"names": {"common_methods": ["persist_all"]}})
    assert "get" in catalog.common_methods and "persist_all" in catalog.common_methods
    assert _scan(tmp_path, GUESSED, catalog) == []


def test_a_common_method_is_not_guessed(tmp_path: Path) -> None:
    assert "save" in default_catalog().common_methods
    assert _scan(tmp_path, GUESSED.replace("persist_all", "save")) == []


# -- [startup] and [names] caching_decorators (read by extract) -------------------------------

STARTUP = """\
import functools


@app.on_event("startup")
async def boot():
    pass


@app.on_boot("startup")
async def boot_too():
    pass


@functools.lru_cache
def settings():
    pass


@memo_forever
def other():
    pass


app.add_event_handler("shutdown", boot_too)
"""


def test_startup_and_caching_tables_drive_extraction() -> None:
    built_in = _functions(STARTUP, ExtractOptions())
    assert built_in["boot"] == (True, False) and built_in["boot_too"] == (False, False)
    assert built_in["settings"] == (False, True) and built_in["other"] == (False, False)
    assert built_in["<startup>"] == (True, False)  # add_event_handler("shutdown", boot_too)

    catalog = load_catalog({"startup": {"decorators": ["on_boot"]}, "names": {"caching_decorators": ["memo_forever"]}})
    extended = _functions(STARTUP, ExtractOptions(**catalogue_knowledge(catalog)))
    assert extended["boot"] == (True, False) and extended["boot_too"] == (True, False)
    assert extended["settings"] == (False, True) and extended["other"] == (False, True)

    nothing = _functions(STARTUP, ExtractOptions(startup=Startup(), caching_decorators=frozenset()))
    assert not any(startup or cached for startup, cached in nothing.values())


def test_a_user_catalogue_table_reaches_the_per_file_phase_of_a_scan(tmp_path: Path) -> None:
    """A project's [tool.loopwarden.catalog] knowledge tables (here a thread runner of its
    own) are handed to extraction by the scan itself, not only by ExtractOptions(...)."""
    code = "import time\nfrom myjobs import spawn_worker\n\n\nasync def later():\n    spawn_worker(lambda: time.sleep(1))\n"
    assert [f.function for f in _scan(tmp_path, code)] == ["later.<lambda>"]  # a lambda handed to an unknown call: assumed run here
    catalog = load_catalog({"thread_runner": [{"name": "myjobs.spawn_worker", "callable_arg": 0, "keyword": "fn"}]})
    assert _scan(tmp_path, code, catalog) == []

    no_events = _functions(STARTUP, ExtractOptions(startup=dataclasses.replace(default_catalog().startup, events=frozenset())))
    assert no_events["boot"] == (False, False) and no_events["<startup>"] == (False, False)


def test_startup_keywords_are_read_from_the_catalogue() -> None:
    code = "async def lifespan_fn(app):\n    pass\n\n\napp = Starlette(lifespan=lifespan_fn)\napp2 = Starlette(on_boot=[lifespan_fn])\n"
    assert _functions(code, ExtractOptions())["<startup>"] == (True, False)
    only_boot = dataclasses.replace(default_catalog().startup, keywords=frozenset({"on_boot"}))
    assert _functions(code, ExtractOptions(startup=only_boot))["<startup>"] == (True, False)
    assert _functions(code, ExtractOptions(startup=dataclasses.replace(only_boot, keywords=frozenset())))["<startup>"] == (False, False)


def test_extract_options_default_to_the_built_in_tables() -> None:
    options = ExtractOptions()
    assert options.startup == default_catalog().startup
    assert options.startup.events == {"startup", "shutdown"}
    assert options.caching_decorators == default_catalog().caching_decorators


def test_extract_options_from_a_catalogue() -> None:
    catalog = load_catalog({"startup": {"keywords": ["on_boot"]}, "thread_runner": [{"method": "spawn", "callable_arg": 0, "keyword": "fn"}]})
    options = ExtractOptions(**catalogue_knowledge(catalog))
    assert "on_boot" in options.startup.keywords and "lifespan" in options.startup.keywords
    assert options.thread_runner_methods["spawn"] == (0, "fn") and options.thread_runners["threading.Thread"] == (1, "target")
    assert ExtractOptions(**catalogue_knowledge(default_catalog())) == ExtractOptions()


# -- [iteration], [[thread_runner]], [names] field_helpers: the per-file tables, end to end ---


def _scan_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, **changes: object) -> list[tuple[str, str, int]]:
    """Findings (symbol, function, line) when the per-file phase gets these option fields."""
    if changes:
        built = scan_module.extract_options
        monkeypatch.setattr(scan_module, "extract_options", lambda catalog: dataclasses.replace(built(catalog), **changes))
    found = [(f.symbol, f.function, f.line) for f in _scan(tmp_path, code)]
    monkeypatch.undo()
    return found


THREAD = "import threading\nimport time\n\n\nasync def later():\n    threading.Thread(target=lambda: time.sleep(1)).start()\n"


def test_thread_runners_are_read_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _scan_with(tmp_path, monkeypatch, THREAD) == []  # the lambda runs in the thread
    assert _scan_with(tmp_path, monkeypatch, THREAD, thread_runners={}) == [("time.sleep", "later.<lambda>", 6)]


CONSUME = "from pathlib import Path\n\n\nasync def names():\n    return list(Path('.').glob('*.txt'))\n"
PRESERVE = "from pathlib import Path\n\n\nasync def first():\n    for path in sorted(Path('.').glob('*.txt')):\n        return path.read_text()\n"
FOLD = "import functools\nimport time\n\n\ndef slow(a, b):\n    time.sleep(1)\n    return a\n\n\nasync def fold(items):\n    return functools.reduce(slow, items)\n"


def test_iteration_table_is_read_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    iteration = default_catalog().iteration
    assert _scan_with(tmp_path, monkeypatch, CONSUME) == [("pathlib.Path.glob", "names", 5)]
    assert _scan_with(tmp_path, monkeypatch, CONSUME, iteration=dataclasses.replace(iteration, consumers=frozenset())) == []
    both = [("pathlib.Path.glob", "first", 5), ("pathlib.Path.read_text", "first", 6)]
    assert _scan_with(tmp_path, monkeypatch, PRESERVE) == both
    assert _scan_with(tmp_path, monkeypatch, PRESERVE, iteration=dataclasses.replace(iteration, item_preserving=())) == both[:1]
    assert _scan_with(tmp_path, monkeypatch, FOLD) == [("time.sleep", "slow", 6)]
    assert _scan_with(tmp_path, monkeypatch, FOLD, iteration=dataclasses.replace(iteration, function_first=frozenset())) == []


FIELD = """\
import time
from pydantic import BaseModel
from mylib import Entry


class Store:
    def save(self):
        time.sleep(1)


class Model(BaseModel):
    store = Entry(default_factory=Store)


async def persist(model: Model):
    model.store.save()
"""


def test_field_helpers_are_read_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _scan_with(tmp_path, monkeypatch, FIELD) == []  # Entry is not a known field helper
    assert _scan_with(tmp_path, monkeypatch, FIELD, field_helpers=frozenset({"Entry"})) == [("time.sleep", "Store.save", 8)]
    pydantic = FIELD.replace("from mylib import Entry", "from pydantic import Field").replace("Entry(", "Field(")
    assert _scan_with(tmp_path, monkeypatch, pydantic) == [("time.sleep", "Store.save", 8)]


# -- [types] memory (read by index and reach) --------------------------------------------------

MEMORY = "import io\nimport tarfile\n\n\nasync def unpack(data: bytes):\n    tarfile.open(fileobj=io.BytesIO(data))\n"


def test_memory_types_are_read_from_the_catalogue(tmp_path: Path) -> None:
    assert "io.BytesIO" in default_catalog().memory_types
    assert _scan(tmp_path, MEMORY) == []  # reads the bytes, not a file
    without = copy.deepcopy(default_catalog())
    without.memory_types = frozenset()
    assert [f.symbol for f in _scan(tmp_path, MEMORY, without)] == ["tarfile.open"]


# -- validation and docs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"names": ["get"]}, "pyproject.toml [tool.loopwarden.catalog]: names: expected a table"),
        ({"names": {"common": ["get"]}}, "names: unknown key(s) ['common']"),
        ({"names": {"common_methods": "get"}}, "names.common_methods: expected a list of strings"),
        ({"names": {"caching_decorators": ["functools.cache"]}}, "names.caching_decorators: not identifiers: ['functools.cache']"),
        ({"startup": {"events": [1]}}, "startup.events: expected a list of strings"),
        ({"startup": {"hooks": []}}, "startup: unknown key(s) ['hooks']"),
        ({"startup": "on_event"}, "startup: expected a table"),
        ({"startup": {"keywords": ["on-startup"]}}, "startup.keywords: not identifiers"),
        ({"types": {"memory": "io.BytesIO"}}, "types.memory: expected a list of strings"),
        ({"types": {"buffers": []}}, "types: unknown key(s) ['buffers']"),
        ({"iteration": {"consumers": [1]}}, "iteration.consumers: expected a list of strings"),
        ({"iteration": {"item_preserving": {"toolz.unique": -1}}}, "iteration.item_preserving: 'toolz.unique': expected a non-negative"),
        ({"iteration": {"eager": []}}, "iteration: unknown key(s) ['eager']"),
        ({"thread_runner": [{"name": "pool.spawn", "callable_arg": 0}]}, "thread_runner[0]: 'keyword' must be"),
        ({"thread_runner": [{"name": "a.b", "method": "b", "keyword": "fn"}]}, "thread_runner[0]: give exactly one of"),
        ({"names": {"field_helpers": [""]}}, "names.field_helpers: not identifiers"),
    ],
)
def test_bad_tables_name_file_and_key(table: dict, message: str) -> None:
    with pytest.raises(CatalogError, match=None) as caught:
        load_catalog(table)
    assert message in str(caught.value)
    assert str(caught.value).startswith("pyproject.toml [tool.loopwarden.catalog]: ")


def test_docs_list_the_tables() -> None:
    text = render()
    assert "## Start-up registration" in text and "`add_event_handler`" in text and "`lifespan`" in text
    assert f"`[names]` lists {len(default_catalog().common_methods)} method names" in text
    assert "A finding in async code itself suggests: use await asyncio.sleep(...)." in text
    assert "- `threading.Thread`: callable at positional argument 1 or `target=`" in text
    assert "`[types] memory` names the 6 in-memory buffer types" in text and "`[iteration]` lists" in text


def test_external_categories_are_mocked_in_anchors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loopwarden.fix.anchor import find_target, scaffold

    assert {n for n, c in categories_module.CATEGORIES.items() if c.external} == {"SUBPROCESS", "NETWORK", "DNS", "SDK"}
    monkeypatch.chdir(tmp_path)
    findings = _scan(tmp_path, SLEEPER)
    target = find_target(findings, "svc.py::tick::time.sleep")
    assert target is not None
    assert 'monkeypatch.setattr("time.sleep"' not in scaffold(target, "asyncio")  # a sleep is not external
    category = categories_module.CATEGORIES["SLEEP"]
    monkeypatch.setitem(categories_module.CATEGORIES, "SLEEP", dataclasses.replace(category, external=True))
    assert 'monkeypatch.setattr("time.sleep", _fake_sleep)' in scaffold(target, "asyncio")


def test_per_file_defaults_read_only_the_knowledge_file() -> None:
    """The per-file phase's defaults come from knowledge.toml alone (cheap to parse), and agree
    with the whole built-in catalogue, which loads that file after blocking.toml."""
    from loopwarden.catalog import builtin_knowledge

    knowledge = builtin_knowledge()
    assert not knowledge.sinks and not knowledge.offloads and knowledge.startup.events
    assert ExtractOptions(**catalogue_knowledge(knowledge)) == ExtractOptions(**catalogue_knowledge(default_catalog()))
