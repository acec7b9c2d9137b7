"""Seeing why: what each call on a line resolved to, and whether the loop reaches it.

Consumes the index, the call graph and the entry points; changes nothing in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loopwarden.static.entries import CLI_SCOPE, SCOPE_RANK, STARTUP_SCOPE, TEST_SCOPE, EntryPoints
from loopwarden.static.index import ProgramIndex
from loopwarden.static.reach import CallGraph, Root
from loopwarden.static.refs import (
    AttrRef,
    CallRef,
    DynAttrRef,
    DynModRef,
    ElemRef,
    NameRef,
    OffResRef,
    ParamRef,
    Ref,
    SelfRef,
    StrRef,
    SuperRef,
    UnionRef,
    VariantRef,
)
from loopwarden.static.summary import CALL, CONSUME, ENTER, OFFLOAD, CallSite, FunctionSummary
from loopwarden.static.values import AnyValue, ClassValue, ExtInstValue, ExtValue, FuncValue, InstValue, Value

if TYPE_CHECKING:
    from loopwarden.static.findings import Finding

_LOOP_SCOPES_OFF = (STARTUP_SCOPE, CLI_SCOPE, TEST_SCOPE)


@dataclass(frozen=True)
class Unresolved:
    path: str
    line: int
    column: int  # 1-based
    function: str  # qualified
    call: str  # the call as the scanner saw it: "?.store.save()"


def describe(ref: Ref, depth: int = 0, module: str = "") -> str:
    """A ref as readable source-like text: AttrRef(SelfRef("m.C"), "x") -> "self.x"; names
    of ``module`` itself lose its prefix."""
    if ref is None or depth > 8:
        return "?"
    if isinstance(ref, NameRef):
        return ref.name.removeprefix(f"{module}.") if module else ref.name
    if isinstance(ref, StrRef):
        return repr(ref.text)
    if isinstance(ref, VariantRef):
        return describe(ref.result, depth + 1, module)
    if isinstance(ref, DynModRef):
        return f"importlib.import_module({describe(ref.name, depth + 1, module)})"
    if isinstance(ref, DynAttrRef):
        return f"getattr({describe(ref.obj, depth + 1, module)}, {describe(ref.name, depth + 1, module)})"
    if isinstance(ref, AttrRef):
        return f"{describe(ref.base, depth + 1, module)}.{ref.attr}"
    if isinstance(ref, CallRef):
        return f"{describe(ref.callee, depth + 1, module)}()"
    if isinstance(ref, SelfRef):
        return "self"
    if isinstance(ref, SuperRef):
        return "super()"
    if isinstance(ref, ElemRef):
        return f"<item of {describe(ref.of, depth + 1)}>"
    if isinstance(ref, ParamRef):
        return f"<parameter {ref.position}>"
    if isinstance(ref, UnionRef):
        return " | ".join(describe(r, depth + 1) for r in ref.members[:3])
    if isinstance(ref, OffResRef):
        return f"<to_thread result of {describe(ref.callable, depth + 1)}>"
    return "?"


def evidence(index: ProgramIndex, ref: Ref) -> str:
    """How the scanner knows what ``ref`` is: import, annotation/assignment, or nothing."""
    if ref is None:
        return "unknown"
    if isinstance(ref, NameRef):
        value = index.resolve(ref)
        return "definition in the project" if isinstance(value, (FuncValue, ClassValue)) else "import"
    if isinstance(ref, ParamRef):
        return "unannotated parameter (unknown)"
    if isinstance(ref, AttrRef):
        base = ref.base
        if isinstance(base, SelfRef):
            return "attribute of self (class body, __init__ or annotation)"
        base_value = index.resolve(base) if isinstance(base, NameRef) else None
        if isinstance(base_value, ExtValue):
            return "import"
        return "assignment or annotation of the receiver"
    if isinstance(ref, CallRef):
        return "return type of the call (annotation or catalogue)"
    if isinstance(ref, UnionRef):
        return "several assignments (union)"
    if isinstance(ref, (DynModRef, DynAttrRef)):
        return "a module or class named by a string constant (importlib.import_module / getattr)"
    return "assignment"


def _unresolved(graph: CallGraph, site: CallSite) -> bool:
    if site.kind != CALL or site.offloaded or site.awaited or site.ref is None or isinstance(site.ref, ParamRef):
        return False
    value = graph.index.resolve(site.ref)
    if value is not None:
        return False
    return not graph._guessed_method(site) and graph._sink(value, site) is None


def on_loop(entries: EntryPoints, qualname: str) -> bool:
    context = entries.contexts.get(qualname)
    return context is not None and context.scope not in _LOOP_SCOPES_OFF


def unresolved_calls(index: ProgramIndex, graph: CallGraph, entries: EntryPoints) -> list[Unresolved]:
    """Calls the scanner cannot follow inside functions that run on a serving loop: where it is blind."""
    found: list[Unresolved] = []
    for qualname in sorted(index.functions):
        fn = index.functions[qualname]
        if fn.is_module_body or not on_loop(entries, qualname):
            continue
        module = index.function_module[qualname]
        for site in fn.calls:
            if _unresolved(graph, site):
                found.append(Unresolved(module.path, site.line, site.col + 1, qualname, describe(site.ref, module=module.module) + "()"))
    found.sort(key=lambda u: (u.path, u.line, u.column))
    return found


# -- explain PATH:LINE ---------------------------------------------------------------------
def functions_at(index: ProgramIndex, path: str, line: int) -> list[tuple[FunctionSummary, list[CallSite]]]:
    """Functions holding a call site on ``line`` of ``path``, innermost first."""
    found = []
    for qualname in sorted(index.functions):
        module = index.function_module[qualname]
        if module.path != path:
            continue
        fn = index.functions[qualname]
        sites = [s for s in fn.calls if s.line <= line <= s.end_line]
        if sites:
            found.append((fn, sites))
    return found


def explain_lines(index: ProgramIndex, graph: CallGraph, entries: EntryPoints, findings: list[Finding], path: str, line: int) -> list[str]:
    from loopwarden.static.findings import root_map

    out: list[str] = []
    holders = functions_at(index, path, line)
    if not holders:
        return [f"{path}:{line}: no call the scanner recorded on this line"]
    roots = root_map(graph, entries)
    for fn, sites in holders:
        kind = "async def" if fn.is_async else ("module body" if fn.is_module_body else "def")
        out.append(f"{path}:{line}  in {kind} {fn.qualname}")
        module = index.function_module[fn.qualname].module
        for site in sorted(sites, key=lambda s: (s.line, s.col)):
            out.extend("  " + text for text in _site_lines(index, graph, site, module))
        out.extend(_reach_lines(index, graph, entries, roots, fn))
    here = [f for f in findings if f.path == path and f.line == line]
    if here:
        out.append("findings on this line:")
        out.extend(f"  {f.priority} {f.key} [{f.exposure}], {f.entry_total} entry point(s)" for f in here)
    else:
        out.append("findings on this line: none")
    return out


def _site_lines(index: ProgramIndex, graph: CallGraph, site: CallSite, module: str) -> list[str]:
    where = f"{site.line}:{site.col + 1}"
    shown = describe(site.ref, module=module)
    if site.kind == OFFLOAD:
        return [f"{where} {shown}: handed to an offload, runs off the loop"]
    if site.kind == ENTER:
        return [f"{where} with {describe(site.ref[1], module=module) if site.ref else '?'}: __enter__ runs here"]
    if site.kind == CONSUME:
        return [f"{where} iterates {shown}"]
    if site.kind != CALL:
        target = graph._property_target(site.ref)
        return [f"{where} {shown}: property {target}, runs here"] if target else []
    lines = [f"{where} {shown}()"]
    value = index.resolve(site.ref)
    guessed = graph._guessed_method(site) if value is None else []
    if value is None and not guessed:
        lines.append("    resolved: nothing (unknown receiver or name): the scanner is blind here")
    elif value is None:
        lines.append(f"    resolved: {guessed[0].target} (guess: the only project method with this distinctive name)")
    else:
        lines.append(f"    resolved: {_value_text(value)} (evidence: {evidence(index, site.ref)})")
    hit = graph._sink(value, site)
    if hit is not None:
        how = "matched by method name on an unknown receiver (guess)" if hit.inferred else "catalogue symbol"
        lines.append(f"    blocking: {hit.sink.symbol}, {hit.sink.category} ({hit.sink.cost}), {how}")
    else:
        lines.append("    blocking: no catalogue entry matches")
    if site.offloaded:
        lines.append("    offloaded: yes (inside the callable of an offload)")
    elif site.awaited:
        lines.append("    offloaded: awaited (async, does not block)")
    elif site.via and graph._handed_to_wrapper(site.via):
        lines.append("    offloaded: yes (handed to a project offload wrapper)")
    else:
        lines.append("    offloaded: no, runs on the caller's thread")
    return lines


def _value_text(value: Value) -> str:
    if value is None:
        return "nothing known"
    if isinstance(value, AnyValue):
        return "one of " + ", ".join(_value_text(v) for v in value.members[:4]) + " (inferred)"
    names = {ExtValue: "external", FuncValue: "project function", ClassValue: "project class", InstValue: "instance of project class", ExtInstValue: "instance of external"}
    return f"{value[1]} ({names.get(type(value), value.kind)})"


def _reach_lines(index: ProgramIndex, graph: CallGraph, entries: EntryPoints, roots: dict[str, Root], fn: FunctionSummary) -> list[str]:
    sources = graph.sources(fn.qualname, roots)
    if not sources:
        return ["  reached from the loop: not reached: no async caller, hook or start-up code reaches it"]
    out = [f"  reached from the loop by {len(sources)} entry point(s):"]
    ranked = sorted(sources, key=lambda s: (SCOPE_RANK[entries.context(s.root.function).scope], len(s.steps), s.root.function))
    for source in ranked:
        context = entries.context(source.root.function)
        lead = [q for q, _ in entries.path(source.root.function)[:-1]]
        chain = " → ".join(_short(index, q) for q in [*lead, *(q for q, _ in source.steps)])
        offload = source.steps[0]
        if index.functions[offload[0]].is_module_body:
            where = "runs at import"
        elif offload[1]:
            where = f"offload at {index.function_module[offload[0]].path}:{offload[1]}"
        else:
            where = "offload the call itself"
        out.append(f"    [{context.scope}] {context.label}: {chain}  ({where})")
    return out


def _short(index: ProgramIndex, qualname: str) -> str:
    module = index.function_module[qualname]
    local = qualname[len(module.module) + 1 :] if qualname.startswith(module.module + ".") else qualname
    return f"{module.module.rpartition('.')[2]}.{local}"
