"""Loop spans (the lines of a function's own loops: a cheap call inside one runs once per
item) are recorded by the extractor's single walk. They must equal what an independent walk
of each function's own body finds (nested functions, classes and lambdas excluded), on the
interpreter's asyncio, email and json packages and on a fixture of awkward cases."""

from __future__ import annotations

import ast
import sysconfig
import textwrap
from pathlib import Path

from loopwarden.catalog import default_catalog
from loopwarden.static.discover import discover
from loopwarden.static.scan import analyze_file, extract_options
from loopwarden.static.summary import ModuleSummary

_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# Nodes that hold no loop: not pushed by the walk below (most nodes of a body are names).
_NO_LOOP_INSIDE = (
    ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop, ast.alias,
    ast.Pass, ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal,
)
_OWN_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def oracle(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[int, int], ...]:
    """Line spans of the loops in a function's own body (nested functions excluded): a cheap
    call inside one runs once per item. One walk over the body's statements and expressions
    (leaves are not visited: this runs for every function of the code base)."""
    spans: list[tuple[int, int]] = []
    stack: list[ast.AST] = list(node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, _OWN_SCOPE):
            continue
        if isinstance(current, (ast.For, ast.AsyncFor, ast.While)):  # the body repeats, the header runs once
            spans.append((current.body[0].lineno, current.end_lineno or current.lineno))
        elif isinstance(current, _LOOPS):
            spans.append((current.lineno, current.end_lineno or current.lineno))
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _NO_LOOP_INSIDE))
            elif isinstance(value, ast.AST) and not isinstance(value, _NO_LOOP_INSIDE):
                stack.append(value)
    return tuple(sorted(set(spans)))


def _functions(tree: ast.AST, prefix: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Qualified names as the extractor writes them, for plainly nested defs and methods."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[f"{prefix}.{node.name}"] = node
            found.update(_functions(node, f"{prefix}.{node.name}"))
        elif isinstance(node, ast.ClassDef):
            found.update(_functions(node, f"{prefix}.{node.name}"))
        elif not isinstance(node, ast.Lambda):
            found.update(_functions(node, prefix))
    return found


def _compare(root: Path, paths: list[str]) -> tuple[int, list[str]]:
    options = extract_options(default_catalog())
    files, _ = discover(paths, [], True, cwd=str(root))
    compared, wrong = 0, []
    for file in files:
        summary = analyze_file(file, options, 1 << 21)
        if not isinstance(summary, ModuleSummary):
            continue
        tree = ast.parse(Path(file.path).read_bytes())
        for qualname, node in _functions(tree, summary.module).items():
            fn = summary.functions.get(qualname)
            if fn is None or fn.line != node.lineno:
                continue  # redefined names, conditional defs: not the same function
            compared += 1
            if fn.loop_spans != oracle(node):
                wrong.append(f"{qualname}: {fn.loop_spans} != {oracle(node)}")
    return compared, wrong


def test_awkward_cases(tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent('''\
        import asyncio

        def f(items, d=[x for x in range(3)]):
            @decorate([y for y in items])
            def inner():
                for z in items:
                    pass
            total = sorted(items, key=lambda p: [q for q in p])
            while total:
                total.pop()
            else:
                pass
            class C([b for b in ()][0] if items else object):
                for k in ():
                    pass
            async def go():
                await asyncio.to_thread(lambda: [w for w in items])
            return {k: v for k, v in d}, (g for g in items), [
                a
                for a in items
                if [c for c in a]
            ]
        '''))
    compared, wrong = _compare(tmp_path, ["m.py"])
    assert compared == 3 and wrong == []
    tree = ast.parse((tmp_path / "m.py").read_text())
    assert oracle(tree.body[1]) == ((10, 12), (18, 18), (18, 22), (21, 21))  # the same from both


def test_loop_spans_match_an_independent_walk_on_the_standard_library():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    compared, wrong = _compare(stdlib, [str(stdlib / p) for p in ("asyncio", "email", "json")])
    assert compared > 1000
    assert wrong == []
