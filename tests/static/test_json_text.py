"""The JSON report's encoder writes exactly what ``json.dumps(value, indent=2)`` writes."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from loopwarden.report.json import dumps_indented


class Level(enum.IntEnum):
    HIGH = 3


VALUES: list[Any] = [
    {},
    [],
    "",
    0,
    -7,
    2**80,
    1.5,
    1e-300,
    float("nan"),
    float("inf"),
    -float("inf"),
    True,
    None,
    {"a": [], "b": {}, "c": [[], [{}]], "d": ({"x": (1, 2.0, None, False)},)},
    {"caf\xe9 \u4e2d \U0001f600 \"quoted\" \\ \n\t\x00 \u2028": ["caf\udce9.py"]},
    OrderedDict([("z", 1), ("a", 2)]),
    {"level": Level.HIGH, "flag": True},
    {2: "int key", None: "null key", 2.5: "float key", True: "bool key"},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_same_text_as_the_json_module(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_same_errors_as_the_json_module() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"path": Path("x")})
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented({"a": cycle})


def test_a_real_report_is_the_same_text(tmp_path: Path) -> None:
    from loopwarden.catalog import default_catalog
    from loopwarden.report.json import report_dict
    from loopwarden.static.scan import scan

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    result = scan([str(fixtures / "cross_module"), str(fixtures / "entry_points")], default_catalog(), cwd=str(fixtures))
    document = report_dict(result)
    assert document["findings"] and dumps_indented(document) == json.dumps(document, indent=2)
