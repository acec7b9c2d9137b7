"""Refs: what an expression evaluates to, as the per-file analysis can tell without the rest
of the program. One small frozen class per kind:

    NameRef("pkg.mod.func")            a dotted global name (project or external)
    CallRef(ref)                       the result of calling ref
    AttrRef(ref, "name")               attribute of ref
    SelfRef("pkg.mod.Class")           the instance inside a method of Class
    SuperRef("pkg.mod.Class")          ``super()`` inside a method of Class
    ElemRef(ref)                       an item of the iterable ref (``x[i]``, ``a, b = x``)
    SeqRef(ref)                        a container whose items are ref (``list[X]``, ``[x, y]``)
    MapRef(ref)                        a mapping whose values are ref (``dict[str, X]``)
    IterRef(ref)                       a loop variable over ref (a mapping's keys, a list's items)
    UnionRef((ref, ...))               one of several
    OffResRef(ref)                     what ``await asyncio.to_thread(ref, ...)`` returns
    UnknownRef()                       a receiver nothing is known about
    ParamRef("pkg.mod.func", i)        the i-th unannotated parameter of func (self excluded)
    StrRef("text")                     a constant string (registries: ``"pkg.mod:Name"``)
    VariantRef(ref, ref, "name")       a call whose result is a catalogue variant chosen by an argument
    DynModRef(ref)                     ``importlib.import_module(ref)``: a module named by a string
    DynAttrRef(ref, ref)               ``getattr(ref, ref)``: an attribute named by a string

``None`` stands for "nothing known". Names are already qualified with the module's imports,
so a ref means the same thing in every process.

Each class is a tuple whose first item is the kind's tag: equality and hashing stay those of
tuples (done in C, and the whole-program phase hashes refs millions of times), and two kinds
with the same fields never compare equal. Code reads the named fields, never the tag or the
positions. Construction interns each ref in a bounded table, so a summary holds one object per
distinct ref and pickles (the cache, the worker processes) store each of them once. ``repr``
stays the tuple's: canonical orders (``sorted(members, key=repr)``) are those of plain tuples.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, TypeAlias, TypeVar

_R = TypeVar("_R", bound="BaseRef")
_table: dict[tuple[Any, ...], Any] = {}
_TABLE_LIMIT = 1 << 18


def _interned(cls: type[_R], items: tuple[Any, ...]) -> _R:
    """A new ref of kind ``cls`` holding ``items`` (its tag first), remembered so that the
    next construction of an equal ref returns it (``_table.get(items) or _interned(...)``)."""
    if len(_table) >= _TABLE_LIMIT:
        _table.clear()
    made = tuple.__new__(cls, items)
    _table[items] = made
    return made


def clear_interned() -> None:
    """Forget interned refs (the extractor calls it per file: memory stays bounded)."""
    _table.clear()


class BaseRef(tuple[Any, ...]):
    """What every kind of ref shares: ``type(ref)(*ref.fields)`` rebuilds it."""

    __slots__ = ()
    kind: str = ""

    @property
    def fields(self) -> tuple[Any, ...]:
        return tuple(self)[1:]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(self)[1:])


class NameRef(BaseRef):
    __slots__ = ()
    kind = "name"
    name: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, name: str) -> NameRef:
        items = ("name", name)
        return _table.get(items) or _interned(cls, items)


class CallRef(BaseRef):
    __slots__ = ()
    kind = "call"
    callee: RefTuple = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, callee: RefTuple) -> CallRef:
        items = ("call", callee)
        return _table.get(items) or _interned(cls, items)


class AttrRef(BaseRef):
    __slots__ = ()
    kind = "attr"
    base: Ref = property(itemgetter(1))  # type: ignore[assignment]
    attr: str = property(itemgetter(2))  # type: ignore[assignment]

    def __new__(cls, base: Ref, attr: str) -> AttrRef:
        items = ("attr", base, attr)
        return _table.get(items) or _interned(cls, items)


class SelfRef(BaseRef):
    __slots__ = ()
    kind = "self"
    cls: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, class_qualname: str) -> SelfRef:
        items = ("self", class_qualname)
        return _table.get(items) or _interned(cls, items)


class SuperRef(BaseRef):
    __slots__ = ()
    kind = "super"
    cls: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, class_qualname: str) -> SuperRef:
        items = ("super", class_qualname)
        return _table.get(items) or _interned(cls, items)


class ElemRef(BaseRef):
    __slots__ = ()
    kind = "elem"
    of: Ref = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, of: Ref) -> ElemRef:
        items = ("elem", of)
        return _table.get(items) or _interned(cls, items)


class SeqRef(BaseRef):
    __slots__ = ()
    kind = "seq"
    item: Ref = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, item: Ref) -> SeqRef:
        items = ("seq", item)
        return _table.get(items) or _interned(cls, items)


class MapRef(BaseRef):
    __slots__ = ()
    kind = "map"
    value: Ref = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, value: Ref) -> MapRef:
        items = ("map", value)
        return _table.get(items) or _interned(cls, items)


class IterRef(BaseRef):
    __slots__ = ()
    kind = "iter"
    of: RefTuple = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, of: RefTuple) -> IterRef:
        items = ("iter", of)
        return _table.get(items) or _interned(cls, items)


class UnionRef(BaseRef):
    __slots__ = ()
    kind = "union"
    members: tuple[RefTuple, ...] = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, members: tuple[RefTuple, ...]) -> UnionRef:
        items = ("union", members)
        return _table.get(items) or _interned(cls, items)


class OffResRef(BaseRef):
    __slots__ = ()
    kind = "offres"
    callable: Ref = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, callable: Ref) -> OffResRef:  # noqa: A002
        items = ("offres", callable)
        return _table.get(items) or _interned(cls, items)


class UnknownRef(BaseRef):
    __slots__ = ()
    kind = "unknown"

    def __new__(cls) -> UnknownRef:
        items = ("unknown",)
        return _table.get(items) or _interned(cls, items)


class ParamRef(BaseRef):
    __slots__ = ()
    kind = "param"
    function: str = property(itemgetter(1))  # type: ignore[assignment]
    position: int = property(itemgetter(2))  # type: ignore[assignment]

    def __new__(cls, function: str, position: int) -> ParamRef:
        items = ("param", function, position)
        return _table.get(items) or _interned(cls, items)


class StrRef(BaseRef):
    __slots__ = ()
    kind = "str"
    text: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, text: str) -> StrRef:
        items = ("str", text)
        return _table.get(items) or _interned(cls, items)


class VariantRef(BaseRef):
    __slots__ = ()
    kind = "variant"
    result: Ref = property(itemgetter(1))  # type: ignore[assignment]
    argument: Ref = property(itemgetter(2))  # type: ignore[assignment]
    variant: str = property(itemgetter(3))  # type: ignore[assignment]

    def __new__(cls, result: Ref, argument: Ref, variant: str) -> VariantRef:
        items = ("variant", result, argument, variant)
        return _table.get(items) or _interned(cls, items)


class DynModRef(BaseRef):
    __slots__ = ()
    kind = "dynmod"
    name: RefTuple = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, name: RefTuple) -> DynModRef:
        items = ("dynmod", name)
        return _table.get(items) or _interned(cls, items)


class DynAttrRef(BaseRef):
    __slots__ = ()
    kind = "dynattr"
    obj: Ref = property(itemgetter(1))  # type: ignore[assignment]
    name: RefTuple = property(itemgetter(2))  # type: ignore[assignment]

    def __new__(cls, obj: Ref, name: RefTuple) -> DynAttrRef:
        items = ("dynattr", obj, name)
        return _table.get(items) or _interned(cls, items)


RefTuple: TypeAlias = (
    NameRef
    | CallRef
    | AttrRef
    | SelfRef
    | SuperRef
    | ElemRef
    | SeqRef
    | MapRef
    | IterRef
    | UnionRef
    | OffResRef
    | UnknownRef
    | ParamRef
    | StrRef
    | VariantRef
    | DynModRef
    | DynAttrRef
)
"""A ref that is known to be there."""
Ref: TypeAlias = RefTuple | None
