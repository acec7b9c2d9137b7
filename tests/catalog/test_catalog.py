"""The built-in catalogue: loads, is large enough, is well-formed, and matches what it should."""

from __future__ import annotations

import re

import pytest

from loopwarden.catalog import Catalog, CatalogError, default_catalog
from loopwarden.catalog.categories import CATEGORIES, COSTS

# A dotted Python name; an alias key may end in "()" (the result of calling an instance).
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DOTTED_CALL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_loads_with_enough_sinks(catalog: Catalog) -> None:
    assert len(catalog.sinks) >= 250


def test_every_category_has_a_sink(catalog: Catalog) -> None:
    used = {sink.category for sink in catalog.sinks.values()}
    assert set(CATEGORIES) <= used


def test_sinks_are_well_formed(catalog: Catalog) -> None:
    for symbol, sink in catalog.sinks.items():
        assert DOTTED.match(symbol), symbol
        assert sink.cost in COSTS
        assert sink.operation == symbol.rpartition(".")[2]
        if sink.yields is not None:
            assert DOTTED.match(sink.yields), (symbol, sink.yields)
            assert sink.lazy, f"{symbol}: yields only makes sense on a lazy iterator"


def test_sinks_are_canonical(catalog: Catalog) -> None:
    """An entry under an alias spelling could never match: the scanner canonicalises first."""
    assert [s for s in catalog.sinks if catalog.canonical(s) != s] == []


def test_types_are_well_formed(catalog: Catalog) -> None:
    for source, target in catalog.returns.items():
        assert DOTTED.match(source), source
        assert DOTTED.match(target), target
        assert catalog.canonical(target) == target, f"returns[{source}] = {target} is not canonical"
    for name in catalog.classes:
        assert DOTTED.match(name), name
        assert catalog.canonical(name) == name, name
    for alias, canonical in catalog.aliases.items():
        assert DOTTED_CALL.match(alias), alias
        assert DOTTED.match(canonical), canonical
        assert alias != canonical, f"self alias {alias}"
        assert catalog.canonical(canonical) == canonical, f"alias target {canonical} is itself aliased"


def test_duck_methods_are_distinctive(catalog: Catalog) -> None:
    generic = {"exists", "get", "read", "write", "open", "execute", "invoke", "run", "close", "send", "stat", "glob"}
    assert not generic & set(catalog.duck_methods)
    assert {"read_text", "write_text", "iterdir", "rglob", "is_file", "mkdir"} <= set(catalog.duck_methods)


def test_pure_computations_are_not_sinks(catalog: Catalog) -> None:
    for symbol in (
        "os.path.join", "os.path.normpath", "os.path.basename", "os.path.dirname", "os.path.splitext",
        "pathlib.Path.with_suffix", "pathlib.Path.joinpath", "pathlib.Path.__truediv__", "pathlib.Path.name",
        "json.dumps", "json.loads", "pickle.dumps", "pickle.loads", "tomllib.loads",
        "socket.socket.makefile", "sqlalchemy.orm.Session.query", "google.cloud.storage.Bucket.blob",
        "redis.Redis.pipeline", "redis.client.Pipeline.set",
    ):
        assert catalog.sink(symbol) is None, symbol


@pytest.mark.parametrize(
    ("symbol", "category", "cost"),
    [
        ("builtins.open", "FILE_OPEN", "heavy"),
        ("io.TextIOWrapper.read", "FILE_IO", "heavy"),
        ("pathlib.Path.exists", "FS_META", "cheap"),
        ("os.path.isfile", "FS_META", "cheap"),
        ("os.listdir", "FS_META", "heavy"),
        ("os.getcwd", "FS_META", "free"),
        ("shutil.rmtree", "FS_TREE", "heavy"),
        ("tempfile.mkdtemp", "TEMPFILE", "heavy"),
        ("zipfile.ZipFile.extractall", "ARCHIVE", "heavy"),
        ("subprocess.run", "SUBPROCESS", "heavy"),
        ("time.sleep", "SLEEP", "heavy"),
        ("requests.Session.get", "NETWORK", "heavy"),
        ("socket.getaddrinfo", "DNS", "heavy"),
        ("sqlite3.Cursor.execute", "DB", "heavy"),
        ("threading.Lock.acquire", "LOCK_WAIT", "cheap"),
        ("threading.Event.wait", "LOCK_WAIT", "heavy"),
        ("httpx.AsyncClient", "FILE_IO", "cheap"),  # the constructor loads the CA bundle
        ("builtins.input", "INPUT", "heavy"),
        ("boto3.Paginator.paginate", "SDK", "heavy"),
    ],
)
def test_representative_sinks(catalog: Catalog, symbol: str, category: str, cost: str) -> None:
    sink = catalog.sink(symbol)
    assert sink is not None, symbol
    assert (sink.category, sink.cost) == (category, cost)


def test_lazy_iterators(catalog: Catalog) -> None:
    for symbol, yields in (
        ("glob.iglob", None),
        ("os.walk", None),
        ("os.scandir", "os.DirEntry"),
        ("pathlib.Path.glob", "pathlib.Path"),
        ("pathlib.Path.rglob", "pathlib.Path"),
        ("pathlib.Path.iterdir", "pathlib.Path"),
    ):
        sink = catalog.sink(symbol)
        assert sink is not None and sink.lazy, symbol
        assert sink.yields == yields, symbol
    assert not catalog.sink("glob.glob").lazy  # type: ignore[union-attr]


# -- patterns --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "symbol",
    [
        "kubernetes.client.CoreV1Api.list_namespaced_pod",
        "kubernetes.client.AppsV1Api.patch_namespaced_deployment",
        "boto3.Client.put_object",
        "boto3.Client.get_object",
        "boto3.Resource.Bucket.upload_file",
        "boto3.Resource.Table.put_item",
        "elasticsearch.Elasticsearch.search",
        "elasticsearch.Elasticsearch.indices.create",
        "openai.OpenAI.chat.completions.create",
        "openai.OpenAI.embeddings.create",
        "openai.OpenAI.responses.create",
        "anthropic.Anthropic.messages.create",
        "anthropic.Anthropic.messages.count_tokens",
        "langchain_openai.ChatOpenAI.invoke",
        "langchain_core.runnables.Runnable.batch",
        "langgraph.graph.state.CompiledStateGraph.invoke",
        "langgraph.graph.state.CompiledStateGraph.stream",
        "google.cloud.storage.Blob.download_as_bytes",
        "slack_sdk.WebClient.chat_postMessage",
    ],
)
def test_sdk_patterns_match(catalog: Catalog, symbol: str) -> None:
    sink = catalog.sink(symbol)
    assert sink is not None, symbol
    assert sink.category == "SDK"
    assert sink.operation == symbol.rpartition(".")[2]


@pytest.mark.parametrize(
    "symbol",
    [
        "kubernetes.client.CoreV1Api",  # the constructor
        "kubernetes.client.CoreV1Api.api_client.close",
        "boto3.Client.get_paginator",
        "boto3.Client.generate_presigned_url",
        "boto3.Client.meta.region_name",
        "boto3.Resource.Bucket",  # builds a local object
        "boto3.Resource.Bucket.Object",
        "elasticsearch.Elasticsearch.options",
        "openai.OpenAI.with_options",
        "anthropic.Anthropic.with_options",
        "openai.AsyncOpenAI.chat.completions.create",
        "langchain_openai.ChatOpenAI.ainvoke",
        "langgraph.graph.state.CompiledStateGraph.astream",
        "google.genai.Client.aio.models.generate_content",
    ],
)
def test_sdk_pattern_excludes(catalog: Catalog, symbol: str) -> None:
    assert catalog.sink(symbol) is None, symbol


def test_pymongo_attribute_chains(catalog: Catalog) -> None:
    for symbol in (
        "pymongo.MongoClient.shop.orders.find_one",
        "pymongo.MongoClient.shop.orders.insert_many",
        "pymongo.database.Database.orders.update_one",
        "pymongo.collection.Collection.aggregate",
        "pymongo.MongoClient.list_database_names",
    ):
        sink = catalog.sink(symbol)
        assert sink is not None and sink.category == "DB", symbol
    assert catalog.sink("pymongo.MongoClient") is None
    assert catalog.sink("pymongo.MongoClient.get_database") is None
    assert catalog.sink("pymongo.AsyncMongoClient.shop.orders.find_one") is None
    assert catalog.sink("pymongo.asynchronous.collection.AsyncCollection.find_one") is None


def test_redis_sync_only(catalog: Catalog) -> None:
    assert catalog.sink("redis.Redis.get").category == "DB"  # type: ignore[union-attr]
    assert catalog.sink("redis.Redis.hsetnx").category == "DB"  # type: ignore[union-attr]  (pattern)
    assert catalog.sink("redis.client.Pipeline.execute") is not None
    for symbol in ("redis.asyncio.Redis.get", "redis.asyncio.client.Redis.set", "redis.Redis.pipeline", "redis.Redis.json"):
        assert catalog.sink(symbol) is None, symbol
    assert catalog.sink(catalog.canonical("redis.StrictRedis.get")) is not None


# -- canonical names --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("posixpath.exists", "os.path.exists"),
        ("ntpath.isfile", "os.path.isfile"),
        ("io.open", "builtins.open"),
        ("codecs.open", "builtins.open"),
        ("pathlib.PosixPath.read_text", "pathlib.Path.read_text"),
        ("typing.TextIO.read", "io.TextIOWrapper.read"),
        ("typing.BinaryIO.write", "io.TextIOWrapper.write"),
        ("io.BufferedReader.readline", "io.TextIOWrapper.readline"),
        ("requests.sessions.Session.get", "requests.Session.get"),
        ("requests.api.post", "requests.post"),
        ("redis.StrictRedis.set", "redis.Redis.set"),
        ("redis.client.Redis.get", "redis.Redis.get"),
        ("sqlalchemy.orm.session.Session.execute", "sqlalchemy.orm.Session.execute"),
        ("sqlalchemy.engine.Engine.connect", "sqlalchemy.Engine.connect"),
        ("sqlalchemy.orm.sessionmaker().query", "sqlalchemy.orm.Session.query"),
        ("psycopg2.extensions.connection.commit", "psycopg2.connection.commit"),
        ("elasticsearch.client.Elasticsearch.search", "elasticsearch.Elasticsearch.search"),
        ("boto3.session.Session.client", "boto3.Session.client"),
        ("queue.LifoQueue.get", "queue.Queue.get"),
        ("smtplib.SMTP_SSL.login", "smtplib.SMTP.login"),
        ("openai.AzureOpenAI.chat.completions.create", "openai.OpenAI.chat.completions.create"),
        ("os.path.join", "os.path.join"),
    ],
)
def test_canonical_aliases(catalog: Catalog, spelling: str, canonical: str) -> None:
    assert catalog.canonical(spelling) == canonical


def test_factories_return_catalogued_types(catalog: Catalog) -> None:
    """The result types of factories lead to catalogued methods."""
    chains = [
        ("sqlite3.connect", "execute"),
        ("psycopg2.connect", "commit"),
        ("pymysql.connect", "commit"),
        ("builtins.open", "read"),
        ("pathlib.Path.open", "write"),
        ("tempfile.NamedTemporaryFile", "write"),
        ("tarfile.open", "extractall"),
        ("gzip.open", "read"),
        ("redis.from_url", "get"),
        ("sqlalchemy.create_engine", "connect"),
        ("sqlalchemy.Engine.connect", "execute"),
        ("boto3.client", "put_object"),
        ("boto3.Session.client", "list_buckets"),
        ("boto3.resource", "Bucket.upload_file"),
        ("requests.get", "iter_content"),
        ("urllib.request.urlopen", "read"),
    ]
    for factory, method in chains:
        result = catalog.returns[factory]
        assert catalog.sink(f"{result}.{method}") is not None, (factory, result, method)


def test_offloads_and_hooks(catalog: Catalog) -> None:
    names = {o.name for o in catalog.offloads if o.name}
    assert {
        "asyncio.to_thread", "anyio.to_thread.run_sync", "trio.to_thread.run_sync",
        "starlette.concurrency.run_in_threadpool", "fastapi.concurrency.run_in_threadpool",
        "asgiref.sync.sync_to_async", "asyncer.asyncify",
    } <= names
    assert catalog.offload_by_method("run_in_executor").callable_arg == 1  # type: ignore[union-attr]
    assert catalog.offload_by_method("submit") is None  # too generic to match by method name
    bases = {h.base: dict(h.methods) for h in catalog.hooks if h.base}
    middleware = bases["langchain.agents.middleware.AgentMiddleware"]
    assert middleware["before_model"] == "abefore_model"
    assert middleware["wrap_tool_call"] == "awrap_tool_call"
    assert any(h.decorator == "*.on_event" for h in catalog.hooks)


# -- user tables ------------------------------------------------------------------------------
def test_user_extension_adds_sinks() -> None:
    catalog = Catalog()
    catalog.extend(
        {
            "group": [{"category": "NETWORK", "prefix": "acme.Client", "symbols": ["fetch", {"name": "ping", "cost": "cheap"}]}],
            "pattern": [{"match": "acme.sdk.*", "category": "SDK", "exclude": ["acme.sdk.close"]}],
            "types": {"returns": {"acme.connect": "acme.Client"}, "aliases": {"acme_old": "acme"}},
        },
        "pyproject.toml",
    )
    assert catalog.sink("acme.Client.fetch").category == "NETWORK"  # type: ignore[union-attr]
    assert catalog.sink("acme.Client.ping").cost == "cheap"  # type: ignore[union-attr]
    assert catalog.sink("acme.sdk.upload").category == "SDK"  # type: ignore[union-attr]
    assert catalog.sink("acme.sdk.close") is None
    assert catalog.canonical("acme_old.Client.fetch") == "acme.Client.fetch"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"groups": []}, "unknown catalogue key"),
        ({"group": [{"category": "NOPE", "symbols": ["a.b"]}]}, "unknown category 'NOPE'"),
        ({"group": [{"category": "NETWORK", "cost": "pricey", "symbols": ["a.b"]}]}, "unknown cost 'pricey'"),
        ({"group": [{"category": "NETWORK", "symbols": []}]}, "'symbols' must be a non-empty list"),
        ({"group": [{"category": "NETWORK", "symbols": [{"cost": "cheap"}]}]}, "a table with a 'name'"),
        ({"group": {"category": "NETWORK"}}, "expected an array of tables"),
        ({"pattern": [{"category": "SDK"}]}, "'match' must be a glob string"),
        ({"pattern": [{"match": "a.*", "category": "SDK", "exclude": "a.b"}]}, "expected a list of strings"),
        ({"types": {"returns": {"a.b": 1}}}, "types.returns: expected a table of strings"),
        ({"types": {"classes": "a.B"}}, "types.classes: expected a list of strings"),
        ({"offload": [{"name": "a.run", "method": "run"}]}, "exactly one of 'name'"),
        ({"offload": [{"name": "a.run", "callable_arg": -1}]}, "'callable_arg' must be a non-negative integer"),
        ({"hook": [{"framework": "x"}]}, "exactly one of 'base'"),
        ({"hook": [{"base": "a.B", "methods": {}}]}, "needs 'methods'"),
        ({"hook": [{"base": "a.B"}]}, "needs 'methods'"),
        ({"group": [{"category": "SLEEP", "symbols": [{"name": "a.b", "lazzy": True}]}]}, "unknown key(s) ['lazzy']"),
        ({"group": [{"category": "SLEEP", "symbols": ["a.b"], "prefx": "x"}]}, "unknown key(s) ['prefx']"),
        ({"pattern": [{"match": "a.*", "category": "SDK", "excludes": []}]}, "unknown key(s) ['excludes']"),
    ],
)
def test_bad_user_tables(table: dict, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        Catalog().extend(table, "pyproject.toml")
    text = str(info.value)
    assert text.startswith("pyproject.toml"), text
    assert message in text, text
