"""Generate the rule reference (``docs/rules.md``) from the categories and the catalogue.

    python -m loopwarden.catalog.docgen docs/rules.md          # (re)write the file
    python -m loopwarden.catalog.docgen --check docs/rules.md  # exit 1 if it is stale

The output depends only on :data:`CATEGORIES` and the built-in catalogue, so it is
deterministic; a test runs ``--check`` to keep the committed file in sync.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loopwarden.catalog import Catalog, Sink, _builtin_table, default_catalog
from loopwarden.catalog.categories import CATEGORIES, CHEAP, FREE, HAZARDS, HEAVY, Category

_COST_TEXT = {
    HEAVY: "`heavy`: the cost grows with the data or waits on something outside the process. "
    "Reached from serving code (see the priorities below) the finding is **HIGH**.",
    CHEAP: "`cheap`: a single metadata syscall. On the loop the finding is **MEDIUM**, or **HIGH** "
    "when it repeats in a loop (in its function or around a call on the chain).",
    FREE: "`free`: near-free in practice (no disk or network access). The finding is **LOW**.",
}

_EXPOSURES = (
    (
        "DIRECT_ASYNC",
        "The call is in the body of an `async def` (including async generators, `__aenter__` and "
        "`__aexit__`), and not inside an offload.",
    ),
    (
        "ASYNC_REACHABLE",
        "The call is in a sync function that some `async def` calls (not through an offload), "
        "transitively and across files. The report gives the shortest call chain from the coroutine.",
    ),
    (
        "SYNC_HOOK",
        "The call is in a sync framework hook that an async runner executes on the loop "
        "(the catalogue's `[[hook]]` entries, below; users add their own).",
    ),
    (
        "STARTUP",
        "Module-level code, start-up and shutdown code (`lifespan=`, `on_startup=[...]`, "
        "`@app.on_event(\"startup\")`, `add_event_handler(\"startup\", ...)`), and code reached only "
        "from them: it runs once, before the loop serves requests or after it stops.",
    ),
    (
        "CLI",
        "Code reached only from a script: `main()` run by `asyncio.run` under "
        "`if __name__ == \"__main__\"`, async code started by a sync function nothing calls (a "
        "console script), code under `examples/`, `scripts/`, `docs/`, `benchmarks/`.",
    ),
    ("TEST", "Code reached only from tests."),
)

_NOT_REPORTED = (
    "sync code that no async code reaches",
    "sync FastAPI/Starlette route handlers (the framework runs them in a thread pool)",
    "sync generators handed to a framework that iterates them in a thread pool (`StreamingResponse(gen())`): "
    "a generator's body runs where it is iterated",
    "anything inside an offload (the callable passed to `asyncio.to_thread` and the wrappers below)",
    "calls that are awaited",
)

_PRIORITIES = (
    (
        "HIGH",
        "Reached from serving code (a registered route, handler, task, tool, node, hook or "
        "callback, or a public `async def` that nothing in the scan calls: a library's API) "
        "through certain edges, with a `heavy` sink, or a `cheap` one in a loop. The default `--fail-on`.",
    ),
    (
        "MEDIUM",
        "The same exposure with a `cheap` sink (one metadata syscall, an uncontended mutex) outside "
        "loops (inside a `for`/`while` body or a comprehension, its own or around a call on the "
        "chain, it is HIGH), any "
        "sink reached only through an inferred edge (a call on an abstract base resolved to its "
        "overrides, a factory returning one of several classes, a method guessed by its distinctive "
        "name, or a duck-typed sink match), or a chain through a memoised function "
        "(`@lru_cache`, `@cache`, `@cached_property`), which blocks on its first call per key only; "
        "and anything reached only from an `async def` with a private name that nothing calls or "
        "registers.",
    ),
    (
        "LOW",
        "STARTUP, CLI and TEST exposures (reached only from start-up, scripts or tests), and `free` sinks.",
    ),
)


def _code(text: str) -> str:
    return f"`{text}`"


def _sink_label(sink: Sink, category: Category, owner: str) -> str:
    name = sink.symbol[len(owner) + 1 :] if owner else sink.symbol
    notes = []
    if sink.cost != category.cost:
        notes.append(sink.cost)
    if sink.lazy:
        notes.append("lazy")
    if sink.duck:
        notes.append("duck")
    label = _code(name)
    return f"{label} ({', '.join(notes)})" if notes else label


def _owner(symbol: str, siblings: dict[str, int]) -> str:
    """The group heading of a symbol: its parent, when the parent has several members."""
    head = symbol.rpartition(".")[0]
    return head if siblings.get(head, 0) > 1 else ""


def _symbol_lines(sinks: list[Sink], category: Category) -> list[str]:
    parents: dict[str, int] = defaultdict(int)
    for sink in sinks:
        parents[sink.symbol.rpartition(".")[0]] += 1
    grouped: dict[str, list[Sink]] = defaultdict(list)
    for sink in sinks:
        grouped[_owner(sink.symbol, parents)].append(sink)
    lines = []
    singles = grouped.pop("", [])
    for owner in sorted(grouped):
        members = ", ".join(_sink_label(s, category, owner) for s in sorted(grouped[owner], key=lambda s: s.symbol))
        lines.append(f"- {_code(owner)}: {members}")
    if singles:
        members = ", ".join(_sink_label(s, category, "") for s in sorted(singles, key=lambda s: s.symbol))
        lines.append(f"- {members}")
    return lines


def _pattern_lines(patterns: list[dict[str, Any]], category: str) -> list[str]:
    lines = []
    for pattern in patterns:
        if pattern.get("category") != category:
            continue
        line = f"- {_code(pattern['match'])}"
        cost = pattern.get("cost", CATEGORIES[category].cost)
        if cost != CATEGORIES[category].cost:
            line += f" ({cost})"
        excludes = [_code(x) for x in pattern.get("exclude", [])]
        if excludes:
            line += f", except {', '.join(excludes)}"
        lines.append(line)
    return lines


def _raw_patterns() -> list[dict[str, Any]]:
    """The built-in [[pattern]] tables as written (the loader keeps only compiled regexes)."""
    return list(_builtin_table().get("pattern", []))


def _hazard_section(category: Category) -> list[str]:
    """A hazard of offloading (loopwarden.hazards): no symbols, a fixed priority."""
    return [
        f"## {category.name}",
        "",
        "### What it does",
        "",
        category.summary,
        "",
        "### Why is this bad?",
        "",
        category.why,
        "",
        "### Example",
        "",
        "```python",
        category.example.rstrip("\n"),
        "```",
        "",
        "### Use instead",
        "",
        "```python",
        category.instead.rstrip("\n"),
        "```",
        "",
        "### Priority",
        "",
        "Always **MEDIUM**, with the exposure `OFFLOADED`: the finding is at the offload, its chain",
        "leads to the evidence, and its reason names the related locations. See docs/hazards.md.",
        "",
    ]


def _category_section(catalog: Catalog, raw_patterns: list[dict[str, Any]], category: Category) -> list[str]:
    if category.name in HAZARDS:
        return _hazard_section(category)
    sinks = [s for s in catalog.sinks.values() if s.category == category.name]
    patterns = _pattern_lines(raw_patterns, category.name)
    out = [
        f"## {category.name}",
        "",
        "### What it does",
        "",
        category.summary,
        "",
        "### Why is this bad?",
        "",
        category.why,
        "",
        "### Example",
        "",
        "```python",
        category.example.rstrip("\n"),
        "```",
        "",
        "### Use instead",
        "",
        "```python",
        category.instead.rstrip("\n"),
        "```",
        "",
        "### Cost class",
        "",
        _COST_TEXT[category.cost],
        "",
    ]
    if category.fix:
        out += ["### Suggested fix", "", f"A finding in async code itself suggests: {category.fix}.", ""]
    if category.handle:
        out += [
            "### Handles",
            "",
            "These calls open a handle (a file, a process, a connection): later operations on it",
            "(reads, writes, `communicate`, `execute`) belong to the finding of the call that opened it.",
            "",
        ]
    out += [
        f"### Catalogued symbols ({len(sinks)})",
        "",
    ]
    if sinks:
        out += _symbol_lines(sinks, category)
    else:
        out.append("None built in; see the patterns below.")
    if patterns:
        out += ["", f"Patterns ({len(patterns)}):", ""] + patterns
    out.append("")
    return out


def _offload_lines(catalog: Catalog) -> list[str]:
    lines = []
    for offload in catalog.offloads:
        if offload.name:
            target = _code(offload.name)
        else:
            target = f"any {_code('.' + str(offload.method) + '(...)')} method call"
        lines.append(f"- {target}: callable at positional argument {offload.callable_arg}")
    return lines


def _thread_runner_lines(catalog: Catalog) -> list[str]:
    lines = []
    for runner in catalog.thread_runners:
        target = _code(runner.name) if runner.name else f"any {_code('.' + str(runner.method) + '(...)')} method call"
        lines.append(f"- {target}: callable at positional argument {runner.callable_arg} or `{runner.keyword}=`")
    return lines


def _hook_lines(catalog: Catalog) -> list[str]:
    lines = []
    for hook in catalog.hooks:
        if hook.base:
            methods = ", ".join(
                f"{_code(sync)} (async twin {_code(twin)})" if twin else _code(sync) for sync, twin in hook.methods
            )
            lines.append(f"- {hook.framework}: subclasses of {_code(hook.base)}: {methods}")
        else:
            lines.append(f"- {hook.framework}: sync functions decorated with {_code(str(hook.decorator))}")
    return lines


def _startup_lines(catalog: Catalog) -> list[str]:
    startup = catalog.startup

    def names(found: frozenset[str]) -> str:
        return ", ".join(_code(n) for n in sorted(found)) or "none"

    return [
        f"- events: {names(startup.events)}",
        f"- decorators taking an event name (`@app.on_event(\"startup\")`): {names(startup.decorators)}",
        f"- calls taking an event name and a callable (`app.add_event_handler(\"startup\", fn)`): {names(startup.registrars)}",
        f"- keyword arguments taking start-up callables or a lifespan: {names(startup.keywords)}",
    ]


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(catalog: Catalog | None = None, raw_patterns: list[dict[str, Any]] | None = None) -> str:
    """The Markdown reference for ``catalog`` (default: the built-in one)."""
    catalog = catalog or default_catalog()
    raw_patterns = _raw_patterns() if raw_patterns is None else raw_patterns
    counts: dict[str, int] = defaultdict(int)
    pattern_counts: dict[str, int] = defaultdict(int)
    for sink in catalog.sinks.values():
        counts[sink.category] += 1
    for pattern in catalog.patterns:
        pattern_counts[pattern.category] += 1
    out = [
        "# loopwarden rules",
        "",
        "<!-- Generated by `python -m loopwarden.catalog.docgen docs/rules.md`"
        " from src/loopwarden/catalog/categories.py, blocking.toml and knowledge.toml. Do not edit by hand. -->",
        "",
        "Every finding names a blocking call (a catalogued *sink*), its **category**, its **exposure**",
        "(how the event loop reaches it) and a **priority**. The catalogue lists "
        f"{len(catalog.sinks)} symbols and {len(catalog.patterns)} patterns.",
        "",
        "In the symbol lists below, methods are grouped under their class or module; notes in",
        "parentheses mark a cost that differs from the category's, `lazy` calls (they block where",
        "the returned iterator is consumed) and `duck` methods (matched by name on receivers of",
        "unknown type, reported as inferred).",
        "",
        "## Categories",
        "",
    ]
    out += _table(
        ("Category", "What it does", "Cost", "Symbols", "Patterns"),
        (
            (f"[{c.name}](#{c.name.lower()})", c.summary, f"`{c.cost}`", str(counts[c.name]), str(pattern_counts[c.name]))
            for c in CATEGORIES.values()
        ),
    )
    out.append("")
    for category in CATEGORIES.values():
        out += _category_section(catalog, raw_patterns, category)
    out += [
        "## Hazards of offloading",
        "",
        "Not blocking calls, but what goes wrong once blocking code runs in a worker thread",
        "(`loopwarden.hazards`).",
        "",
    ]
    out += _table(("Rule", "What it does"), ((f"[{c.name}](#{c.name.lower()})", c.summary) for c in HAZARDS.values()))
    out.append("")
    for category in HAZARDS.values():
        out += _hazard_section(category)
    out += ["## Exposures", ""]
    out += [f"- **{name}**: {text}" for name, text in _EXPOSURES]
    out += ["", "Not reported:", ""] + [f"- {text}" for text in _NOT_REPORTED] + [""]
    out += ["## Priorities", ""]
    out += [f"- **{name}**: {text}" for name, text in _PRIORITIES]
    out += [
        "",
        "## Offload wrappers",
        "",
        "A callable passed to one of these runs off the loop; the code it reaches is not reported.",
        "",
    ]
    out += _offload_lines(catalog)
    out += [
        "",
        "Threads and processes started with a callable (`[[thread_runner]]`): a lambda given to one runs",
        "there, not in the function that starts it.",
        "",
    ]
    out += _thread_runner_lines(catalog)
    out += [
        "",
        "## Hooks",
        "",
        "Sync code that a framework runs on the loop (exposure SYNC_HOOK). A method hook applies only",
        "when the subclass does not define the async twin.",
        "",
    ]
    out += _hook_lines(catalog)
    out += [
        "",
        "## Start-up registration",
        "",
        "Code that a framework runs once, at start-up or shutdown, before or after serving (exposure",
        "STARTUP): functions registered by these names (`[startup]` in the catalogue).",
        "",
    ]
    out += _startup_lines(catalog)
    out += [
        "",
        "## Extending the catalogue",
        "",
        "Add tables with the same schema as the built-in `blocking.toml` under",
        "`[tool.loopwarden.catalog]` in `pyproject.toml`:",
        "",
        "```toml",
        "[[tool.loopwarden.catalog.group]]",
        'category = "NETWORK"',
        'symbols = ["mycompany.http.fetch", { name = "mycompany.cache.Client.get", cost = "cheap" }]',
        "",
        "[[tool.loopwarden.catalog.pattern]]",
        'match = "mycompany.sdk.Client.*"',
        'category = "SDK"',
        'exclude = ["mycompany.sdk.Client.close"]',
        "",
        "[tool.loopwarden.catalog.types]",
        'returns = { "mycompany.db.connect" = "mycompany.db.Connection" }',
        "",
        "[[tool.loopwarden.catalog.offload]]",
        'name = "mycompany.concurrency.run_sync"',
        "callable_arg = 0",
        "",
        "[[tool.loopwarden.catalog.hook]]",
        'framework = "mycompany"',
        'base = "mycompany.plugins.Plugin"',
        'methods = { on_request = "aon_request" }',
        "```",
        "",
        f"The built-in catalogue also maps {len(catalog.aliases)} alias prefixes to canonical names "
        f"(`posixpath` to `os.path`, `typing.TextIO` to `io.TextIOWrapper`, ...) and declares "
        f"{len(catalog.returns)} result types (`sqlite3.connect` returns `sqlite3.Connection`, ...).",
        "",
        f"`[names]` lists {len(catalog.common_methods)} method names too common to guess a receiver's class",
        "from (`get`, `close`, `save`, ...: a call on a receiver of unknown type is not matched to the one",
        "project class defining that method) and the decorators that cache a function's result",
        f"({', '.join(_code(n) for n in sorted(catalog.caching_decorators))}).",
        "A project's `[tool.loopwarden.catalog]` may add to each of these tables (`[names]`, `[types] memory`, `[startup]`, `[iteration]`, `[[thread_runner]]`).",
        "",
        f"`[types] memory` names the {len(catalog.memory_types)} in-memory buffer types "
        f"({', '.join(_code(n) for n in sorted(catalog.memory_types))}): a call given one reads no file.",
        f"`[iteration]` lists the calls that consume an iterator right where they are called "
        f"({len(catalog.iteration.consumers)}: `list`, `sorted`, ...) or call a function argument there "
        f"({len(catalog.iteration.inline_callers)}: `map`, `functools.reduce`, ...).",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loopwarden.catalog.docgen", description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="docs/rules.md", help="the file to write (default docs/rules.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is missing or out of date")
    args = parser.parse_args(argv)
    text = render()
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True), text.splitlines(keepends=True), str(path), "generated", n=1
        )
        sys.stderr.writelines(list(diff)[:60])
        print(
            f"{path} is out of date: run `python -m loopwarden.catalog.docgen {args.output}`",
            file=sys.stderr,
        )
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
