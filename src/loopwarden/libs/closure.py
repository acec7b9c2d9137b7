"""Which library modules the project reaches, found by demand, one name at a time.

The project's summaries name what they use (``vendor_sdk.Client``, ``make().go``). Each name
is looked up among the summaries loaded so far: a function demands the names its body
uses, a class its bases, attributes and methods, a module-level variable what it was
assigned. A name that no loaded summary defines is looked up on the interpreter's path: the
longest dotted prefix that is a pure-Python module file is loaded (from the per-distribution
cache, or analysed), and the name is looked up again. So only modules that a name reaches are
analysed, not whole packages, and never the standard library, the project's own modules or
packages that the catalogue models (``requests``, ``boto3``: their blocking calls are named
there, and following their code would replace those names by longer chains).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from loopwarden.libs.environment import Distribution, Environment
from loopwarden.static.refs import AttrRef, NameRef, SelfRef, SuperRef
from loopwarden.static.summary import OFFLOAD, ClassSummary, FunctionSummary, ModuleSummary, Result

# A bound on what one scan follows (a project importing a large framework would otherwise
# pull in thousands of modules); past it, names stay unresolved, as without --follow-libs.
MAX_MODULES = 3000
# Names longer than this are not followed: aliases that refer to themselves with a suffix
# (``x = x.parent``) would otherwise grow names without end.
MAX_PARTS = 12


@dataclass(frozen=True)
class LibraryModule:
    module: str
    path: str  # absolute
    entry: str  # the sys.path entry it was found under
    package: bool
    distribution: Distribution


@dataclass
class Closure:
    """The library modules a project reaches, with their summaries."""

    summaries: list[ModuleSummary] = field(default_factory=list)
    modules: dict[str, LibraryModule] = field(default_factory=dict)  # module name -> where
    skipped: int = 0  # library files that could not be analysed (syntax, size, encoding)
    truncated: bool = False  # MAX_MODULES reached


# Loads a batch of library modules: one Result per module, in order.
Loader = Callable[[list[LibraryModule]], list[Result]]


def names_in(ref: object) -> Iterator[str]:
    """Dotted names a ref mentions: ``AttrRef(NameRef("m.x"), "y")`` gives ``m.x.y`` and
    ``m.x``. Refs are walked structurally (nested tuples), whatever their other kinds."""
    if not isinstance(ref, tuple) or not ref:
        return iter(())
    try:
        return iter(_NAMES[ref])
    except KeyError:
        pass
    except TypeError:  # an unhashable part: walk it without remembering
        return iter(_walk(ref))
    found = _NAMES[ref] = _walk(ref)
    if len(_NAMES) > 200_000:
        _NAMES.clear()
    return iter(found)


_NAMES: dict[tuple[object, ...], tuple[str, ...]] = {}


def _walk(ref: tuple[object, ...]) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[tuple[object, ...]] = [ref]
    while stack:
        current = stack.pop()
        if not current:
            continue
        dotted = _dotted(current)
        if dotted is not None:
            found.append(dotted)
        stack.extend(item for item in current if isinstance(item, tuple))
    return tuple(found)


def _dotted(ref: object) -> str | None:
    if isinstance(ref, NameRef):
        return ref.name
    if isinstance(ref, (SelfRef, SuperRef)):
        return ref.cls
    if isinstance(ref, AttrRef):
        base = _dotted(ref.base)
        return f"{base}.{ref.attr}" if base is not None else None
    return None


def _alias_target(ref: object) -> str | None:
    """``NameRef("x.y")``: a plain alias of another name."""
    return ref.name if isinstance(ref, NameRef) else None


def function_names(fn: FunctionSummary) -> Iterator[str]:
    for site in fn.calls:
        if site.kind == OFFLOAD or site.offloaded:
            continue  # what runs off the loop needs no analysis
        yield from names_in(site.ref)
        for arg in site.args:
            yield from names_in(arg)
        if site.via:
            yield from names_in(site.via[0])
        for _, arg in site.fnargs:
            yield from names_in(arg)
    for ref in fn.returns:
        yield from names_in(ref)
    for ref in fn.decorators:
        yield from names_in(ref)


def class_names(cls: ClassSummary) -> Iterator[str]:
    for ref in cls.bases:
        yield from names_in(ref)
    for ref in cls.attrs.values():
        yield from names_in(ref)
    yield from cls.methods.values()


def module_names(summary: ModuleSummary) -> Iterator[str]:
    """Every name a project module uses (all of its code may run)."""
    for fn in summary.functions.values():
        yield from function_names(fn)
    for cls in summary.classes.values():
        yield from class_names(cls)
    for ref in summary.variables.values():
        yield from names_in(ref)
    for refs in (summary.startup_refs, summary.main_refs):
        for ref in refs:
            yield from names_in(ref)


class Follower:
    """The demand-driven search. ``is_modelled(name)`` says whether the catalogue models the
    package a dotted name belongs to."""

    def __init__(self, env: Environment, project: list[ModuleSummary], is_modelled: Callable[[str], bool], load: Loader, max_modules: int = MAX_MODULES) -> None:
        self.env = env
        self.is_modelled = is_modelled
        self.load = load
        self.max_modules = max_modules
        self.project_tops = frozenset(m.module.split(".")[0] for m in project) | frozenset(
            a.split(".")[0] for m in project for a in m.aliases
        )
        self.functions: dict[str, FunctionSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.variables: dict[str, object] = {}
        self.loaded: dict[str, ModuleSummary | None] = {}  # module -> summary (None: could not be analysed)
        self.stars: dict[str, list[str]] = {}
        self.seen: set[str] = set()
        self.expanded: set[str] = set()
        self.result = Closure()
        for summary in project:
            self._add(summary)
        self.project_names = [n for m in sorted(project, key=lambda m: m.path) for n in module_names(m)]

    def run(self) -> Closure:
        queue = list(dict.fromkeys(self.project_names))
        while queue:
            wanted: dict[str, LibraryModule] = {}
            waiting: list[str] = []
            while queue:
                name = queue.pop()
                need = self._demand(name, queue)
                if need is not None:
                    wanted.setdefault(need.module, need)
                    waiting.append(name)
            if not wanted:
                break
            room = self.max_modules - len(self.result.modules)
            batch = sorted(wanted.values(), key=lambda m: m.module)
            if len(batch) > room:
                batch, self.result.truncated = batch[: max(room, 0)], True
            if not batch:
                break
            for library, result in zip(batch, self.load(batch), strict=True):
                self.result.modules[library.module] = library
                if isinstance(result, ModuleSummary):  # internal errors in a unit cost that unit only
                    self.loaded[library.module] = result
                    self._add(result)
                    self.result.summaries.append(result)
                else:
                    self.loaded[library.module] = None
                    self.result.skipped += 1
            for name in wanted:  # modules that could not be loaded are not asked for again
                self.loaded.setdefault(name, None)
            for name in waiting:
                self.seen.discard(name)
            queue = waiting
        self.result.summaries = sorted((self._pruned(m) for m in self.result.summaries), key=lambda m: m.path)
        return self.result

    def _pruned(self, summary: ModuleSummary) -> ModuleSummary:
        """The summary with the bodies of functions no name reached left empty: nothing in
        the project can call them, and the whole-program phase then spends nothing on them
        (they keep their signatures and return types, which resolution may read)."""
        functions = {
            q: fn if q in self.expanded else dataclasses.replace(fn, calls=[], loop_spans=())
            for q, fn in summary.functions.items()
        }
        return dataclasses.replace(summary, functions=functions, offloads=[o for o in summary.offloads if o.function in self.expanded])

    # -- one name ----------------------------------------------------------------------------
    def _demand(self, name: str, queue: list[str]) -> LibraryModule | None:
        """Expand ``name`` (pushing the names it leads to) or say which module it needs."""
        if name in self.seen:
            return None
        self.seen.add(name)
        parts = name.split(".")
        if len(parts) > MAX_PARTS:
            return None
        top = parts[0]
        if top in self.env.stdlib_names or top == "builtins":
            return None
        library = top not in self.project_tops
        if library and self.is_modelled(name):
            return None
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            rest = parts[i:]
            if prefix in self.functions:
                self._expand(prefix, function_names(self.functions[prefix]), queue)
                return None
            if prefix in self.classes:
                if rest and f"{prefix}.{rest[0]}" not in self.functions:
                    for base in names_in(self.classes[prefix].bases):  # an inherited member
                        queue.append(".".join([base, *rest]))
                self._expand(prefix, class_names(self.classes[prefix]), queue)
                return None
            if prefix in self.variables:
                ref = self.variables[prefix]
                target = _alias_target(ref)
                if target != prefix:
                    if target is not None:
                        queue.append(".".join([target, *rest]))
                    else:
                        self._expand(prefix, names_in(ref), queue)
                    return None
            if prefix in self.loaded:
                for star in self.stars.get(prefix, ()):
                    if rest:
                        queue.append(".".join([star, *rest]))
                if rest and library:
                    sub = self._find(f"{prefix}.{rest[0]}")
                    if sub is not None:
                        return sub
                return None
            if library:
                found = self._find(prefix)
                if found is not None:
                    return found
        return None

    def _expand(self, key: str, names: Iterable[str], queue: list[str]) -> None:
        """Push the names ``key`` leads to, once (``names`` is a lazy iterator)."""
        if key in self.expanded:
            return
        self.expanded.add(key)
        queue.extend(names)

    def _find(self, module: str) -> LibraryModule | None:
        if module in self.loaded:
            return None
        located = self.env.locate(module)
        if located is None:
            return None
        path, entry, package = located
        relative = os.path.relpath(path, entry).replace(os.sep, "/")
        dist = self.env.distribution(entry, relative) or Distribution(f"(unpackaged {module.split('.')[0]})", "", entry)
        return LibraryModule(module, path, entry, package, dist)

    def _add(self, summary: ModuleSummary) -> None:
        self.loaded.setdefault(summary.module, summary)
        for qualname, fn in summary.functions.items():
            self.functions.setdefault(qualname, fn)
        for qualname, cls in summary.classes.items():
            self.classes.setdefault(qualname, cls)
        for qualname, ref in summary.variables.items():
            self.variables.setdefault(qualname, ref)
        if summary.star_imports:
            self.stars[summary.module] = list(summary.star_imports)
