"""Whole-program index: resolves the refs of all summaries to project code or external symbols.

Resolution yields *values* (``values.py``: one small frozen class per kind, ``FuncValue``,
``ClassValue``, ``InstValue``, ``ExtValue``, ``ExtInstValue``, ...), or ``None`` when nothing
is known.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from loopwarden.catalog import Catalog
from loopwarden.static.refs import (
    AttrRef,
    BaseRef,
    CallRef,
    DynAttrRef,
    DynModRef,
    ElemRef,
    IterRef,
    MapRef,
    NameRef,
    OffResRef,
    ParamRef,
    Ref,
    RefTuple,
    SelfRef,
    SeqRef,
    StrRef,
    SuperRef,
    UnionRef,
    VariantRef,
)
from loopwarden.static.summary import ClassSummary, FunctionSummary, ModuleSummary, Skipped, internal_error
from loopwarden.static.values import (
    AnyValue,
    ClassValue,
    ExtInstValue,
    ExtValue,
    FuncValue,
    InstValue,
    KnownValue,
    MapGetterValue,
    MapValue,
    MapValuesValue,
    ModuleValue,
    SeqValue,
    StrPartValue,
    StrValue,
    SuperValue,
    Value,
)

_MAX_DEPTH = 60
_STDLIB_MODULES = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
_MAX_ROUNDS = 4  # re-resolutions of a cycle's head before its value is taken as it is
_UNKNOWN = object()  # not in the memo (None is a value there)
_FINAL = 1 << 30  # "depends on no ref in progress"
_PROTOCOL_BASES = ("typing.Protocol", "typing_extensions.Protocol", "abc.ABC")
_TYPED = (InstValue, ExtInstValue, FuncValue, ClassValue, StrValue, StrPartValue)
# str methods whose results are parts of the string: ("a.b:C".partition(":") holds "a.b" and "C")
_STRING_PARTS = frozenset({"split", "rsplit", "partition", "rpartition", "strip", "rstrip", "lstrip", "removeprefix", "removesuffix", "replace"})
_MAX_ALTERNATIVES = 6
_MAP_GETTERS = frozenset({"get", "pop", "setdefault", "__getitem__"})


class ProgramIndex:
    def __init__(self, modules: Iterable[ModuleSummary], catalog: Catalog, scripts: dict[str, str] | None = None) -> None:
        self.catalog = catalog
        self.scripts: dict[str, str] = dict(scripts or {})  # console scripts: dotted function -> script name
        self.modules: dict[str, ModuleSummary] = {}
        self.functions: dict[str, FunctionSummary] = {}
        self.function_module: dict[str, ModuleSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.class_module: dict[str, ModuleSummary] = {}
        self.variables: dict[str, Ref] = {}
        modules = sorted(modules, key=lambda m: m.path)
        for summary in modules:
            self._add(summary)
        self._module_names = self._unambiguous_module_names(modules)
        self._memo: dict[Ref, Value] = {}
        self._active: dict[Ref, int] = {}  # refs being resolved -> position on the stack
        self._assumed: dict[Ref, Value] = {}  # heads of cycles -> their current approximation
        self._provisional: dict[Ref, tuple[Value, int]] = {}
        self._lowest = _FINAL  # lowest stack position the current resolution depended on
        self._star_guard: set[tuple[str, str]] = set()
        self._complete = False
        self._mro_memo: dict[str, tuple[ClassSummary | str, ...]] = {}
        self._protocol_memo: dict[str, bool] = {}
        self.methods_by_name: dict[str, list[str]] = {}
        for cls in self.classes.values():
            for name, method in cls.methods.items():
                self.methods_by_name.setdefault(name, []).append(method)
        self.errors: list[Skipped] = []  # internal errors, each costing one class's bases
        self._param_values: dict[tuple[str, int], list[Ref]] | None = None  # built below
        self._param_reads = 0  # parameters read while they had no values yet
        self._tainted: set[Ref] | None = None  # while binding: memo entries that depend on such a read
        self.subclasses: dict[str, list[str]] = {}
        for qualname, cls in sorted(self.classes.items()):
            try:
                for value in self.base_classes(cls):
                    self.subclasses.setdefault(value, []).append(qualname)
            except RecursionError:
                raise
            except Exception as exc:  # a bug here costs this class's bases, not the scan
                path = self.class_module[qualname].path
                self.errors.append(Skipped(path, internal_error(exc, f"the bases of class {cls.local_name}")))
        # Nothing resolved before the class tree was complete is kept; of what binding the
        # arguments resolves, only what read no parameter (those had no values yet).
        self._memo.clear()
        self._tainted = set()
        self._param_values = self._bind_function_arguments()
        for ref in self._tainted:
            del self._memo[ref]
        self._tainted = None
        self.__dict__.pop("_overrides_memo", None)
        self._complete = True  # from here on, class trees are final: mro() and is_protocol() remember

    @staticmethod
    def _unambiguous_module_names(modules: list[ModuleSummary]) -> dict[str, ModuleSummary]:
        """Primary names, plus aliases that only one file claims. An alias never takes a
        standard library name: ``import time`` is absolute and reaches the standard library,
        not the project's ``utils/time.py`` (which its package reaches by its full name or by
        a relative import, both of which resolve to the primary name)."""
        names = {m.module: m for m in modules}
        claims: dict[str, list[ModuleSummary]] = {}
        for summary in modules:
            for alias in summary.aliases:
                if alias.split(".")[0] not in _STDLIB_MODULES:
                    claims.setdefault(alias, []).append(summary)
        for alias, owners in claims.items():
            if len(owners) == 1 and alias not in names:
                names[alias] = owners[0]
        return names

    def _add(self, summary: ModuleSummary) -> None:
        self.modules.setdefault(summary.module, summary)
        for qualname, fn in summary.functions.items():
            self.functions.setdefault(qualname, fn)
            self.function_module.setdefault(qualname, summary)
        for qualname, cls in summary.classes.items():
            if qualname not in self.classes:
                self.classes[qualname] = cls
                self.class_module[qualname] = summary
        for qualname, ref in summary.variables.items():
            self.variables.setdefault(qualname, ref)

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, ref: Ref) -> Value:
        """The value of ``ref``, the same whatever was resolved before (results must not depend
        on the order of files or definitions). Refs can form cycles (``x = y; y = x or
        Path()``): a ref met again while it is being resolved stands for its current
        approximation (first nothing), the cycle's head is re-resolved until its value is
        stable, and values that depended on an unfinished cycle, or on a cut depth, are only
        kept until the outermost resolution ends."""
        if ref is None:
            return None
        known = self._memo.get(ref, _UNKNOWN)
        if known is not _UNKNOWN:
            if self._tainted is not None and ref in self._tainted:
                self._param_reads += 1  # what uses it depends on a parameter too
            return known  # type: ignore[return-value]
        active = self._active.get(ref)
        if active is not None:  # a cycle back to a ref in progress
            self._lowest = min(self._lowest, active)
            return self._assumed.get(ref)
        if ref in self._provisional:
            value, lowest = self._provisional[ref]
            self._lowest = min(self._lowest, lowest)
            return value
        position = len(self._active)
        if position > _MAX_DEPTH:
            self._lowest = -1  # cut: nothing on the stack is final
            return None
        outer_lowest, self._lowest = self._lowest, _FINAL
        reads = self._param_reads
        self._active[ref] = position
        try:
            value = self._resolve(ref)
            rounds = 0
            while self._lowest == position and rounds < _MAX_ROUNDS and value != self._assumed.get(ref):
                # This ref heads a cycle: resolve it again assuming what it gave last time.
                self._assumed[ref] = value
                self._provisional.clear()
                self._lowest = _FINAL
                value = self._resolve(ref)
                rounds += 1
        finally:
            del self._active[ref]
            self._assumed.pop(ref, None)
        lowest = self._lowest
        if lowest >= position:  # depends on nothing still in progress: final
            if lowest == position:
                self._provisional.clear()  # computed under this head's assumptions
            self._memo[ref] = value
            if self._tainted is not None and self._param_reads != reads:
                self._tainted.add(ref)
            lowest = _FINAL
        else:
            self._provisional[ref] = (value, lowest)
        self._lowest = min(outer_lowest, lowest)
        if not self._active:
            self._provisional.clear()
            self._lowest = _FINAL
        return value

    def _resolve(self, ref: RefTuple) -> Value:
        if isinstance(ref, NameRef):
            return self.resolve_name(ref.name)
        if isinstance(ref, AttrRef):
            return self.attribute(self.resolve(ref.base), ref.attr)
        if isinstance(ref, CallRef):
            return self.call_result(self.resolve(ref.callee))
        if isinstance(ref, SelfRef):
            return InstValue(ref.cls) if ref.cls in self.classes else None
        if isinstance(ref, SuperRef):
            return SuperValue(ref.cls) if ref.cls in self.classes else None
        if isinstance(ref, ElemRef):  # an item taken out: x[i]
            return self.element(self.resolve(ref.of), ref.of)
        if isinstance(ref, IterRef):  # a loop variable: iterating a mapping gives its keys
            container = self.resolve(ref.of)
            return None if isinstance(container, MapValue) else self.element(container, ref.of)
        if isinstance(ref, MapRef):
            inner = self.resolve(ref.value)
            return MapValue(inner) if inner is not None else None
        if isinstance(ref, OffResRef):  # await asyncio.to_thread(f, ...) gives what f() returns
            return self.call_result(self.resolve(ref.callable))
        if isinstance(ref, SeqRef):
            inner = self.resolve(ref.item)
            return SeqValue(inner) if inner is not None else None
        if isinstance(ref, UnionRef):
            return self._best_of(self.resolve(r) for r in ref.members)
        if isinstance(ref, ParamRef):
            return self._parameter(ref.function, ref.position)
        if isinstance(ref, VariantRef):
            return self._variant(ref)
        if isinstance(ref, StrRef):
            return StrValue(ref.text)
        if isinstance(ref, DynModRef):
            return self._dynamic_module(self.resolve(ref.name))
        if isinstance(ref, DynAttrRef):
            return self._dynamic_attribute(self.resolve(ref.obj), self.resolve(ref.name))
        return None

    @staticmethod
    def _strings(value: Value) -> list[str]:
        if value is None:
            return []
        if isinstance(value, StrValue):
            return [value.text]
        if isinstance(value, AnyValue):
            return [v.text for v in value.members if isinstance(v, StrValue)]
        return []

    def _dynamic_module(self, value: Value) -> Value:
        """``importlib.import_module(name)`` with ``name`` a string from a registry or a
        setting (``"pkg.mod:Name"``, ``"pkg.mod.Name"``, perhaps split later): the project
        module it names."""
        found: list[KnownValue] = []
        for text in self._strings(value):
            path = text.partition(":")[0]
            while path and path not in self._module_names:
                path = path.rpartition(".")[0]
            if path:
                module = ModuleValue(self._module_names[path].module)
                if module not in found:
                    found.append(module)
        if not found:
            return None
        return found[0] if len(found) == 1 else AnyValue(tuple(found[:_MAX_ALTERNATIVES]))

    def _dynamic_attribute(self, obj: Value, name: Value) -> Value:
        """``getattr(module, name)`` with ``name`` from such a string: the class or function
        the string names (its last part), in the module when known, else by the full name."""
        values: list[Value] = []
        for text in self._strings(name):
            attr = text.rpartition(":")[2].rpartition(".")[2]
            if isinstance(obj, (ModuleValue, AnyValue)):
                values.append(self.attribute(obj, attr))
            else:
                value = self.resolve_name(text.replace(":", "."))
                values.append(value if isinstance(value, (ClassValue, FuncValue)) else None)
        return self._best_of(values)

    def _variant(self, ref: VariantRef) -> Value:
        """The call's result is the named variant of its type (``socket.socket!datagram``),
        when the argument (if any) is an in-memory buffer."""
        value = self.resolve(ref.result)
        if not isinstance(value, ExtInstValue) or value.type.endswith("()") or "!" in value.type:
            return value
        if ref.argument is not None:
            argument = self.resolve(ref.argument)
            if not isinstance(argument, ExtInstValue) or argument.type not in self.catalog.memory_types:
                return value
        return ExtInstValue(f"{value.type}!{ref.variant}")

    def _parameter(self, function: str, index: int) -> Value:
        """An unannotated parameter: the functions (or classes) that callers pass for it
        (``make(factory=build_store)`` makes ``factory()`` a call to build_store)."""
        if self._param_values is None:
            self._param_reads += 1
            return None
        values: list[Value] = []
        for ref in self._param_values.get((function, index), ()):
            value = self.resolve(ref)
            members = value.members if isinstance(value, AnyValue) else (value,)
            values.extend(m for m in members if isinstance(m, (FuncValue, ClassValue, StrValue)))
        return self._best_of(values)

    def _bind_function_arguments(self) -> dict[tuple[str, int], list[Ref]]:
        """(function, parameter index) -> the refs of the function-like arguments passed for it."""
        bound: dict[tuple[str, int], list[Ref]] = {}
        for qualname in sorted(self.functions):
            for site in self.functions[qualname].calls:
                if not site.fnargs:
                    continue
                try:
                    targets = self._callee_functions(self.resolve(site.ref))
                except RecursionError:
                    raise
                except Exception as exc:  # costs this call's arguments only
                    self.errors.append(Skipped(self.function_module[qualname].path, internal_error(exc, f"arguments at line {site.line}")))
                    continue
                for target in targets:
                    params = self.functions[target].params
                    for key, ref in site.fnargs:
                        index = key if isinstance(key, int) else (params.index(key) if key in params else None)
                        if index is not None and index < len(params):
                            refs = bound.setdefault((target, index), [])
                            if ref not in refs and len(refs) < _MAX_ALTERNATIVES:
                                refs.append(ref)
        return bound

    def _callee_functions(self, value: Value) -> list[str]:
        if value is None:
            return []
        if isinstance(value, FuncValue) and value.qualname in self.functions:
            return [value.qualname]
        if isinstance(value, ClassValue):
            return [m for m in self.constructor_methods(value.qualname)[:1]]
        return []

    @staticmethod
    def _best_of(values: Iterable[Value]) -> Value:
        """Several possible values (a union annotation, a factory with several returns):
        the typed ones, as ``AnyValue((...))`` when they differ, else the first known one."""
        typed: list[KnownValue] = []
        first = None
        for value in values:
            if value is None:
                continue
            members = value.members if isinstance(value, AnyValue) else (value,)
            for member in members:
                if isinstance(member, _TYPED) and member not in typed:
                    typed.append(member)
            first = first or value
        if len(typed) > 1:
            return AnyValue(tuple(typed[:_MAX_ALTERNATIVES]))
        return typed[0] if typed else first

    def resolve_name(self, name: str) -> Value:
        if name in self.functions:
            return self._function_or_sink(name)
        if name in self.classes:
            return ClassValue(name)
        if name in self._module_names:
            return ModuleValue(self._module_names[name].module)
        if name in self.variables:
            return self.resolve(self.variables[name])
        module, rest = self._split_module(name)
        if module is not None:
            value: Value = ModuleValue(module)
            for part in rest:
                value = self.attribute(value, part)
                if value is None:
                    return None
            return value
        return ExtValue(self.catalog.canonical(name))

    def _split_module(self, name: str) -> tuple[str | None, list[str]]:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:cut])
            if head in self._module_names:
                return self._module_names[head].module, parts[cut:]
        return None, []

    def attribute(self, value: Value, attr: str) -> Value:
        if value is None:
            return None
        if isinstance(value, AnyValue):
            return self._best_of(self.attribute(v, attr) for v in value.members)
        if isinstance(value, ModuleValue):
            member = f"{value.name}.{attr}"
            if member in self.functions or member in self.classes or member in self.variables or member in self._module_names:
                return self.resolve_name(member)
            return self._star_member(value.name, attr)
        if isinstance(value, ClassValue):
            return self.class_member(value.qualname, attr, instance=False)
        if isinstance(value, InstValue):
            return self._dispatch(value.cls, attr, self.class_member(value.cls, attr, instance=True))
        if isinstance(value, SuperValue):
            return self.class_member(value.cls, attr, instance=True, skip_first=True)
        if isinstance(value, ExtValue):
            returned = self.catalog.returns.get(value.name)
            if returned is not None and value.name not in self.catalog.classes:
                # A typed attribute (Path.parent): continue on an instance of its type.
                return self.attribute(ExtInstValue(self.catalog.canonical(returned)), attr)
            return ExtValue(self.catalog.canonical(f"{value.name}.{attr}"))
        if isinstance(value, ExtInstValue):
            return ExtValue(self.catalog.canonical(f"{value.type}.{attr}"))
        if isinstance(value, StrValue):  # "pkg.mod:Name".partition(":"): parts of the same string
            return StrPartValue(value.text) if attr in _STRING_PARTS else None
        if isinstance(value, MapValue):  # d.get(key), d.pop(key), d.values()
            if attr in _MAP_GETTERS:
                return MapGetterValue(value.value)
            if attr == "values":
                return MapValuesValue(value.value)
        return None

    def _function_or_sink(self, qualname: str) -> Value:
        """A project function that the catalogue names exactly (``mypkg.legacy.client.fetch``
        in [tool.loopwarden.catalog]) is that blocking call, also when its module is scanned."""
        return ExtValue(qualname) if qualname in self.catalog.sinks else FuncValue(qualname)

    def _star_member(self, module: str, attr: str) -> Value:
        """``from pkg.actions import *``: a name the module does not define may come from there."""
        summary = self.modules.get(module)
        if summary is None or not summary.star_imports:
            return None
        if (module, attr) in self._star_guard:
            self._lowest = -1  # a cycle of star imports: what it gives depends on where it began
            return None
        self._star_guard.add((module, attr))  # star imports may form cycles
        try:
            return self._from_star_sources(summary.star_imports, attr)
        finally:
            self._star_guard.discard((module, attr))

    def _from_star_sources(self, sources: list[str], attr: str) -> Value:
        for source in sources:
            if source in self._module_names:
                found = self.attribute(ModuleValue(self._module_names[source].module), attr)
                if found is not None:
                    return found
            else:
                symbol = self.catalog.canonical(f"{source}.{attr}")
                if self.catalog.sink(symbol) is not None or symbol in self.catalog.returns:
                    return ExtValue(symbol)
        return None

    def class_member(self, qualname: str, attr: str, instance: bool, skip_first: bool = False) -> Value:
        for position, cls in enumerate(self.mro(qualname)):
            if skip_first and position == 0:
                continue
            if isinstance(cls, str):  # an external base: its members are external symbols
                return ExtValue(self.catalog.canonical(f"{cls}.{attr}"))
            method = cls.methods.get(attr)
            if method is not None:
                fn = self.functions.get(method)
                if instance and fn is not None and fn.is_property:
                    return self.call_result(FuncValue(method))
                return self._function_or_sink(method)
            if attr in cls.attrs:
                return self.resolve(cls.attrs[attr])
        return None

    def base_classes(self, cls: ClassSummary) -> list[str]:
        """The project classes ``cls`` derives from directly."""
        found = []
        for base in cls.bases:
            value = self.resolve(base)
            if isinstance(value, ClassValue) and value.qualname not in found:
                found.append(value.qualname)
        return found

    def mro(self, qualname: str) -> Iterable[ClassSummary | str]:
        """Project classes in method-resolution order (depth-first), then external bases by name."""
        if not self._complete:
            return self._mro(qualname)
        found = self._mro_memo.get(qualname)
        if found is None:
            found = self._mro_memo[qualname] = tuple(self._mro(qualname))
        return found

    def _mro(self, qualname: str) -> Iterator[ClassSummary | str]:
        seen: set[str] = set()
        stack = [qualname]
        externals: list[str] = []
        while stack:
            current = stack.pop(0)
            if current in seen:
                continue
            seen.add(current)
            cls = self.classes.get(current)
            if cls is None:
                continue
            yield cls
            bases = []
            for base in cls.bases:
                value = self.resolve(base)
                if value is None:
                    continue
                if isinstance(value, ClassValue):
                    bases.append(value.qualname)
                elif isinstance(value, ExtValue) and value.name not in ("builtins.object",):
                    externals.append(value.name)
            stack[0:0] = bases
        for name in externals:
            if name not in _PROTOCOL_BASES and not name.startswith("typing."):
                yield name

    def ancestors(self, qualname: str) -> list[str]:
        """Every base class name, project (qualname) and external (dotted), transitively."""
        names = []
        for cls in self.mro(qualname):
            names.append(cls if isinstance(cls, str) else cls.qualname)
        for cls in self._raw_external_bases(qualname):
            if cls not in names:
                names.append(cls)
        return names

    def _raw_external_bases(self, qualname: str) -> list[str]:
        found = []
        for cls in self.mro(qualname):
            if isinstance(cls, str):
                continue
            for base in cls.bases:
                value = self.resolve(base)
                if isinstance(value, ExtValue):
                    found.append(value.name)
        return found

    def call_result(self, callee: Value) -> Value:
        if callee is None:
            return None
        if isinstance(callee, AnyValue):
            return self._best_of(self.call_result(v) for v in callee.members)
        if isinstance(callee, FuncValue):
            fn = self.functions.get(callee.qualname)
            if fn is None:
                return None
            return self._best_of(self.resolve(r) for r in fn.returns)
        if isinstance(callee, ClassValue):
            return InstValue(callee.qualname)
        if isinstance(callee, ExtValue):
            return ExtInstValue(self.external_result_type(callee.name))
        if isinstance(callee, ExtInstValue):
            return ExtInstValue(f"{callee.type}()")
        if isinstance(callee, MapGetterValue):
            return callee.value
        if isinstance(callee, StrPartValue):
            return StrValue(callee.text)
        if isinstance(callee, MapValuesValue):
            return SeqValue(callee.value)
        return None

    def external_result_type(self, symbol: str) -> str:
        catalog = self.catalog
        if symbol in catalog.returns:
            return catalog.canonical(catalog.returns[symbol])
        last = symbol.rpartition(".")[2]
        if symbol in catalog.classes or last[:1].isupper():
            return symbol
        return f"{symbol}()"

    def element(self, value: Value, ref: Ref) -> Value:
        if value is None:
            return None
        if isinstance(value, AnyValue):
            return self._best_of(self.element(v, ref) for v in value.members)
        if isinstance(value, SeqValue):
            return value.item
        if isinstance(value, MapValue):
            return value.value
        if isinstance(value, StrValue):  # an item of "a.b:C".partition(":")
            return value
        if isinstance(value, ExtInstValue):
            if value.type.endswith("()"):
                sink = self.catalog.sink(value.type[:-2])
                if sink is not None and sink.yields:
                    return ExtInstValue(self.catalog.canonical(sink.yields))
            # An item of a library's own container (ZipFile.infolist()): typed by the library,
            # so no method-name guessing on it.
            return ExtInstValue(f"{value.type}[]")
        return None

    # -- helpers for reachability --------------------------------------------------------
    def is_abstract_method(self, qualname: str) -> bool:
        fn = self.functions.get(qualname)
        if fn is None or fn.class_qualname is None:
            return False
        if fn.is_abstract:
            return True
        # A method with a body in an abc.ABC class runs when called (super().__init__());
        # which overrides a call on an instance may reach is decided by the instance's
        # declared type (_dispatch). In a Protocol, every member is an interface declaration.
        return self._is_protocol(fn.class_qualname)

    def _is_protocol(self, class_qualname: str) -> bool:
        known = self._protocol_memo.get(class_qualname) if self._complete else None
        if known is None:
            known = any(base in _PROTOCOL_BASES and base != "abc.ABC" for base in self._raw_external_bases(class_qualname))
            if self._complete:
                self._protocol_memo[class_qualname] = known
        return known

    def _dispatch(self, class_qualname: str, attr: str, found: Value) -> Value:
        """A method call on an instance whose declared type is ``class_qualname``. A method
        with a body runs as found, in any class (``super().__init__()`` and ``self.helper()``
        in an ``abc.ABC`` base included: never a sibling subclass's override). An abstract
        method found in an ancestor runs as one of the overrides in the declared type's own
        subclasses, never in a sibling of the declared type."""
        if not isinstance(found, FuncValue) or not self.is_abstract_method(found.qualname):
            return found
        fn = self.functions[found.qualname]
        if fn.class_qualname == class_qualname:
            return found  # declared as the abstract class itself: every override may run
        family = {class_qualname}
        stack = [class_qualname]
        while stack:
            for sub in self.subclasses.get(stack.pop(), ()):
                if sub not in family:
                    family.add(sub)
                    stack.append(sub)
        candidates = [o for o in self.overrides(found[1]) if self.functions[o].class_qualname in family]
        if not candidates or any(self.functions[o].is_async != fn.is_async for o in candidates):
            return found  # nothing more precise, or sync and async twins: the call site decides
        if len(candidates) == 1:
            return FuncValue(candidates[0])
        return AnyValue(tuple(FuncValue(o) for o in candidates[:_MAX_ALTERNATIVES]))

    def overrides(self, qualname: str) -> list[str]:
        """Concrete overrides of a method in project subclasses (for calls on abstract bases).
        Remembered per method: a base class of a large code base (Home Assistant's Entity) has
        thousands of subclasses, and its methods are asked about from every call site."""
        memo: dict[str, list[str]] = self.__dict__.setdefault("_overrides_memo", {})
        if qualname not in memo:
            memo[qualname] = self._overrides(qualname)
        return list(memo[qualname])

    def _overrides(self, qualname: str) -> list[str]:
        fn = self.functions.get(qualname)
        if fn is None or fn.class_qualname is None:
            return []
        method = qualname.rpartition(".")[2]
        found: list[str] = []
        seen: set[str] = set()
        stack = deque(self.subclasses.get(fn.class_qualname, []))
        while stack:
            sub = stack.popleft()
            if sub in seen:
                continue
            seen.add(sub)
            cls = self.classes[sub]
            if method in cls.methods:
                found.append(cls.methods[method])
            stack.extend(self.subclasses.get(sub, []))
        return found

    def constructor_methods(self, class_qualname: str) -> list[str]:
        found = []
        for name in ("__init__", "__post_init__"):
            member = self.class_member(class_qualname, name, instance=False)
            if isinstance(member, FuncValue):
                found.append(member.qualname)
        return found


def prefer_own_root(modules: list[ModuleSummary], roots: dict[str, str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """A monorepo holding ``svc1/app/`` and ``svc2/app/``: both files claim the import name
    ``app.util``, which is then ambiguous.  Each file imports from its own import root
    (``roots``: display path -> the directory holding its top-level packages), so rewrite,
    in each module, names that start with an ambiguous module name to the primary name of
    the claimant nearest to the importer (same root first, then the longest shared path).
    Modules are changed in place; returns the (importer path, import name, claimant paths)
    that stay ambiguous (equally near), so that the caller can say so."""
    primary = {m.module for m in modules}
    claims: dict[str, list[ModuleSummary]] = {}
    for summary in modules:
        for alias in summary.aliases:
            if alias not in primary and alias.split(".")[0] not in _STDLIB_MODULES:  # as ProgramIndex does
                claims.setdefault(alias, []).append(summary)
    ambiguous = {alias: owners for alias, owners in claims.items() if len(owners) > 1}
    unresolved: list[tuple[str, str, tuple[str, ...]]] = []
    if not ambiguous:
        return unresolved

    def closeness(importer: ModuleSummary, owner: ModuleSummary) -> tuple[bool, int]:
        mine, theirs = roots.get(importer.path, ""), roots.get(owner.path, "")
        shared = 0
        for a, b in zip(mine.split(os.sep), theirs.split(os.sep)):  # noqa: B905
            if a != b:
                break
            shared += 1
        return (bool(mine) and mine == theirs, shared)

    # A name is rewritten only when it starts with an ambiguous module name, and a module
    # holds only names it imports or defines: skip (without walking it) every module that
    # imports and is named nothing that starts like an ambiguous name.
    firsts = {alias.split(".")[0] for alias in ambiguous}
    for summary in modules:
        own = summary.module.split(".")[0]  # its own names are qualified with its primary name
        if own not in firsts and firsts.isdisjoint(summary.import_heads) and firsts.isdisjoint(m.split(".")[0] for m in summary.star_imports):
            continue
        chosen: dict[str, str | None] = {}

        def rename(name: str, summary: ModuleSummary = summary, chosen: dict[str, str | None] = chosen) -> str:
            parts = name.split(".")
            for cut in range(len(parts), 0, -1):
                head = ".".join(parts[:cut])
                if head in primary or (head in claims and head not in ambiguous):
                    return name
                if head in ambiguous:
                    if head not in chosen:
                        ranked = sorted((closeness(summary, o), o.module) for o in ambiguous[head])
                        best, runner_up = ranked[-1], ranked[-2]
                        chosen[head] = best[1] if best[0] > runner_up[0] else None
                        if chosen[head] is None:
                            unresolved.append((summary.path, head, tuple(sorted(o.path for o in ambiguous[head]))))
                    target = chosen[head]
                    return name if target is None else ".".join([target, *parts[cut:]])
            return name

        _rewrite_names(summary, rename)
    return sorted(unresolved)


# Fields of summaries that hold names of the module's own, never refs (not walked).
_NOT_REFS = frozenset({"qualname", "local_name", "params", "decorator_names", "decorator_args", "def_lines", "loop_spans", "path", "module", "aliases"})


def _rewrite_names(summary: ModuleSummary, rename: Callable[[str], str]) -> None:
    """Apply ``rename`` to every ``NameRef`` held by the summary. Linear in the
    summary's size and allocation-free where nothing changes (every module of a monorepo with
    one ambiguous name goes through here): each distinct name is renamed once, scalars
    return at once, containers are rebuilt only when something in them changed."""
    import dataclasses

    renamed: dict[str, str] = {}
    fields_of: dict[type, tuple[str, ...]] = {}
    scalars = (str, int, float, bool, type(None), frozenset)

    def fix(value: Any) -> Any:
        kind = type(value)
        if kind in scalars:
            return value
        if isinstance(value, NameRef):
            old = value.name
            new = renamed.get(old)
            if new is None:
                new = renamed[old] = rename(old)
            return value if new == old else NameRef(new)
        if isinstance(value, BaseRef):
            fixed = [fix(v) for v in value.fields]
            return value if all(a is b for a, b in zip(fixed, value.fields)) else type(value)(*fixed)  # noqa: B905
        if isinstance(value, tuple):
            fixed = [fix(v) for v in value]
            if all(a is b for a, b in zip(fixed, value)):  # noqa: B905 (same length)
                return value
            return kind._make(fixed) if hasattr(value, "_make") else tuple(fixed)
        if isinstance(value, list):
            fixed = [fix(v) for v in value]
            return value if all(a is b for a, b in zip(fixed, value)) else fixed  # noqa: B905
        if isinstance(value, dict):
            changed = {k: new for k, v in value.items() if (new := fix(v)) is not v}
            return {**value, **changed} if changed else value
        names = fields_of.get(kind)
        if names is None:
            is_record = dataclasses.is_dataclass(value) and not isinstance(value, type)
            names = fields_of[kind] = tuple(f.name for f in dataclasses.fields(value) if f.name not in _NOT_REFS) if is_record else ()
        changes: dict[str, Any] = {}
        for name in names:
            old = getattr(value, name)
            new = fix(old)
            if new is not old:
                changes[name] = new
        if not changes:
            return value
        if value.__dataclass_params__.frozen:
            return dataclasses.replace(value, **changes)
        for key, new in changes.items():
            setattr(value, key, new)
        return value

    for name in ("functions", "classes", "variables", "offloads", "startup_refs"):
        setattr(summary, name, fix(getattr(summary, name)))
    summary.star_imports = [rename(m) for m in summary.star_imports]
