"""The catalogue of what blocks: loaded from ``blocking.toml`` plus user extensions.

One object, :class:`Catalog`, answers every question the scanner and the runtime gate ask:
is this symbol blocking, what category and cost, what type does this call return, is this
call an offload, which framework hooks run on the loop.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from loopwarden.catalog.categories import CATEGORIES, COSTS

__all__ = ["Sink", "Offload", "Hook", "Startup", "Iteration", "ThreadRunner", "Catalog", "CatalogError", "Symbolic", "Variant", "load_catalog", "default_catalog", "builtin_knowledge", "with_tables"]


class CatalogError(ValueError):
    """A catalogue table (built-in or from the user's config) is malformed."""


@dataclass(frozen=True)
class Sink:
    symbol: str
    category: str
    operation: str
    cost: str
    lazy: bool = False
    duck: bool = False
    yields: str | None = None
    file_arg: int | None = None  # blocks only when this positional argument is an open file
    path_arg: int | None = None  # does not block when this argument is an in-memory buffer
    path_keyword: str | None = None  # the same, for an argument given by this keyword (fileobj=)


class Symbolic(NamedTuple):
    """A dotted constant passed as an argument (``socket.SOCK_DGRAM``; flags or-ed together
    are joined by ``|``). ``Symbolic("?")`` stands for an argument that is not a constant."""

    name: str


NOT_CONSTANT = Symbolic("?")
Constants = tuple[tuple[int | str, object], ...]  # ((position or keyword, value), ...)
_UNSET = Symbolic("")
_LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_local_address(host: object) -> bool:
    """An IP literal or the local host: resolving it asks no DNS server."""
    if host is None:
        return True
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        return True
    import ipaddress

    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ArgumentRule:
    """A condition on one argument of a call: ``thread.join(timeout=0)`` returns at once,
    ``socket.getaddrinfo("127.0.0.1", ...)`` asks no DNS server. Any of the conditions given
    may hold (``equals``, ``absent``, ``none``, ``local_address``, ``flag``); every rule in
    ``also`` must hold as well."""

    position: int | None  # index among the positional arguments (self excluded)
    keyword: str | None
    equals: object = _UNSET
    absent: bool = False  # the argument is not given (only known when every argument was recorded)
    none: bool = False  # the argument is None
    local_address: bool = False  # an IP literal, "localhost" or None
    flag: str | None = None  # a dotted flag or-ed into the argument (fcntl.LOCK_NB)
    also: tuple[ArgumentRule, ...] = ()

    def matches(self, constants: Constants, complete: bool = False) -> bool:
        return self._holds(constants, complete) and all(rule._holds(constants, complete) for rule in self.also)

    def _holds(self, constants: Constants, complete: bool) -> bool:
        given = False
        for key, value in constants:
            if key != self.position and key != self.keyword:
                continue
            given = True
            if self.equals is not _UNSET and _same(value, self.equals):
                return True
            if self.none and value is None:
                return True
            if self.local_address and is_local_address(value):
                return True
            if self.flag is not None and isinstance(value, Symbolic) and self.flag in value.name.split("|"):
                return True
        return self.absent and complete and not given


def _same(value: object, wanted: object) -> bool:
    if isinstance(value, Symbolic):
        return isinstance(wanted, str) and value.name == wanted
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    if isinstance(value, str) != isinstance(wanted, str):
        return False
    return bool(value == wanted)  # 0 == 0.0


@dataclass(frozen=True)
class Variant:
    """A call whose arguments make its result a different kind of object, on which some
    methods do not block: ``socket.socket(AF_INET, SOCK_DGRAM)`` (``connect`` sends
    nothing), ``queue.Queue()`` without ``maxsize`` (``put`` never waits),
    ``csv.writer(io.StringIO())`` (writes to memory)."""

    name: str
    rule: ArgumentRule  # the deciding argument and its condition
    memory: bool = False  # the variant applies when that argument is an in-memory buffer


@dataclass(frozen=True)
class Offload:
    name: str | None  # dotted symbol, or None when matched by method name
    method: str | None
    callable_arg: int


@dataclass(frozen=True)
class Hook:
    framework: str
    base: str | None = None
    methods: tuple[tuple[str, str], ...] = ()
    decorator: str | None = None


@dataclass(frozen=True)
class Startup:
    """How frameworks register code that runs once, before serving or at shutdown (exposure
    STARTUP): ``@app.on_event("startup")``, ``app.add_event_handler("shutdown", fn)``,
    ``Starlette(on_startup=[fn])``, ``FastAPI(lifespan=fn)``. Names are last components as
    written (``on_event`` matches ``app.on_event`` and ``router.on_event``)."""

    events: frozenset[str] = frozenset()  # the event names ("startup", "shutdown")
    decorators: frozenset[str] = frozenset()  # decorator calls taking an event name first
    registrars: frozenset[str] = frozenset()  # method calls taking an event name and a callable
    keywords: frozenset[str] = frozenset()  # keyword arguments taking start-up callables


@dataclass(frozen=True)
class Iteration:
    """Library functions that iterate an argument or call a function argument right where
    they are called (builtins, functools, itertools): what they reach runs here, not later."""

    consumers: frozenset[str] = frozenset()  # iterate their first argument to the end (list(it))
    inline_callers: frozenset[str] = frozenset()  # call a function argument right away (sorted(key=f)); consumers too
    function_first: frozenset[str] = frozenset()  # call their first argument on each item (map(load, paths))
    item_preserving: tuple[tuple[str, int], ...] = ()  # (call, index of the argument whose items the result holds)


@dataclass(frozen=True)
class ThreadRunner:
    """A call that starts a thread or process running a callable argument
    (``threading.Thread(target=fn)``, ``executor.submit(fn)``): the callable runs there."""

    name: str | None  # dotted symbol, or None when matched by method name
    method: str | None
    callable_arg: int
    keyword: str  # the keyword the callable may be given by


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    excludes: tuple[re.Pattern[str], ...]
    category: str
    cost: str
    any_method: bool = False  # the glob ends in ".*": matches only the SDK object's own members


@dataclass
class Catalog:
    sinks: dict[str, Sink] = field(default_factory=dict)
    patterns: list[_Pattern] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    offloads: list[Offload] = field(default_factory=list)
    loop_callbacks: list[Offload] = field(default_factory=list)  # run their callable ON the loop
    hooks: list[Hook] = field(default_factory=list)
    duck_methods: dict[str, Sink] = field(default_factory=dict)
    nonblocking: dict[str, list[ArgumentRule]] = field(default_factory=dict)
    entries: list[Any] = field(default_factory=list)  # user [[entry]] rules (catalog.entries.EntryRule)
    variants: dict[str, list[Variant]] = field(default_factory=dict)  # call symbol -> variants of its result
    variant_free: dict[str, frozenset[str]] = field(default_factory=dict)  # variant name -> methods that do not block
    startup: Startup = field(default_factory=Startup)
    common_methods: frozenset[str] = frozenset()  # too common to guess a receiver's class from
    caching_decorators: frozenset[str] = frozenset()  # last names of decorators that cache results
    field_helpers: frozenset[str] = frozenset()  # last names of class-field helpers (pydantic Field, attrs ib)
    memory_types: frozenset[str] = frozenset()  # in-memory buffers: reading one touches no disk
    iteration: Iteration = field(default_factory=Iteration)
    thread_runners: list[ThreadRunner] = field(default_factory=list)

    # -- questions -------------------------------------------------------------------------
    def canonical(self, symbol: str) -> str:
        """Rewrite a known alias prefix (``posixpath.exists`` -> ``os.path.exists``)."""
        if symbol in self.aliases:
            return self.aliases[symbol]
        head, dot, tail = symbol.rpartition(".")
        while head:
            if head in self.aliases:
                return f"{self.aliases[head]}.{symbol[len(head) + 1:]}"
            head, dot, _ = head.rpartition(".")
        return symbol

    def sink(self, symbol: str) -> Sink | None:
        found = self.sinks.get(symbol)
        if found is not None:
            return found
        if "!" in symbol:  # a member of a variant type: "socket.socket!datagram.connect"
            head, _, rest = symbol.partition("!")
            variant, _, member = rest.partition(".")
            free = self.variant_free.get(variant, frozenset())
            if member and ("*" in free or member.partition(".")[0] in free):
                return None
            return self.sink(f"{head}.{member}" if member else head)
        # Matching every pattern is the cost of a miss, and the call graph asks about the same
        # symbols many times: remember the answers (forgotten when the catalogue is extended).
        memo: dict[str, Sink | None] | None = self.__dict__.get("_pattern_memo")
        if memo is None:
            memo = self.__dict__["_pattern_memo"] = {}
        if symbol not in memo:
            memo[symbol] = self._pattern_sink(symbol)
        return memo[symbol]

    def _pattern_sink(self, symbol: str) -> Sink | None:
        # A pattern ending in ``.*`` (every method) covers an SDK object's own methods and
        # attributes, not the methods of what one of its calls returned
        # (``client.chat.completions.create(...).model_dump()`` is a method on a response
        # object) nor of an item taken out of it. Patterns that name the method
        # (``langchain*.invoke``, ``pymongo.*.find*``) still match there.
        on_result = "()" in symbol or "[]" in symbol
        for pattern in self.patterns:
            if on_result and pattern.any_method:
                continue
            if pattern.regex.match(symbol) and not any(x.match(symbol) for x in pattern.excludes):
                operation = symbol.rpartition(".")[2]
                return Sink(symbol, pattern.category, operation, pattern.cost)
        return None

    def returns_at_once(self, symbol: str, constants: Constants, complete: bool = False) -> bool:
        """Does this call, with these constant arguments ((position or keyword, value), ...),
        return without waiting (``Thread.join(timeout=0)``)? ``complete``: ``constants``
        lists every argument of the call (non-constants as ``NOT_CONSTANT``), so that an
        argument not given can be told apart."""
        return any(rule.matches(constants, complete) for rule in self.nonblocking.get(symbol, ()))

    def watched_names(self) -> frozenset[str]:
        """Last names of the calls whose arguments a rule reads: the per-file phase records
        every argument of calls ending so (``.join(...)``, ``getaddrinfo(...)``)."""
        names = {s.rpartition(".")[2] for s in self.nonblocking}
        names |= {s.rpartition(".")[2] for s in self.variants}
        names |= {s.symbol.rpartition(".")[2] for s in self.sinks.values() if s.path_keyword is not None}
        return frozenset(names)

    def duck_sink(self, method: str) -> Sink | None:
        return self.duck_methods.get(method)

    def offload_by_name(self, symbol: str) -> Offload | None:
        for offload in self.offloads:
            if offload.name == symbol:
                return offload
        return None

    def offload_by_method(self, method: str) -> Offload | None:
        for offload in self.offloads:
            if offload.method == method:
                return offload
        return None

    # -- building --------------------------------------------------------------------------
    def extend(self, table: Mapping[str, Any], origin: str) -> None:
        """Merge one catalogue table (the built-in TOML or ``[tool.loopwarden.catalog]``)."""
        self.__dict__.pop("_pattern_memo", None)
        known = {"group", "pattern", "types", "offload", "loop_callback", "hook", "nonblocking", "entry", "variant", "startup", "names", "iteration", "thread_runner"}
        unknown = set(table) - known
        if unknown:
            raise CatalogError(f"{origin}: unknown catalogue key(s) {sorted(unknown)}; expected {sorted(known)}")
        types = table.get("types", {})
        if not isinstance(types, dict):
            raise CatalogError(f"{origin}: types: expected a table")
        _check_keys(types, {"aliases", "returns", "classes", "memory"}, f"{origin}: types")
        self.aliases.update(_str_map(types.get("aliases", {}), f"{origin}: types.aliases"))
        self.returns.update(_str_map(types.get("returns", {}), f"{origin}: types.returns"))
        self.classes.update(_str_list(types.get("classes", []), f"{origin}: types.classes"))
        self.memory_types |= frozenset(_str_list(types.get("memory", []), f"{origin}: types.memory"))
        if "iteration" in table:
            self.iteration = _merge_iteration(self.iteration, table["iteration"], f"{origin}: iteration")
        for i, runner in enumerate(_table_list(table.get("thread_runner", []), f"{origin}: thread_runner")):
            self.thread_runners.append(_parse_thread_runner(runner, f"{origin}: thread_runner[{i}]"))
        if "startup" in table:
            self.startup = _merge_startup(self.startup, table["startup"], f"{origin}: startup")
        if "names" in table:
            names = table["names"]
            if not isinstance(names, dict):
                raise CatalogError(f"{origin}: names: expected a table")
            _check_keys(names, _NAMES_KEYS, f"{origin}: names")
            self.common_methods |= _name_set(names.get("common_methods", []), f"{origin}: names.common_methods")
            self.caching_decorators |= _name_set(names.get("caching_decorators", []), f"{origin}: names.caching_decorators")
            self.field_helpers |= _name_set(names.get("field_helpers", []), f"{origin}: names.field_helpers")
        for i, group in enumerate(_table_list(table.get("group", []), f"{origin}: group")):
            for sink in _group_sinks(group, f"{origin}: group[{i}]"):
                self.sinks[sink.symbol] = sink
                if sink.duck:
                    self.duck_methods[sink.operation] = sink
        for i, pattern in enumerate(_table_list(table.get("pattern", []), f"{origin}: pattern")):
            self.patterns.append(_parse_pattern(pattern, f"{origin}: pattern[{i}]"))
        for i, offload in enumerate(_table_list(table.get("offload", []), f"{origin}: offload")):
            self.offloads.append(_parse_offload(offload, f"{origin}: offload[{i}]"))
        for i, callback in enumerate(_table_list(table.get("loop_callback", []), f"{origin}: loop_callback")):
            self.loop_callbacks.append(_parse_offload(callback, f"{origin}: loop_callback[{i}]"))
        for i, hook in enumerate(_table_list(table.get("hook", []), f"{origin}: hook")):
            self.hooks.append(_parse_hook(hook, f"{origin}: hook[{i}]"))
        if "entry" in table:  # framework registrations, as in catalog/entries.toml
            from loopwarden.catalog.entries import parse_entry

            for i, entry in enumerate(_table_list(table["entry"], f"{origin}: entry")):
                try:
                    self.entries.append(parse_entry(entry, f"{origin}: entry[{i}]"))
                except ValueError as exc:
                    raise CatalogError(str(exc)) from None
        for i, rule in enumerate(_table_list(table.get("nonblocking", []), f"{origin}: nonblocking")):
            symbols, parsed = _parse_nonblocking(rule, f"{origin}: nonblocking[{i}]")
            for symbol in symbols:
                self.nonblocking.setdefault(symbol, []).append(parsed)
        for i, raw in enumerate(_table_list(table.get("variant", []), f"{origin}: variant")):
            where = f"{origin}: variant[{i}]"
            _check_keys(raw, _VARIANT_KEYS, where)
            name = raw.get("name")
            if not isinstance(name, str) or not name.isidentifier():
                raise CatalogError(f"{where}: 'name' must be an identifier")
            memory = raw.get("memory", False)
            if not isinstance(memory, bool):
                raise CatalogError(f"{where}: 'memory' must be true or false")
            condition = {k: v for k, v in raw.items() if k in _NONBLOCKING_KEYS - {"symbols"}}
            argument_rule = _parse_argument_rule(condition, where, need_condition=not memory)
            free = _str_list(raw.get("free", []), f"{where}.free")
            self.variant_free[name] = self.variant_free.get(name, frozenset()) | frozenset(free)
            for symbol in _str_list(raw.get("calls"), f"{where}.calls"):
                self.variants.setdefault(symbol, []).append(Variant(name, argument_rule, memory))


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CatalogError(f"{where}: expected a table of strings")
    return dict(value)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: expected a list of strings")
    return list(value)


def _table_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CatalogError(f"{where}: expected an array of tables ([[...]])")
    return value


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")


def _check_types(table: dict[str, Any], expected: dict[str, type], where: str) -> None:
    for key, kind in expected.items():
        if key in table and not isinstance(table[key], kind):
            raise CatalogError(f"{where}: '{key}' must be a {'boolean' if kind is bool else 'string'}")


_GROUP_KEYS = {"category", "cost", "prefix", "symbols", "lazy", "duck"}
_ENTRY_KEYS = {"name", "cost", "lazy", "duck", "yields", "operation", "file_arg", "path_arg", "path_keyword"}
_PATTERN_KEYS = {"match", "category", "cost", "exclude"}
_OFFLOAD_KEYS = {"name", "method", "callable_arg"}
_HOOK_KEYS = {"framework", "base", "methods", "decorator"}


_NAMES_KEYS = {"common_methods", "caching_decorators", "field_helpers"}
_ITERATION_KEYS = {"consumers", "inline_callers", "function_first", "item_preserving"}
_THREAD_RUNNER_KEYS = {"name", "method", "callable_arg", "keyword"}
_STARTUP_KEYS = {"events", "decorators", "registrars", "keywords"}


def _name_set(value: Any, where: str) -> frozenset[str]:
    """A list of identifiers (method, decorator or keyword names, without dots)."""
    names = _str_list(value, where)
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise CatalogError(f"{where}: not identifiers: {bad}")
    return frozenset(names)


def _merge_startup(startup: Startup, table: Any, where: str) -> Startup:
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: expected a table")
    _check_keys(table, _STARTUP_KEYS, where)
    events = frozenset(_str_list(table.get("events", []), f"{where}.events"))
    return Startup(
        startup.events | events,
        startup.decorators | _name_set(table.get("decorators", []), f"{where}.decorators"),
        startup.registrars | _name_set(table.get("registrars", []), f"{where}.registrars"),
        startup.keywords | _name_set(table.get("keywords", []), f"{where}.keywords"),
    )


def _merge_iteration(iteration: Iteration, table: Any, where: str) -> Iteration:
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: expected a table")
    _check_keys(table, _ITERATION_KEYS, where)
    consumers = iteration.consumers | frozenset(_str_list(table.get("consumers", []), f"{where}.consumers"))
    preserving = dict(iteration.item_preserving)
    raw = table.get("item_preserving", {})
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}.item_preserving: expected a table of call = argument index")
    for call, index in raw.items():
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise CatalogError(f"{where}.item_preserving: {call!r}: expected a non-negative argument index")
        preserving[call] = index
    return Iteration(
        consumers,
        iteration.inline_callers | consumers | frozenset(_str_list(table.get("inline_callers", []), f"{where}.inline_callers")),
        iteration.function_first | frozenset(_str_list(table.get("function_first", []), f"{where}.function_first")),
        tuple(sorted(preserving.items())),
    )


def _parse_thread_runner(table: dict[str, Any], where: str) -> ThreadRunner:
    _check_keys(table, _THREAD_RUNNER_KEYS, where)
    offload = _parse_offload({k: v for k, v in table.items() if k != "keyword"}, where)
    keyword = table.get("keyword")
    if not isinstance(keyword, str) or not keyword.isidentifier():
        raise CatalogError(f"{where}: 'keyword' must be the keyword argument that may give the callable")
    return ThreadRunner(offload.name, offload.method, offload.callable_arg, keyword)


def _check_category(category: Any, where: str) -> str:
    if not isinstance(category, str) or category not in CATEGORIES:
        raise CatalogError(f"{where}: unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    return category


def _check_cost(cost: Any, where: str) -> str:
    if not isinstance(cost, str) or cost not in COSTS:
        raise CatalogError(f"{where}: unknown cost {cost!r}; expected one of {', '.join(COSTS)}")
    return cost


def _group_sinks(group: dict[str, Any], where: str) -> Iterable[Sink]:
    _check_keys(group, _GROUP_KEYS, where)
    _check_types(group, {"prefix": str, "lazy": bool, "duck": bool}, where)
    category = _check_category(group.get("category"), where)
    cost = _check_cost(group.get("cost", CATEGORIES[category].cost), where)
    prefix = group.get("prefix")
    symbols = group.get("symbols")
    if not isinstance(symbols, list) or not symbols:
        raise CatalogError(f"{where}: 'symbols' must be a non-empty list")
    for entry in symbols:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise CatalogError(f"{where}: each symbol is a name or a table with a 'name'")
        _check_keys(entry, _ENTRY_KEYS, f"{where} symbol {entry['name']!r}")
        _check_types(entry, {"operation": str, "lazy": bool, "duck": bool}, f"{where} symbol {entry['name']!r}")
        if entry.get("yields") is not None and not isinstance(entry["yields"], str):
            raise CatalogError(f"{where} symbol {entry['name']!r}: 'yields' must be a dotted type name")
        name = f"{prefix}.{entry['name']}" if prefix else entry["name"]
        yield Sink(
            symbol=name,
            category=category,
            operation=entry.get("operation", name.rpartition(".")[2]),
            cost=_check_cost(entry.get("cost", cost), where),
            lazy=bool(entry.get("lazy", group.get("lazy", False))),
            duck=bool(entry.get("duck", group.get("duck", False))),
            yields=entry.get("yields"),
            file_arg=_check_arg_index(entry.get("file_arg"), f"{where} symbol {name!r}: file_arg"),
            path_arg=_check_arg_index(entry.get("path_arg"), f"{where} symbol {name!r}: path_arg"),
            path_keyword=_check_keyword(entry.get("path_keyword"), f"{where} symbol {name!r}: path_keyword"),
        )


def _check_keyword(value: Any, where: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.isidentifier()):
        raise CatalogError(f"{where} must be a keyword argument name")
    return value


def _check_arg_index(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1:
        raise CatalogError(f"{where} must be 0 or 1 (the index of a positional argument)")
    return value


def _glob_regex(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob))


def _parse_pattern(pattern: dict[str, Any], where: str) -> _Pattern:
    _check_keys(pattern, _PATTERN_KEYS, where)
    match = pattern.get("match")
    if not isinstance(match, str):
        raise CatalogError(f"{where}: 'match' must be a glob string")
    category = _check_category(pattern.get("category"), where)
    excludes = _str_list(pattern.get("exclude", []), f"{where}.exclude")
    return _Pattern(
        _glob_regex(match),
        tuple(_glob_regex(x) for x in excludes),
        category,
        _check_cost(pattern.get("cost", CATEGORIES[category].cost), where),
        match.endswith(".*") and "()" not in match and "[]" not in match,
    )


_NONBLOCKING_KEYS = {"symbols", "position", "keyword", "equals", "absent", "none", "local_address", "flag", "also"}
_VARIANT_KEYS = (_NONBLOCKING_KEYS - {"symbols"}) | {"calls", "name", "memory", "free"}


def _parse_nonblocking(rule: dict[str, Any], where: str) -> tuple[list[str], ArgumentRule]:
    _check_keys(rule, _NONBLOCKING_KEYS, where)
    symbols = _str_list(rule.get("symbols"), f"{where}.symbols")
    return symbols, _parse_argument_rule({k: v for k, v in rule.items() if k != "symbols"}, where)


def _parse_argument_rule(rule: dict[str, Any], where: str, need_condition: bool = True) -> ArgumentRule:
    position, keyword = rule.get("position"), rule.get("keyword")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
        raise CatalogError(f"{where}: 'position' must be a non-negative integer")
    if keyword is not None and not isinstance(keyword, str):
        raise CatalogError(f"{where}: 'keyword' must be a string")
    if position is None and keyword is None:
        raise CatalogError(f"{where}: give 'position', 'keyword' or both")
    if "equals" in rule and not isinstance(rule["equals"], (bool, int, float, str)):
        raise CatalogError(f"{where}: 'equals' must be a boolean, number or string")
    for key in ("absent", "none", "local_address"):
        if key in rule and not isinstance(rule[key], bool):
            raise CatalogError(f"{where}: '{key}' must be true or false")
    if "flag" in rule and not isinstance(rule["flag"], str):
        raise CatalogError(f"{where}: 'flag' must be a dotted name")
    if need_condition and not any(k in rule for k in ("equals", "absent", "none", "local_address", "flag")):
        raise CatalogError(f"{where}: give a condition: 'equals', 'absent', 'none', 'local_address' or 'flag'")
    also = []
    for i, more in enumerate(_table_list(rule.get("also", []), f"{where}.also")):
        _check_keys(more, _NONBLOCKING_KEYS - {"symbols", "also"}, f"{where}.also[{i}]")
        also.append(_parse_argument_rule(more, f"{where}.also[{i}]"))
    return ArgumentRule(
        position,
        keyword,
        rule.get("equals", _UNSET),
        absent=bool(rule.get("absent", False)),
        none=bool(rule.get("none", False)),
        local_address=bool(rule.get("local_address", False)),
        flag=rule.get("flag"),
        also=tuple(also),
    )


def _parse_offload(offload: dict[str, Any], where: str) -> Offload:
    _check_keys(offload, _OFFLOAD_KEYS, where)
    name, method = offload.get("name"), offload.get("method")
    if (name is None) == (method is None) or not isinstance(name or method, str):
        raise CatalogError(f"{where}: give exactly one of 'name' (dotted symbol) or 'method'")
    index = offload.get("callable_arg", 0)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise CatalogError(f"{where}: 'callable_arg' must be a non-negative integer")
    return Offload(name, method, index)


def _parse_hook(hook: dict[str, Any], where: str) -> Hook:
    _check_keys(hook, _HOOK_KEYS, where)
    _check_types(hook, {"framework": str, "base": str, "decorator": str}, where)
    base, decorator = hook.get("base"), hook.get("decorator")
    if (base is None) == (decorator is None):
        raise CatalogError(f"{where}: give exactly one of 'base' (with 'methods') or 'decorator'")
    methods: tuple[tuple[str, str], ...] = ()
    if base is not None:
        raw = hook.get("methods")
        if not raw:
            raise CatalogError(f"{where}: a 'base' hook needs 'methods'")
        if isinstance(raw, list):
            raw = {m: "" for m in _str_list(raw, f"{where}.methods")}
        methods = tuple(sorted(_str_map(raw, f"{where}.methods").items()))
        if not methods:
            raise CatalogError(f"{where}: a 'base' hook needs 'methods'")
    return Hook(str(hook.get("framework", "user")), base, methods, decorator)


def _builtin_table(name: str = "blocking.toml") -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    resource = resources.files("loopwarden.catalog").joinpath(name)
    try:
        return tomllib.loads(resource.read_text("utf-8"))
    except (OSError, ValueError) as exc:  # ValueError covers TOMLDecodeError
        raise CatalogError(f"{resource}: cannot load the built-in catalogue: {exc}") from None


_BUILTIN_FILES = ("blocking.toml", "knowledge.toml")


def _builtin_catalog(files: tuple[str, ...] = _BUILTIN_FILES) -> Catalog:
    catalog = Catalog()
    for name in files:
        catalog.extend(_builtin_table(name), f"loopwarden/catalog/{name}")
    return catalog


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The built-in catalogue, parsed once per process."""
    return _builtin_catalog()


@lru_cache(maxsize=1)
def builtin_knowledge() -> Catalog:
    """Only the built-in ``knowledge.toml`` tables (start-up registration, common names,
    iteration helpers, thread runners): what the per-file phase reads, without parsing the
    whole catalogue."""
    return _builtin_catalog(("knowledge.toml",))


def load_catalog(user_table: Mapping[str, Any] | None = None, origin: str = "pyproject.toml") -> Catalog:
    """The built-in catalogue extended with a user's ``[tool.loopwarden.catalog]`` table."""
    if not user_table:
        return default_catalog()
    catalog = _builtin_catalog()
    catalog.extend(user_table, f"{origin} [tool.loopwarden.catalog]")
    return catalog


def with_tables(catalog: Catalog, tables: Iterable[tuple[Mapping[str, Any], str]]) -> tuple[Catalog, list[str]]:
    """A copy of ``catalog`` extended by each (table, origin): the entries installed libraries
    ship (``loopwarden.catalog`` entry points, see docs/libraries.md). A malformed table is
    left out whole, and its error returned, so that one library cannot break a scan."""
    import copy

    merged = copy.deepcopy(catalog)
    errors: list[str] = []
    for table, origin in tables:
        try:
            Catalog().extend(table, origin)  # validate alone first: a bad table changes nothing
        except CatalogError as exc:
            errors.append(f"{exc}; ignored")
            continue
        merged.extend(table, origin)
    return merged, errors
