"""Values: what the whole-program index resolves a ref to. One small frozen class per kind:

    FuncValue("pkg.mod.f")          a project function or method
    ClassValue("pkg.mod.C")         a project class
    InstValue("pkg.mod.C")          an instance of a project class
    SuperValue("pkg.mod.C")         ``super()`` inside a method of the class
    ModuleValue("pkg.mod")          a project module
    ExtValue("dotted.name")         an external object (module, function, class, attribute)
    ExtInstValue("pathlib.Path")    an instance of an external type (``socket.socket!datagram``:
                                    a catalogue variant; ``X()``: an instance of a class the
                                    catalogue does not know; ``X[]``: an item of such a container)
    SeqValue(value)                 a container whose items are value
    MapValue(value)                 a mapping whose values are value
    StrValue("text")                a constant string (``"pkg.mod:Name"`` in a registry)
    StrPartValue("text")            a part of that string (``text.partition(":")``)
    MapGetterValue(value)           ``d.get`` (also pop, setdefault) of such a mapping: calling it gives value
    MapValuesValue(value)           ``d.values`` of such a mapping: calling it gives SeqValue(value)
    AnyValue((value, ...))          one of several (inferred: each is a candidate)

``None`` means nothing is known. As with refs (``refs.py``), each class is a tuple whose
first item is the kind's tag, so equality and hashing stay those of tuples and kinds never
compare equal; code reads the named fields.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, TypeAlias


class BaseValue(tuple[Any, ...]):
    __slots__ = ()
    kind: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(self)[1:])


class FuncValue(BaseValue):
    __slots__ = ()
    kind = "func"
    qualname: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, qualname: str) -> FuncValue:
        return tuple.__new__(cls, ("func", qualname))


class ClassValue(BaseValue):
    __slots__ = ()
    kind = "class"
    qualname: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, qualname: str) -> ClassValue:
        return tuple.__new__(cls, ("class", qualname))


class InstValue(BaseValue):
    __slots__ = ()
    kind = "inst"
    cls: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, class_qualname: str) -> InstValue:
        return tuple.__new__(cls, ("inst", class_qualname))


class SuperValue(BaseValue):
    __slots__ = ()
    kind = "super"
    cls: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, class_qualname: str) -> SuperValue:
        return tuple.__new__(cls, ("super", class_qualname))


class ModuleValue(BaseValue):
    __slots__ = ()
    kind = "module"
    name: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, name: str) -> ModuleValue:
        return tuple.__new__(cls, ("module", name))


class ExtValue(BaseValue):
    __slots__ = ()
    kind = "ext"
    name: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, name: str) -> ExtValue:
        return tuple.__new__(cls, ("ext", name))


class ExtInstValue(BaseValue):
    __slots__ = ()
    kind = "extinst"
    type: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, type_name: str) -> ExtInstValue:
        return tuple.__new__(cls, ("extinst", type_name))


class SeqValue(BaseValue):
    __slots__ = ()
    kind = "seq"
    item: Value = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, item: Value) -> SeqValue:
        return tuple.__new__(cls, ("seq", item))


class MapValue(BaseValue):
    __slots__ = ()
    kind = "map"
    value: Value = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, value: Value) -> MapValue:
        return tuple.__new__(cls, ("map", value))


class StrValue(BaseValue):
    __slots__ = ()
    kind = "str"
    text: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, text: str) -> StrValue:
        return tuple.__new__(cls, ("str", text))


class StrPartValue(BaseValue):
    __slots__ = ()
    kind = "strpart"
    text: str = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, text: str) -> StrPartValue:
        return tuple.__new__(cls, ("strpart", text))


class MapGetterValue(BaseValue):
    __slots__ = ()
    kind = "mapget"
    value: Value = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, value: Value) -> MapGetterValue:
        return tuple.__new__(cls, ("mapget", value))


class MapValuesValue(BaseValue):
    __slots__ = ()
    kind = "mapvalues"
    value: Value = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, value: Value) -> MapValuesValue:
        return tuple.__new__(cls, ("mapvalues", value))


class AnyValue(BaseValue):
    __slots__ = ()
    kind = "any"
    members: tuple[KnownValue, ...] = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, members: tuple[KnownValue, ...]) -> AnyValue:
        return tuple.__new__(cls, ("any", members))


KnownValue: TypeAlias = (
    FuncValue | ClassValue | InstValue | SuperValue | ModuleValue | ExtValue | ExtInstValue | SeqValue | MapValue | StrValue
    | StrPartValue | MapGetterValue | MapValuesValue | AnyValue
)
Value: TypeAlias = KnownValue | None
