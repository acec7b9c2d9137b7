"""Refs are one small frozen class per kind: kinds never compare equal to each other, they
survive pickling as themselves, equal refs are one object within a summary, and every ref a
real summary holds is one of the classes (no plain tuple left over from older code, which
the whole-program phase would silently resolve to nothing)."""

from __future__ import annotations

import dataclasses
import pickle
import sysconfig
from pathlib import Path

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.static import refs
from loopwarden.static.discover import discover
from loopwarden.static.index import _rewrite_names
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
    SelfRef,
    SeqRef,
    StrRef,
    SuperRef,
    UnionRef,
    UnknownRef,
    VariantRef,
)
from loopwarden.static.scan import analyze_file, extract_options
from loopwarden.static.summary import CallSite, ModuleSummary

ALL = [
    NameRef("pkg.mod.f"),
    CallRef(NameRef("pkg.mod.f")),
    AttrRef(SelfRef("pkg.mod.C"), "store"),
    SelfRef("pkg.mod.C"),
    SuperRef("pkg.mod.C"),
    ElemRef(NameRef("pkg.mod.items")),
    SeqRef(NameRef("pathlib.Path")),
    MapRef(NameRef("pathlib.Path")),
    IterRef(NameRef("pkg.mod.items")),
    UnionRef((NameRef("a.A"), NameRef("b.B"))),
    OffResRef(NameRef("pkg.mod.f")),
    UnknownRef(),
    ParamRef("pkg.mod.f", 0),
    StrRef("pkg.mod:Store"),
    VariantRef(CallRef(NameRef("socket.socket")), None, "datagram"),
    DynModRef(StrRef("pkg.plugins")),
    DynAttrRef(NameRef("pkg.mod"), StrRef("Store")),
]


def test_each_kind_is_its_own_class_and_kinds_never_compare_equal():
    assert len({type(r) for r in ALL}) == len(ALL)
    assert len(set(ALL)) == len(ALL)
    assert SelfRef("pkg.C") != SuperRef("pkg.C")
    assert NameRef("x.y") != StrRef("x.y")
    assert DynModRef(NameRef("m")) != CallRef(NameRef("m"))


def test_fields_are_named():
    attr = AttrRef(CallRef(NameRef("pathlib.Path")), "read_text")
    assert isinstance(attr.base, CallRef) and attr.base.callee == NameRef("pathlib.Path")
    assert attr.attr == "read_text"
    assert ParamRef("m.f", 2).position == 2 and ParamRef("m.f", 2).function == "m.f"
    assert VariantRef(None, NameRef("io.BytesIO"), "memory").variant == "memory"
    assert UnionRef((NameRef("a.A"),)).members == (NameRef("a.A"),)


@pytest.mark.parametrize("ref", ALL, ids=lambda r: type(r).__name__)
def test_refs_pickle_as_themselves(ref):
    again = pickle.loads(pickle.dumps(ref, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(again) is type(ref) and again == ref and hash(again) == hash(ref)


def test_equal_refs_are_one_object_so_a_pickle_holds_each_once():
    refs.clear_interned()
    first, second = AttrRef(NameRef("os.path"), "exists"), AttrRef(NameRef("os.path"), "exists")
    assert first is second
    alone = len(pickle.dumps([first]))
    assert len(pickle.dumps([first] * 50)) < alone + 150  # memo references, not 50 copies


_TAGS = frozenset({"name", "call", "attr", "self", "super", "elem", "seq", "map", "iter", "union", "offres", "unknown", "param", "str", "variant", "dynmod", "dynattr"})


def _walk(value: object, path: str, found: list[str]) -> None:
    """Report every plain tuple that looks like an old string-tagged ref."""
    if isinstance(value, BaseRef):
        for i, field in enumerate(value.fields):
            _walk(field, f"{path}[{i}]", found)
    elif isinstance(value, CallSite):
        _walk(value.ref, f"{path}.ref", found)
        _walk(value.args, f"{path}.args", found)
        _walk(value.via[:1], f"{path}.via", found)
        for key, ref in (*value.fnargs, *value.kwargs):  # (position or keyword, ref): a keyword may be "name"
            _walk(ref, f"{path}[{key!r}]", found)
    elif isinstance(value, (tuple, list)):
        if type(value) is tuple and value and value[0] in _TAGS:
            found.append(f"{path}: {value!r}")
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}[{key!r}]", found)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):  # names of the module's own are not refs
            if field.name not in ("params", "decorator_names", "decorator_args", "def_lines", "loop_spans", "aliases"):
                _walk(getattr(value, field.name), f"{path}.{field.name}", found)


def test_real_summaries_hold_only_ref_classes():
    """The asyncio, json and email packages of the running interpreter: every ref in their
    summaries is a ref class, and a rewritten summary (monorepo renaming) keeps them so."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    options = extract_options(default_catalog())
    found: list[str] = []
    seen = 0
    for package in ("asyncio", "json", "email"):
        files, _ = discover([str(stdlib / package)], [], True, cwd=str(stdlib))
        for file in files:
            summary = analyze_file(file, options, 1 << 20)
            if not isinstance(summary, ModuleSummary):
                continue
            seen += 1
            _rewrite_names(summary, lambda name: f"renamed.{name}" if name.startswith("asyncio.") else name)
            _walk(summary, summary.module, found)
    assert seen > 40
    assert found == []


def test_values_are_one_class_per_kind_too():
    from loopwarden.static import values as v

    made = [
        v.FuncValue("m.f"), v.ClassValue("m.f"), v.InstValue("m.f"), v.SuperValue("m.f"), v.ModuleValue("m.f"), v.ExtValue("m.f"),
        v.ExtInstValue("m.f"), v.StrValue("m.f"), v.StrPartValue("m.f"), v.SeqValue(v.ExtInstValue("pathlib.Path")),
        v.MapValue(v.ExtInstValue("pathlib.Path")), v.MapGetterValue(v.ExtInstValue("pathlib.Path")),
        v.MapValuesValue(v.ExtInstValue("pathlib.Path")), v.AnyValue((v.FuncValue("m.f"), v.ClassValue("m.C"))),
    ]
    assert len(set(made)) == len(made)  # same fields, different kinds: never equal
    for value in made:
        again = pickle.loads(pickle.dumps(value))
        assert type(again) is type(value) and again == value


def test_the_index_resolves_refs_to_value_classes(tmp_path):
    from loopwarden.static.index import ProgramIndex
    from loopwarden.static.values import ClassValue, ExtInstValue, FuncValue, InstValue

    (tmp_path / "svc.py").write_text("import pathlib\n\nclass Store:\n    def save(self):\n        pass\n\ndef make():\n    return Store()\n\nHOME = pathlib.Path('~')\n")
    files, _ = discover(["."], [], True, cwd=str(tmp_path))
    summary = analyze_file(files[0], extract_options(default_catalog()), 1 << 20)
    assert isinstance(summary, ModuleSummary)
    index = ProgramIndex([summary], default_catalog())
    assert index.resolve(NameRef("svc.Store")) == ClassValue("svc.Store")
    assert type(index.resolve(NameRef("svc.make"))) is FuncValue
    assert type(index.resolve(CallRef(NameRef("svc.make")))) is InstValue
    assert index.resolve(AttrRef(CallRef(NameRef("svc.make")), "save")) == FuncValue("svc.Store.save")
    assert type(index.resolve(NameRef("svc.HOME"))) is ExtInstValue
