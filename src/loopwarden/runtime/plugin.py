"""pytest plugin: the runtime gate. Fails a test when blocking I/O runs on the event loop.

Registered through the ``pytest11`` entry point; it does nothing until enabled with
``--loopwarden``, the ``loopwarden_paths`` ini option or ``@pytest.mark.loopwarden``.
This module only declares options and markers; the gate itself (blockbuster, TOML, the
catalogue) is imported once a test is actually gated.
"""

from __future__ import annotations

import pytest

from loopwarden.runtime.options import read_options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loopwarden", "loopwarden runtime gate")
    group.addoption(
        "--loopwarden",
        action="store_true",
        default=False,
        help="gate every test: fail it when it runs blocking I/O on the event loop",
    )
    group.addoption(
        "--no-loopwarden",
        action="store_true",
        default=False,
        help="switch the loopwarden gate off for this run (markers and loopwarden_paths too)",
    )
    group.addoption(
        "--loopwarden-report",
        metavar="FILE",
        default=None,
        help="write every loopwarden hit, stall and opt-out to FILE as JSON",
    )
    parser.addini("loopwarden_paths", type="args", default=[], help="test path globs that loopwarden gates")
    parser.addini("loopwarden_modules", type="args", default=[], help="the project's modules (default: detected)")
    parser.addini("loopwarden_stall_ms", default="100", help="event-loop lag that counts as a stall, in ms")
    parser.addini("loopwarden_stall", default="warn", help="what a stall does: warn (default) or fail")
    parser.addini(
        "loopwarden_scope",
        default="project",
        help="project (default): a project frame on the blocking call's stack; called-from-project: "
        "also blocking calls in tasks the project's code started",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "loopwarden: gate this test: fail it when it blocks the event loop")
    config.addinivalue_line(
        "markers", 'allow_blocking_io(reason="..."): opt this test out of the loopwarden gate (the reason is listed in its summary)'
    )
    options = read_options(config)
    if options.disabled:
        return
    from loopwarden.runtime.session import GateSession

    config.pluginmanager.register(GateSession(config, options), "loopwarden-gate")
