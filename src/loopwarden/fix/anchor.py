"""``loopwarden anchor TARGET [--output FILE]``: a gated pytest test that drives the real async
entry point of a finding (the root of its chain), red while the blocking call runs on the loop
and green once it is offloaded.

TARGET is a finding key (``path::function::symbol``), ``path::function`` (an entry point or the
function that holds the offload site) or ``path:line`` (an offload site). The scaffold follows
the project's async test set-up (pytest-asyncio auto or strict mode, anyio's plugin, or a plain
``asyncio.run``), runs relative file I/O in ``tmp_path``, replaces only the external boundary
(network, DNS, subprocess, third-party SDK) with a stand-in that still blocks, and marks with
TODO what the user must supply.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loopwarden.catalog.categories import CATEGORIES

if TYPE_CHECKING:
    from loopwarden.static.findings import EntryPoint, Finding

_FOLDER = re.compile(r"(^|_)(root|dir|directory|folder|dest)($|_)")
_PATHY = re.compile(r"(^|_)(path|file|filename|root|dest|dir|directory|folder|src|target)($|_)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "anchor",
        help="write a gated pytest test that drives a finding's async entry point",
        description=(
            "Write a pytest test, gated by @pytest.mark.loopwarden, that drives the real async entry point of "
            "a finding: red while the blocking call runs on the event loop, green once it is offloaded. "
            "TARGET: a finding key, path::function, or path:line of an offload site."
        ),
    )
    parser.add_argument("target", metavar="TARGET")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the test to FILE (a new file) instead of stdout")
    parser.add_argument("--root", action="append", default=[], metavar="PATH", help="what to scan (default: the current directory)")
    parser.add_argument("--config", metavar="PYPROJECT", help="read [tool.loopwarden] from this file instead of the nearest pyproject.toml")


@dataclass(frozen=True)
class Target:
    finding: Finding
    point: EntryPoint  # the entry point the anchor drives


def find_target(findings: list[Finding], text: str) -> Target | None:
    """The finding and entry point a TARGET names; production entry points first."""
    candidates: list[tuple[Finding, EntryPoint]] = []
    for finding in findings:
        for point in finding.entry_points:
            if _matches(text, finding, point):
                candidates.append((finding, point))
    if not candidates:
        return None
    order = {"serving": 0, "api": 1, "unreferenced": 2}
    candidates.sort(key=lambda fp: (order.get(fp[1].scope, 9), len(fp[1].chain)))
    return Target(*candidates[0])


def _matches(text: str, finding: Finding, point: EntryPoint) -> bool:
    if text == finding.key:
        return True
    if "::" in text:
        path, _, function = text.partition("::")
        if "::" in function:
            return False
        return any(
            p == path and (q.endswith("." + function) or q == function)
            for p, q in ((point.path, point.function), (point.offload_path, point.offload_function))
        )
    path, _, line = text.rpartition(":")
    return line.isdigit() and point.offload_path == path and point.offload_line == int(line)


def module_of(path: str, qualname: str) -> str:
    """The module of ``qualname`` defined in ``path``: the longest dotted prefix of the
    qualified name that the file's path ends with (``src/pkg/x.py`` + ``pkg.x.f`` -> ``pkg.x``)."""
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    names = qualname.split(".")
    for n in range(len(names) - 1, 0, -1):
        if parts[-n:] == names[:n]:
            return ".".join(names[:n])
    return names[0]


def async_test_style(root: Path) -> str:
    """How the project runs async tests: "auto" (pytest-asyncio auto mode), "anyio",
    "asyncio" (pytest-asyncio strict mode) or "run" (no plugin: asyncio.run in a sync test)."""
    config = ""
    for name in ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini"):
        if (root / name).is_file():
            config += (root / name).read_text(encoding="utf-8", errors="replace")
    if re.search(r"asyncio_mode\s*=\s*[\"']?auto", config):
        return "auto"
    tests = ""
    for folder in ("tests", "test"):
        for file in sorted((root / folder).rglob("*.py"))[:200] if (root / folder).is_dir() else []:
            tests += file.read_text(encoding="utf-8", errors="replace")
    if "pytest.mark.anyio" in tests or "anyio_backend" in tests:
        return "anyio"
    if "pytest.mark.asyncio" in tests or "pytest_asyncio" in tests or re.search(r"pytest[-_]asyncio", config):
        return "asyncio"
    return "run"


def _function_def(source_path: str, local: list[str]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(Path(source_path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    body: list[ast.stmt] = tree.body
    node = None
    for name in local:
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name), None)
        if node is None:
            return None
        body = node.body
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _class_init(source_path: str, local: list[str]) -> ast.FunctionDef | None:
    node = _function_def(source_path, [*local, "__init__"])
    return node if isinstance(node, ast.FunctionDef) else None


def _arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef | None, skip_first: bool, todos: list[str]) -> str:
    """Call arguments for the parameters without defaults: tmp_path for paths, TODO otherwise."""
    if fn is None:
        todos.append("the entry point's arguments")
        return ""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    if skip_first and positional:
        positional = positional[1:]
    required = positional[: len(positional) - len(args.defaults)] if args.defaults else positional
    out: list[str] = []
    for arg in required:
        out.append(_value(arg, todos))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is None:
            out.append(f"{arg.arg}={_value(arg, todos)}")
    return ", ".join(out)


def _value(arg: ast.arg, todos: list[str]) -> str:
    annotation = ast.unparse(arg.annotation) if arg.annotation is not None else ""
    name = arg.arg
    if "Path" in annotation or _PATHY.search(name.lower()):
        # a folder the code reads or writes: tmp_path itself (it exists); a file: a path in it
        value = "tmp_path" if _FOLDER.search(name.lower()) else f'tmp_path / "{name}"'
        return value if "Path" in annotation else f"str({value})"
    if annotation in ("str", ""):
        todos.append(f"a real value for {name}")
        return f'"{name}"'
    if annotation in ("int", "float"):
        return "1"
    if annotation.startswith(("dict", "Dict", "Mapping")):
        return "{}"
    if annotation.startswith(("list", "List", "Sequence")):
        return "[]"
    todos.append(f"a real {annotation} for {name}")
    return "None"


def _fake_result(symbol: str) -> str:
    if symbol in ("subprocess.run", "subprocess.check_output", "subprocess.check_call", "subprocess.call"):
        return {"subprocess.run": 'subprocess.CompletedProcess(args[0] if args else [], 0, stdout="", stderr="")', "subprocess.check_output": '""'}.get(symbol, "0")
    return "None"


def scaffold(target: Target, style: str) -> str:
    finding, point = target.finding, target.point
    chain = point.chain
    entry_qualname = chain[0].function
    entry_path = chain[0].path
    module = module_of(entry_path, entry_qualname)
    local = entry_qualname[len(module) + 1 :].split(".")
    fn = _function_def(entry_path, local)
    is_async = isinstance(fn, ast.AsyncFunctionDef)
    is_twin = False
    todos: list[str] = []
    imports = {"import pytest"}
    lines: list[str] = []
    if len(local) > 1:  # a method: build its object
        owner = ".".join(local[:-1])
        init = _class_init(entry_path, local[:-1])
        imports.add(f"from {module} import {local[0]}")
        if init is not None and _arguments(init, True, []) != "":
            todos.append(f"construct {owner} the way production does")
        lines.append(f"    obj = {owner}({_arguments(init, True, todos) if init is not None else ''})")
        arguments = _arguments(fn, True, todos)
        call = f"obj.{local[-1]}({arguments})"
        if point.twin:  # a sync hook: call it as the framework's async runner does
            call = f"obj.{point.twin}({arguments}) if {point.twin!r} in type(obj).__dict__ else obj.{local[-1]}({arguments})"
            is_twin = True
    else:
        imports.add(f"from {module} import {local[0]}")
        call = f"{local[0]}({_arguments(fn, False, todos)})"
    mocks: list[str] = []
    category = CATEGORIES.get(finding.category)
    if category is not None and category.external:  # mocked, with a stand-in that still blocks
        imports.add("import time")
        if finding.symbol == "subprocess.run":
            imports.add("import subprocess")
        fake = f"_fake_{finding.operation}"
        mocks = [
            f"def {fake}(*args, **kwargs):",
            f'    """Stands in for {finding.symbol} (the external boundary): it still blocks, so the gate',
            '    sees the call while it runs on the event loop."""',
            "    time.sleep(0.01)",
            f"    return {_fake_result(finding.symbol)}  # TODO: what {finding.symbol} returns for this test",
            "",
            "",
        ]
        lines.insert(0, f'    monkeypatch.setattr("{finding.symbol}", {fake})')
    lines.insert(0, "    monkeypatch.chdir(tmp_path)  # relative paths the code opens are real files under tmp_path")
    if is_twin:
        twin_call, _, sync_call = call.partition(" if ")
        condition, _, sync_call = sync_call.partition(" else ")
        body_call = f"(await {twin_call}) if {condition} else {sync_call}"
    else:
        body_call = f"await {call}" if is_async or fn is None else call
    decorators = ["@pytest.mark.loopwarden"]
    name = f"test_{local[-1].strip('_')}_does_not_block_the_loop"
    if style == "run":
        imports.add("import asyncio")
        inner = [*lines, "", "    async def drive():", f"        return {body_call}", "", "    asyncio.run(drive())"]
        signature = f"def {name}(tmp_path, monkeypatch):"
    else:
        if style == "anyio":
            decorators.append("@pytest.mark.anyio")
        elif style == "asyncio":
            decorators.append("@pytest.mark.asyncio")
        inner = [*lines, f"    {body_call}"]
        signature = f"async def {name}(tmp_path, monkeypatch):"
    todo_lines = [f"    # TODO: {t}" for t in dict.fromkeys(todos)]
    header = [
        f'"""Anchor for {finding.key} (written by loopwarden anchor).',
        "",
        f"Drives the real entry point, {point.label} ({entry_qualname}), under the runtime gate: it fails",
        f"while {finding.symbol} runs on the event loop and passes once the call at",
        f"{point.offload_path}:{point.offload_line} is offloaded.",
        '"""',
        "",
    ]
    std = sorted(i for i in imports if i.startswith("import ") and i != "import pytest")
    project = sorted(i for i in imports if i.startswith("from "))
    parts = [*header, *std, *([""] if std else []), "import pytest", "", *project, "", ""]
    parts += [*mocks, *decorators, signature, *todo_lines, *inner, ""]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    from loopwarden.fix.command import UsageError, scan_project

    roots = args.root or ["."]
    try:
        result, _ = scan_project(roots, args.config)
    except UsageError as exc:
        print(f"loopwarden: error: {exc}", file=sys.stderr)
        return 2
    target = find_target(result.findings, args.target)
    if target is None:
        print(f"loopwarden: error: no finding or offload site matches {args.target} in {', '.join(roots)}", file=sys.stderr)
        return 1
    root = Path(roots[0]) if Path(roots[0]).is_dir() else Path.cwd()
    text = scaffold(target, async_test_style(root))
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if out.exists():
        print(f"loopwarden: error: {out} exists: anchor writes new files only", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    from loopwarden._files import replace_atomically

    replace_atomically(out, text)
    print(f"wrote {out}: drives {target.point.function} ({target.point.label}); run it with pytest {out}", file=sys.stderr)
    return 0
