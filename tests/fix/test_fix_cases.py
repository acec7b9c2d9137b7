"""Before/after pairs: each folder of cases/ is one fix kind (adding a case is adding files).

For each case: ``loopwarden fix`` turns before.py into after.py exactly; a re-scan reports
no key but those listed in remaining.txt (and the scan before reported more); a second run
changes nothing; ``--diff`` writes nothing. args.txt holds extra arguments (``--unsafe-fixes``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loopwarden.cli import main
from loopwarden.fix.command import scan_project

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "before.py").is_file())


def _keys(root: Path) -> set[str]:
    result, _ = scan_project(["."], None)
    return {f.key for f in result.findings}


def _case(name: str):
    folder = CASES / name
    args = (folder / "args.txt").read_text().split() if (folder / "args.txt").is_file() else []
    remaining = set((folder / "remaining.txt").read_text().split()) if (folder / "remaining.txt").is_file() else set()
    return folder, args, remaining


@pytest.mark.parametrize("name", NAMES)
def test_fix_case(name, tmp_path, monkeypatch, capsys):
    folder, args, remaining = _case(name)
    before = (folder / "before.py").read_text()
    after = (folder / "after.py").read_text()
    target = tmp_path / "mod.py"
    target.write_text(before)
    monkeypatch.chdir(tmp_path)
    found = _keys(tmp_path)
    if before != after:
        assert found - remaining, f"{name}: the scan reports nothing to fix in before.py"
    else:  # a negative case: reported, left alone
        assert found == remaining and found

    assert main(["fix", "--diff", *args, "."]) == (1 if before != after else 0)
    assert target.read_text() == before, "--diff must write nothing"

    main(["fix", *args, "."])
    capsys.readouterr()
    assert target.read_text() == after
    assert _keys(tmp_path) == remaining, "a re-scan must no longer report the fixed keys"

    main(["fix", *args, "."])  # a second run is a no-op
    assert target.read_text() == after
    assert main(["fix", "--diff", *args, "."]) == 0


def test_every_case_compiles():
    for name in NAMES:
        for side in ("before.py", "after.py"):
            compile((CASES / name / side).read_text(), f"{name}/{side}", "exec")
