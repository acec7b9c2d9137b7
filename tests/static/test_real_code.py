"""Large real code nobody here wrote: no internal error anywhere, and no crash or hang on
mutated real files.

By default the suite scans the running interpreter's whole standard library except its own
test suites (about 330,000 lines), plus a deterministic eighth of the files of every
installed distribution in the test environment (site-packages); LOOPWARDEN_REALCODE_FULL=1
scans everything (the standard library with its tests, every installed source file), which
takes minutes on two cores and is run by hand before a release.
"""

from __future__ import annotations

import ast
import os
import random
import site
import sysconfig
from pathlib import Path

import pytest

from loopwarden.catalog import load_catalog
from loopwarden.static import scan
from loopwarden.static.discover import discover
from loopwarden.static.summary import INTERNAL_ERROR, ModuleSummary

FULL = os.environ.get("LOOPWARDEN_REALCODE_FULL") == "1"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
_TEST_SUITES = ["test", "tests", "idle_test"]


def _internal(skipped: list) -> list[str]:
    return [f"{s.path}: {s.reason}" for s in skipped if s.reason.startswith(INTERNAL_ERROR)]


@pytest.mark.timeout(900)
def test_standard_library_has_no_internal_error() -> None:
    excludes = ["site-packages", "dist-packages"] + ([] if FULL else _TEST_SUITES)
    result = scan.scan([str(STDLIB)], load_catalog(), excludes=excludes, respect_gitignore=False, jobs=os.cpu_count() or 1)
    assert result.files > 500
    assert _internal(result.skipped) == []


def _installed_sources() -> list[str]:
    files: list[str] = []
    for root in site.getsitepackages():
        found, _ = discover([root], [], False)
        files.extend(f.path for f in found)
    files.sort()
    return files if FULL else files[::8]


@pytest.mark.timeout(900)
def test_installed_distributions_have_no_internal_error(tmp_path: Path) -> None:
    files = _installed_sources()
    assert len(files) > 50
    result = scan.scan(files, load_catalog(), respect_gitignore=False, jobs=os.cpu_count() or 1)
    assert _internal(result.skipped) == []


# -- fuzz: mutated real files ------------------------------------------------------------

# Valid but unusual code, inserted at module level, in a class body and in a function body.
ODD_SNIPPETS = [
    "def _lw_a() -> tuple[()]: ...",
    "def _lw_b(x: Annotated[int, 'meta'], y: 'tuple[()]', z: Callable[[], None], w: Literal['a']) -> Annotated[Path, ...]: ...",
    "_lw_c: Final = 3",
    "_lw_d: ClassVar[int]",
    "_lw_e: Annotated[()] = None",
    "_lw_f: 'Optional[()]' = None",
    "_lw_g: Union[()] | list[()] | type[()] | dict[()] | Coroutine[()] = None",
    "_lw_h: '' = 1",
    "_lw_i: '1 +' = 1",
    "_lw_j: '\\x00' = 1",
    "_lw_k: " + repr("(" * 150 + "int" + ")" * 150) + " = 1",
    "class _LwL(Base[int], Generic[T], Protocol[T], *bases, metaclass=M, **kw): x: Annotated[()]",
    "_lw_m = (lambda: (yield))",
    "_lw_n = [y := 1, (z := 2)]",
    "del _lw_n",
    "*_lw_o, _lw_p = [1, 2, 3]",
    "[_lw_q, *_lw_r] = range(3)",
    "_lw_s[0]: int = 1",
    "(_lw_t): int = 1",
    "for [_lw_u, _lw_v] in (): pass",
    "with (open('a') as _lw_w, open('b') as _lw_x): pass",
    "print(*[], **{}, sep='')",
    "super().x",
    "super(*a).y()",
    "global _lw_y",
    "match _lw_z:\n    case {'a': [1, *rest]} | Point(x=0) as q if q: pass\n    case _: pass",
    "async def _lw_aa():\n    async with a as (b, c): [x async for x in y]\n    await (lambda: 1)()",
    "from .... import _lw_bb",
    "import a.b.c as _lw_cc",
    "@(lambda f: f)\n@functools.partial(lambda f: f)\ndef _lw_dd(*, k=lambda: open('x'), **kw): return _lw_dd.__wrapped__",
    "_lw_ee = a" + ".b" * 200,
    "_lw_ff = " + "f(" * 60 + ")" * 60,
    "_lw_gg = " + "[" * 80 + "]" * 80,
    "_lw_hh = {**{}, 1: 2}[1]",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "_lw_ii = asyncio.to_thread()",
    "_lw_jj = loop.run_in_executor(None)",
    "_lw_kk = threading.Thread(target=None, args=())",
    "lambda: None",
    "def _lw_mm(base):\n    class Wrapper(base):\n        pass\n    return Wrapper",
    "class _LwLL:\n    def __init__(self): self.a: int = 1; self.b = self.a; self.a.b.c = 2\n    x = property(lambda s: s.a)",
]


def _top_level_lines(lines: list[str]) -> list[int]:
    """Line indexes where a new top-level statement may be inserted."""
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return [0, len(lines)]
    return [min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]) - 1 for s in tree.body] + [len(lines)]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        n = len(lines)
        if n < 3:
            break
        i, j = rng.randrange(n), rng.randrange(n)
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines.insert(i, lines[i])
        elif choice == 2:
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == 3:
            lines = lines[: max(1, i)]
        else:  # valid but odd code at a statement boundary, indented like its neighbour
            snippet = rng.choice(ODD_SNIPPETS)
            if choice == 4:
                at = rng.choice(_top_level_lines(lines))
                lines[at:at] = snippet.split("\n")
            else:
                indent = "    " if choice == 5 else "        "
                wrapper = ["class _LwWrap:"] if choice == 5 else ["class _LwWrap:", "    def method(self, p: 'tuple[()]'):"]
                lines += [*wrapper, *(indent + s for s in snippet.split("\n"))]
    return "\n".join(lines)


@pytest.mark.timeout(300)
def test_mutated_real_files_never_crash_or_hang(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    candidates = sorted(p for p in STDLIB.glob("*.py") if p.stat().st_size < 40_000)
    chosen = rng.sample(candidates, 30)
    project = tmp_path / "fuzzed"
    project.mkdir()
    for index, path in enumerate(chosen):
        text = path.read_text(encoding="utf-8", errors="replace")
        for variant in range(3):
            (project / f"m{index}_{variant}.py").write_text(_mutate(text, rng), encoding="utf-8")
    (project / "odd.py").write_text("\n".join(ODD_SNIPPETS) + "\n", encoding="utf-8")
    catalog = load_catalog()
    options = scan.extract_options(catalog)
    files, _ = discover([str(project)], [], False)
    parsed = 0
    for source in files:
        result = scan.analyze_file(source, options, 10_000_000)
        if isinstance(result, ModuleSummary):
            parsed += 1
            assert result.errors == [], source.display
        else:
            assert not result.reason.startswith(INTERNAL_ERROR), (source.display, result.reason)
    assert parsed > 30  # most mutations keep the file valid: the analysis, not only the parser, is exercised
    whole = scan.scan([str(project)], catalog, respect_gitignore=False, jobs=1)
    assert _internal(whole.skipped) == []
