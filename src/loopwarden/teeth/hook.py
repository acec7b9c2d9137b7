"""The import hook of a teeth child process: modules named in the plan are compiled from
their rewritten AST as they are imported. Nothing is written anywhere (no bytecode cache):
the user's files, and ``__pycache__``, stay exactly as they were.

The module looks like the real one: the loader is a ``SourceFileLoader`` for the real path,
so ``__file__``, ``__spec__``, ``__cached__``, ``get_source`` and line numbers are the real
file's. The finder asks the finders after it (path entries, editable-install finders,
namespace packages) where a module lives, and only takes over when that place is a file
named in the plan; pytest's assertion rewriting only claims test modules, so both coexist.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

Rewrite = Callable[[ast.Module, str], ast.Module]


class MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, rewrite: Rewrite) -> None:
        super().__init__(fullname, path)
        self._rewrite = rewrite

    def get_code(self, fullname: str) -> types.CodeType:
        source = self.get_data(self.path)
        tree = ast.parse(source, filename=self.path)
        tree = self._rewrite(tree, os.path.realpath(self.path))
        return compile(tree, self.path, "exec", dont_inherit=True)

    def set_data(self, path: str, data: Buffer, *, _mode: int = 0o666) -> None:
        """Never write bytecode: a cached mutant would be loaded by the next normal import."""


class MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, targets: set[str], rewrite: Rewrite) -> None:
        self.targets = {os.path.realpath(t) for t in targets}
        # Cheap first filter: the last component of a module name that may be a target.
        self._names: set[str] = set()
        for target in self.targets:
            stem = os.path.splitext(os.path.basename(target))[0]
            self._names.add(os.path.basename(os.path.dirname(target)) if stem == "__init__" else stem)
        self._rewrite = rewrite
        self._busy = False
        self.loaded: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self._busy or fullname.rpartition(".")[2] not in self._names:
            return None
        self._busy = True
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy = False
        if spec is None or not spec.origin or not spec.has_location:
            return None
        real = os.path.realpath(spec.origin)
        if real not in self.targets:
            return None
        spec.loader = MutantLoader(fullname, spec.origin, self._rewrite)
        self.loaded.append(real)
        return spec


def install(finder: MutantFinder) -> None:
    sys.meta_path.insert(0, finder)
