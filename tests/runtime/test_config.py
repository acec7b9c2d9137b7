"""[tool.loopwarden.runtime] rules and the configuration errors the gate reports."""

from __future__ import annotations

import pytest

from .conftest import add_ini, add_runtime_table

LEGACY = """
def slow_read(path):
    return "pretend this reads through a C extension"


async def load(path):
    return slow_read(path)


class Cache:
    def warm_up(self, path):
        import os

        return os.lstat(path)
"""


def _with_legacy(service: pytest.Pytester) -> None:
    (service.path / "app" / "legacy.py").write_text(LEGACY)


def test_extra_rule_intercepts_a_project_function(service: pytest.Pytester) -> None:
    _with_legacy(service)
    add_runtime_table(service, 'extra = ["app.legacy:slow_read"]\n')
    service.makepyfile(
        test_notes="""
        import asyncio
        from app import legacy

        async def test_reads():
            await legacy.load("x")

        async def test_reads_offloaded():
            await asyncio.to_thread(legacy.slow_read, "x")
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["loopwarden: blocking call on the event loop: app.legacy.slow_read"])


def test_extra_rule_in_dotted_form_on_a_stdlib_method(service: pytest.Pytester) -> None:
    add_runtime_table(service, 'extra = ["json.JSONDecoder.decode"]\n')
    (service.path / "app" / "codec.py").write_text(
        "import json\n\nasync def parse(text):\n    return json.loads(text)\n"
    )
    service.makepyfile(
        test_notes="""
        from app import codec

        async def test_parses():
            await codec.parse("[]")
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*json.JSONDecoder.decode*", "  at           app/codec.py:4 in parse"])


def test_allow_rule_accepts_blocking_inside_start_up_code(service: pytest.Pytester) -> None:
    _with_legacy(service)
    add_runtime_table(service, 'allow = ["app.legacy:Cache.warm_up", "app.store.warm_up"]\n')
    service.makepyfile(
        test_notes="""
        from app import legacy, store

        async def test_warms(tmp_path):
            legacy.Cache().warm_up(tmp_path)
            await store.start()

        async def test_still_gated_elsewhere(tmp_path):
            await store.stat_swallowed(tmp_path)
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_still_gated_elsewhere - *"])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('extra = ["app.nope:slow_read"]', " extra: 'app.nope:slow_read': no module named 'app.nope'"),
        ('extra = ["app.store:nope"]', " extra: 'app.store:nope': 'app.store' has no attribute 'nope'"),
        ('extra = ["nosuchpkg.mod.fn"]', " extra: 'nosuchpkg.mod.fn': no module named 'nosuchpkg'"),
        (
            'allow = ["app.store:Missing.warm_up"]',
            " allow: 'app.store:Missing.warm_up': 'app.store' has no attribute 'Missing'",
        ),
        ('allow = ["os:sep"]', " allow: 'os:sep' is not callable"),
        ('allow = "app.store:warm_up"', " allow: expected a list of 'module:qualname' or dotted names"),
        ('extras = ["app.store:warm_up"]', ": unknown key(s) ['extras']; expected ['extra', 'allow']"),
    ],
)
def test_bad_runtime_table_is_a_clear_usage_error(service: pytest.Pytester, table: str, message: str) -> None:
    add_runtime_table(service, table + "\n")
    service.makepyfile(test_notes="async def test_nothing(): pass")
    result = service.runpytest("--loopwarden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: loopwarden: pyproject.toml [[]tool.loopwarden.runtime[]]{_escape(message)}"])


def test_bad_entry_is_reported_even_when_only_a_marker_gates(service: pytest.Pytester) -> None:
    add_runtime_table(service, 'extra = ["app.nope:fn"]\n')
    service.makepyfile(test_notes="import pytest\n\n@pytest.mark.loopwarden\nasync def test_nothing(): pass\n")
    result = service.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: loopwarden: *no module named 'app.nope'"])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ('loopwarden_stall = "explode"', "loopwarden_stall = 'explode': expected one of warn, fail"),
        ('loopwarden_stall_ms = "soon"', "loopwarden_stall_ms = 'soon': expected a positive number of milliseconds"),
        ('loopwarden_modules = ["nosuchpkg"]', "loopwarden: loopwarden_modules: no module named 'nosuchpkg'"),
    ],
)
def test_bad_ini_option_is_a_clear_usage_error(service: pytest.Pytester, ini: str, message: str) -> None:
    add_ini(service, ini)
    service.makepyfile(test_notes="async def test_nothing(): pass")
    result = service.runpytest("--loopwarden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {_escape(message)}"])


def test_loopwarden_modules_sets_the_project_code(service: pytest.Pytester) -> None:
    service.mkpydir("other")
    (service.path / "other" / "io_helpers.py").write_text(
        "import os\n\nasync def stat(path):\n    return os.lstat(path)\n"
    )
    add_ini(service, 'loopwarden_modules = ["other"]')
    service.makepyfile(
        test_notes="""
        from app import store
        from other import io_helpers

        async def test_app_is_not_gated_now(tmp_path):
            await store.stat_swallowed(tmp_path)

        async def test_other_is(tmp_path):
            await io_helpers.stat(tmp_path)
        """
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_notes.py::test_other_is - *"])


def _escape(text: str) -> str:
    return text.replace("[", "[[]")


def test_tests_inside_the_package_are_not_project_code(service: pytest.Pytester) -> None:
    service.mkpydir("app/tests")
    (service.path / "app" / "tests" / "test_inside.py").write_text(
        "import sqlite3\nfrom app import store\n\n"
        "async def test_uses_a_sync_driver_itself(tmp_path):\n"
        "    sqlite3.connect(tmp_path / 'db.sqlite3').close()\n\n"
        "async def test_project_code_is_still_gated(tmp_path):\n"
        "    await store.stat_swallowed(tmp_path)\n"
    )
    result = service.runpytest("--loopwarden")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED app/tests/test_inside.py::test_project_code_is_still_gated - *"])


def test_src_layout_is_detected(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        pyproject='[tool.pytest.ini_options]\npythonpath = ["src"]\nasyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\n',
    )
    pytester.mkdir("src")
    pytester.mkpydir("src/svc")
    (pytester.path / "src" / "svc" / "core.py").write_text(
        "import os\n\nasync def probe(path):\n    return os.lstat(path)\n"
    )
    pytester.makepyfile(
        test_core="from svc import core\n\nasync def test_probe(tmp_path):\n    await core.probe(tmp_path)\n"
    )
    result = pytester.runpytest("--loopwarden")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  at           src/svc/core.py:4 in probe"])


def test_no_project_module_is_a_clear_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject='[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n')
    pytester.makepyfile(test_alone="async def test_nothing(): pass\n")
    result = pytester.runpytest("--loopwarden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: loopwarden: no project modules found under *set loopwarden_modules*"])
