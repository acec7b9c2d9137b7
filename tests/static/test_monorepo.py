"""Monorepos: two packages with the same name in one scan each resolve their own imports."""

from __future__ import annotations

import pytest

from loopwarden.catalog import default_catalog
from loopwarden.static.scan import scan

BLOCKING_UTIL = "import time\n\ndef helper():\n    time.sleep(1)\n"
CLEAN_UTIL = "def helper():\n    return 1\n"


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


FROM_IMPORT = "from app.util import helper\n\nasync def handler():\n    helper()\n"
PLAIN_IMPORT = "import app.util\n\nasync def handler():\n    app.util.helper()\n"
AS_IMPORT = "import app.util as u\n\nasync def handler():\n    u.helper()\n"


# (``import app.util`` of a namespace package is not followed even in a single package.)
@pytest.mark.parametrize(
    "web, packages",
    [(FROM_IMPORT, True), (PLAIN_IMPORT, True), (AS_IMPORT, True), (FROM_IMPORT, False), (AS_IMPORT, False)],
    ids=["from", "plain", "as", "from-namespace", "as-namespace"],
)
def test_two_app_packages_each_resolve_their_own_imports(tmp_path, web, packages):
    files = {
        "svc1/app/web.py": web,
        "svc1/app/util.py": BLOCKING_UTIL,
        "svc2/app/web.py": web,
        "svc2/app/util.py": CLEAN_UTIL,
    }
    if packages:
        files.update({"svc1/app/__init__.py": "", "svc2/app/__init__.py": ""})
    _write(tmp_path, files)
    whole = scan(["."], default_catalog(), cwd=str(tmp_path))
    alone = scan(["svc1"], default_catalog(), cwd=str(tmp_path))
    assert [(f.path, f.chain[0].function.rpartition(".")[2]) for f in whole.findings] == [("svc1/app/util.py", "handler")]
    assert [f.path for f in alone.findings] == ["svc1/app/util.py"]
    assert whole.ambiguous_imports == []


def test_tests_of_each_service_import_their_own_package(tmp_path):
    _write(
        tmp_path,
        {
            "svc1/app/__init__.py": "",
            "svc1/app/util.py": CLEAN_UTIL,
            "svc1/main.py": "from app.util import helper\n\nasync def main():\n    helper()\n",
            "svc2/app/__init__.py": "",
            "svc2/app/util.py": BLOCKING_UTIL,
            "svc2/main.py": "from app.util import helper\n\nasync def main():\n    helper()\n",
        },
    )
    result = scan(["svc2", "svc1"], default_catalog(), cwd=str(tmp_path))
    assert [(f.path, f.chain[0].function) for f in result.findings] == [("svc2/app/util.py", "svc2.main.main")]


def test_an_import_equally_near_to_two_packages_is_reported_not_guessed(tmp_path):
    _write(
        tmp_path,
        {
            "svc1/app/__init__.py": "",
            "svc1/app/util.py": BLOCKING_UTIL,
            "svc2/app/__init__.py": "",
            "svc2/app/util.py": CLEAN_UTIL,
            "tools/run.py": "from app.util import helper\n\nasync def main():\n    helper()\n",
        },
    )
    result = scan(["."], default_catalog(), cwd=str(tmp_path))
    assert result.findings == []
    assert result.ambiguous_imports == [("tools/run.py", "app.util", ("svc1/app/util.py", "svc2/app/util.py"))]


def test_modules_named_like_the_standard_library_do_not_capture_its_imports(tmp_path):
    _write(
        tmp_path,
        {
            "svc1/app/__init__.py": "",
            "svc1/app/time.py": "def sleep(x):\n    return x\n",
            "svc1/app/web.py": "import time\n\nasync def handler():\n    time.sleep(1)\n",
            "svc2/app/__init__.py": "",
            "svc2/app/time.py": "def sleep(x):\n    return x\n",
        },
    )
    result = scan(["."], default_catalog(), cwd=str(tmp_path))
    assert [(f.path, f.symbol) for f in result.findings] == [("svc1/app/web.py", "time.sleep")]
