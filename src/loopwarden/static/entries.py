"""Entry points: where each function's work comes from, and whether that serves traffic.

Every function gets one *context*: the best entry point that reaches it through calls
(sync calls and calls that create coroutines) and the path from there. Entry points are
ranked by *scope*, and a function takes the best scope that reaches it:

    serving       registered with a framework (route, websocket, handler, tool, node, task,
                  Home Assistant setup or @callback), a sync framework hook, or an async def
                  handed as a callback to another call
    api           an async def nobody in the scan calls, with a public name: a library's
                  public API, or an application handler registered in a way not seen
    unreferenced  an async def nobody calls, with a private name, registered nowhere seen
    startup       lifespan / on_startup code, import-time code
    cli           `main()` run by `asyncio.run` under `if __name__ == "__main__"`, async code
                  run from sync code that nothing calls (a console script), and code in
                  examples/, scripts/, docs/, benchmarks/ folders
    test          test code

What identifies a framework registration lives in ``catalog/entries.toml``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from loopwarden.catalog.entries import EntryRule, entry_rules, glob_matches, last_parts
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import SYNC_HOOK, CallGraph, Root, _same_class
from loopwarden.static.refs import AttrRef, CallRef, NameRef, Ref, RefTuple
from loopwarden.static.summary import CALL, FunctionSummary, ModuleSummary
from loopwarden.static.values import ClassValue, ExtValue, FuncValue

SERVING, API, UNREFERENCED, STARTUP_SCOPE, CLI_SCOPE, TEST_SCOPE = "serving", "api", "unreferenced", "startup", "cli", "test"
SCOPES = (SERVING, API, UNREFERENCED, STARTUP_SCOPE, CLI_SCOPE, TEST_SCOPE)
SCOPE_RANK = {SERVING: 0, API: 1, UNREFERENCED: 2, STARTUP_SCOPE: 3, CLI_SCOPE: 3, TEST_SCOPE: 4}

# Folders whose code is run by hand, not served.
SCRIPT_FOLDERS = frozenset({"examples", "example", "scripts", "script", "docs", "doc", "benchmarks", "benchmark", "bench"})
_HTTP_VERBS = frozenset({"get", "post", "put", "delete", "patch", "head", "options"})


@dataclass(frozen=True)
class Context:
    top: str  # the entry point's qualified name
    scope: str
    kind: str  # route, websocket, handler, tool, node, task, setup, callback, hook, async-api, ...
    label: str  # "route GET /notes"
    parent: str | None = None  # previous function on the path from the entry point
    line: int = 0  # the call in ``parent``


def is_script_module(module: ModuleSummary) -> bool:
    """Code under examples/, scripts/, docs/... inside what was scanned (the dotted module
    name, so scanning ``examples/demo_app`` itself treats it as an application)."""
    return any(part in SCRIPT_FOLDERS for part in module.module.split(".")[:-1])


class EntryPoints:
    def __init__(self, index: ProgramIndex, graph: CallGraph) -> None:
        self.index = index
        self.graph = graph
        self.rules = (*entry_rules(), *getattr(index.catalog, "entries", ()))
        self.registered: dict[str, tuple[str, str]] = {}  # function -> (kind, label)
        self.sync_roots: dict[str, Root] = {}  # sync functions a rule puts on the loop
        self._find_registered()
        self.contexts: dict[str, Context] = {}
        self._propagate()

    # -- what frameworks register ----------------------------------------------------------
    def _find_registered(self) -> None:
        functions = self.index.functions
        decorator_rules = [r for r in self.rules if r.decorator or r.name]
        decorator_ends = [(r, last_parts(r.decorator)) for r in decorator_rules]
        for qualname in sorted(functions):
            fn = functions[qualname]
            if fn.is_module_body or not (fn.decorators or fn.class_qualname is None):
                continue
            written_ends = {n.rpartition(".")[2] for n in fn.decorator_names}
            for rule, ends in decorator_ends:
                if not (fn.is_async or rule.sync):
                    continue
                if not rule.name and ends is not None and not (ends & written_ends):
                    continue  # no decorator ends like the rule's (resolving is the costly part)
                label = self._matches(fn, rule)
                if label is not None:
                    self._register(qualname, rule.kind, label, fn)
                    break
        base_rules = [(r, r.base) for r in self.rules if r.base]
        wanted = {m for r, _ in base_rules for m in r.methods}
        for class_qualname in sorted(self.index.classes):
            cls = self.index.classes[class_qualname]
            if not wanted.intersection(cls.methods):
                continue
            ancestors = self.graph.ancestors(class_qualname)
            for rule, base in base_rules:
                if not any(_same_class(a, base) for a in ancestors):
                    continue
                for method in rule.methods:
                    target = cls.methods.get(method)
                    if target is None:
                        continue
                    method_fn = functions.get(target)
                    if method_fn is not None and (method_fn.is_async or rule.sync) and target not in self.registered:
                        label = f"{rule.framework} {rule.kind} {cls.local_name}.{method}"
                        self._register(target, rule.kind, label, method_fn)
        call_rules = [(r, last_parts(r.call)) for r in self.rules if r.call]
        call_ends = set().union(*(ends or () for _, ends in call_rules))
        any_end = any(ends is None for _, ends in call_rules)
        methods = self.index.methods_by_name
        for qualname in sorted(functions):
            for site in functions[qualname].calls:
                if site.kind != CALL or site.ref is None or not site.args:
                    continue
                ref = site.ref
                end = ref.attr if isinstance(ref, AttrRef) else (ref.name.rpartition(".")[2] if isinstance(ref, NameRef) else None)
                if end is not None and (any_end or end in call_ends):
                    names = self._callee_names(ref)
                    rule = next((r for r, _ in call_rules if r.arg < len(site.args) and glob_matches(r.call, names)), None)
                    if rule is not None:
                        label = f"{rule.framework} {rule.kind} ({end})"
                        self._register_value(site.args[rule.arg], rule.kind, label)
                        continue
                # an async def handed to a call by reference runs when that call decides
                for arg in site.args:
                    if (isinstance(arg, NameRef) and arg.name in functions) or (isinstance(arg, AttrRef) and arg.attr in methods):
                        self._register_value(arg, "callback", f"callback passed to {self._short(ref)}", async_only=True)

    def _register_value(self, ref: Ref, kind: str, label: str, async_only: bool = False) -> None:
        if ref is None or isinstance(ref, CallRef):
            return
        value = self.index.resolve(ref)
        if not isinstance(value, FuncValue) or value.qualname in self.registered:
            return
        fn = self.index.functions.get(value.qualname)
        if fn is None or (async_only and not fn.is_async) or fn.is_module_body:
            return
        if fn.is_async:
            self._register(value.qualname, kind, label, fn)

    def _register(self, qualname: str, kind: str, label: str, fn: FunctionSummary) -> None:
        self.registered[qualname] = (kind, label)
        if not fn.is_async:
            self.sync_roots[qualname] = Root(qualname, SYNC_HOOK, hook=label)

    def _short(self, ref: RefTuple) -> str:
        if isinstance(ref, AttrRef):
            return f".{ref.attr}()"
        value = self.index.resolve(ref)
        if isinstance(value, (ExtValue, FuncValue, ClassValue)):
            return f"{value[1].rpartition('.')[2]}()"
        return "a call"

    def _callee_names(self, ref: RefTuple) -> set[str]:
        names = set()
        if isinstance(ref, AttrRef):
            names.add(f"?.{ref.attr}")
        elif isinstance(ref, NameRef):
            names.add(ref.name)
        value = self.index.resolve(ref)
        if isinstance(value, (ExtValue, ClassValue, FuncValue)):
            names.add(value[1])
        return names

    def _matches(self, fn: FunctionSummary, rule: EntryRule) -> str | None:
        if rule.name and fn.class_qualname is None and glob_matches(rule.name, {fn.local_name}):
            return f"{rule.framework} {fn.local_name}"
        if not rule.decorator:
            return None
        args = fn.decorator_args if len(fn.decorator_args) == len(fn.decorators) else (None,) * len(fn.decorators)
        for ref, written, arg in zip(fn.decorators, fn.decorator_names, args, strict=True):
            names = {written}
            value = self.index.resolve(ref.callee if isinstance(ref, CallRef) else ref)
            if isinstance(value, ExtValue):
                names.add(value.name)
            if not glob_matches(rule.decorator, names):
                continue
            if rule.path:
                if arg is None:
                    continue
                verb = written.rpartition(".")[2]
                method = f"{verb.upper()} " if verb in _HTTP_VERBS else ""
                return f"{rule.kind} {method}{arg}"
            return f"{rule.framework} {rule.kind} @{written}"
        return None

    # -- propagation ---------------------------------------------------------------------------
    def _propagate(self) -> None:
        index = self.index
        functions = index.functions
        module_of = index.function_module
        sync_edges, async_edges = self.graph.edges, self.graph.async_edges
        prod_callers: set[str] = set()  # functions some application code calls (not a test or script)
        aside_modules = {id(m) for m in index.modules.values() if _is_aside(m)}
        for source in (sync_edges, async_edges):
            for caller, edges in source.items():
                if id(module_of[caller]) not in aside_modules:
                    prod_callers.update(e.target for e in edges if e.target != caller)
        lifespan = self.graph.lifespan_functions()
        seeds: list[list[Context]] = [[] for _ in range(7)]
        # Code started by a script: asyncio.run(main()) under `if __name__ == "__main__":`.
        scripted: set[str] = set()
        for module in sorted(index.modules.values(), key=lambda m: m.path):
            if module.is_test:
                continue
            for ref in module.main_refs:
                value = index.resolve(ref)
                if isinstance(value, FuncValue) and value.qualname in functions:
                    scripted.add(value.qualname)
                    seeds[4].append(Context(value.qualname, CLI_SCOPE, "main", f"script main {functions[value.qualname].local_name}"))
        # Console scripts the project declares ([project.scripts], setup.cfg entry_points).
        for dotted, script in sorted(index.scripts.items()):
            value = index.resolve_name(dotted)
            if isinstance(value, FuncValue) and value.qualname in functions and value.qualname not in scripted:
                scripted.add(value.qualname)
                seeds[4].append(Context(value.qualname, CLI_SCOPE, "main", f"console script {script}"))
        hooks = {r.function: r for r in self.graph.hook_roots()}
        script_modules = {id(m) for m in index.modules.values() if is_script_module(m)}
        for qualname in sorted(functions):
            fn = functions[qualname]
            module = module_of[qualname]
            in_script = id(module) in script_modules
            if module.is_test:
                if fn.is_module_body or qualname not in prod_callers:
                    seeds[6].append(Context(qualname, TEST_SCOPE, "test", f"test {fn.local_name}"))
                continue
            if fn.is_module_body:
                if qualname.endswith("__main__.<module>") or in_script:
                    seeds[4].append(Context(qualname, CLI_SCOPE, "script", f"script {module.path}"))
                else:
                    seeds[5].append(Context(qualname, STARTUP_SCOPE, "import", f"import of {module.module}"))
                continue
            if qualname in scripted:
                continue
            if qualname in lifespan:
                seeds[3].append(Context(qualname, STARTUP_SCOPE, "lifespan", f"start-up/shutdown {fn.local_name}"))
                continue
            if in_script:
                if fn.is_async and qualname not in prod_callers:
                    seeds[4].append(Context(qualname, CLI_SCOPE, "script", f"script {module.path}"))
                continue
            if qualname in hooks:
                seeds[0].append(Context(qualname, SERVING, "hook", hooks[qualname].hook or "framework hook"))
                continue
            if qualname in self.registered:
                kind, label = self.registered[qualname]
                seeds[0].append(Context(qualname, SERVING, kind, label))
                continue
            if fn.is_async and qualname not in prod_callers:
                if _public(fn.local_name):
                    seeds[1].append(Context(qualname, API, "async-api", f"async API {fn.local_name}"))
                else:
                    seeds[2].append(Context(qualname, UNREFERENCED, "uncalled", f"uncalled async {fn.local_name}"))
        for caller, edges in sorted(self.graph.async_edges.items()):
            fn = functions[caller]
            if fn.is_async or id(module_of[caller]) in aside_modules:
                continue
            if fn.is_module_body or caller not in prod_callers:
                for edge in edges:
                    seeds[4].append(Context(edge.target, CLI_SCOPE, "main", f"run by {fn.local_name} (sync code)"))
        contexts = self.contexts
        for group in seeds:
            queue: deque[str] = deque()
            for seed in group:
                if seed.top not in contexts:
                    contexts[seed.top] = seed
                    queue.append(seed.top)
            while queue:
                current = queue.popleft()
                here = contexts[current]
                for edges in (sync_edges.get(current, []), async_edges.get(current, [])):
                    for edge in edges:
                        if edge.target not in contexts:
                            contexts[edge.target] = Context(here.top, here.scope, here.kind, here.label, current, edge.line)
                            queue.append(edge.target)

    def context(self, qualname: str) -> Context:
        found = self.contexts.get(qualname)
        if found is not None:
            return found
        fn = self.index.functions[qualname]
        return Context(qualname, API, "async-api", f"async {fn.local_name}")

    def path(self, qualname: str) -> list[tuple[str, int]]:
        """[(function, line of the call to the next step)] from the entry point to ``qualname``
        (whose line is 0)."""
        steps: list[tuple[str, int]] = []
        current: str | None = qualname
        line = 0
        seen: set[str] = set()
        while current is not None and current not in seen:
            seen.add(current)
            steps.append((current, line))
            info = self.contexts.get(current)
            if info is None:
                break
            current, line = info.parent, info.line
        steps.reverse()
        return steps


def _is_aside(module: ModuleSummary) -> bool:
    """Test and script code: its calls do not make a function part of the application."""
    return module.is_test or is_script_module(module)


def _public(local_name: str) -> bool:
    return not any(part.startswith("_") and not part.endswith("__") for part in local_name.split("."))
