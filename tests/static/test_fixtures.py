"""Each fixture project under tests/fixtures/ is scanned and compared with its expected.txt.

Adding a case is adding a folder with the project and its expected.txt. To regenerate after
an intended change: LOOPWARDEN_UPDATE_SNAPSHOTS=1 pytest tests/static/test_fixtures.py, then
read the diff.
"""

from __future__ import annotations

import pytest

from tests.static.snapshot import FIXTURES, UPDATE, fixture_names, render_snapshot, scan_fixture


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_matches_snapshot(name: str) -> None:
    actual = render_snapshot(scan_fixture(name))
    expected_file = FIXTURES / name / "expected.txt"
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


def test_negative_fixtures_are_silent() -> None:
    negatives = [n for n in fixture_names() if n.startswith("neg_")]
    assert negatives, "negative fixtures must exist"
    for name in negatives:
        result = scan_fixture(name)
        assert result.findings == [], (name, [f.key for f in result.findings])
        assert result.files > 0, name
