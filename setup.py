"""Build hook: the wheel carries the documents that loopwarden's reports and messages point
to (the rule reference, the JSON report schema and its field guide, triage, CI and runtime
guides), copied from ``docs/`` into ``loopwarden/_docs/`` at build time, so that ``docs/``
stays the one copy in the repository. Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DOC_SUFFIXES = (".md", ".json")


class BuildPyWithDocs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads docs/ in place
            return
        source = Path(__file__).resolve().parent / "docs"
        target = Path(self.build_lib) / "loopwarden" / "_docs"
        target.mkdir(parents=True, exist_ok=True)
        for doc in sorted(source.iterdir()):
            if doc.suffix in DOC_SUFFIXES:
                self.copy_file(str(doc), str(target / doc.name))


setup(cmdclass={"build_py": BuildPyWithDocs})
