"""The ``loopwarden`` section of pytest's terminal summary."""

from __future__ import annotations

from collections.abc import Iterator

from loopwarden.runtime.records import Hit, OptOut, StaleAllowance, Stall

_Line = tuple[str, dict[str, bool]]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_lines(
    gated: int,
    hits: list[Hit],
    stalls: list[Stall],
    opt_outs: list[OptOut],
    expected: list[Hit] | None = None,
    stale: list[StaleAllowance] | None = None,
) -> Iterator[_Line]:
    blocked_tests = len({hit.test for hit in hits})
    headline = (
        f"{_plural(gated, 'gated test')}: {_plural(len(hits), 'blocking call')} in {_plural(blocked_tests, 'test')}, "
        f"{_plural(len(stalls), 'stall')}, {_plural(len(opt_outs), 'opt-out')}"
    )
    yield headline, {"bold": True, "red": bool(hits), "green": not hits and not stalls}
    if hits:
        yield "blocking calls on the event loop:", {"bold": True}
        yield from _grouped(hits, {"red": True})
    if stalls:
        yield "event-loop stalls:", {"bold": True}
        for stall in stalls:
            where = stall.location or "no frame in the project code"
            yield f"  {stall.test} ({stall.phase}): loop held {stall.lag_ms:.0f} ms at {where}", {"yellow": True}
    if expected:
        yield "expected (pytest.raises(BlockingError) or expect_blocking()), not failures:", {"bold": True}
        yield from _grouped(expected, {})
    if opt_outs:
        yield "opted out (@pytest.mark.allow_blocking_io):", {"bold": True}
        for opt_out in opt_outs:
            yield f"  {opt_out.test}: {opt_out.reason or '(no reason given)'}", {}
    if stale:
        yield "stale allowances (matched no blocking call in this run):", {"bold": True}
        for allowance in stale:
            yield f"  {allowance}", {"yellow": True}


def _grouped(hits: list[Hit], markup: dict[str, bool]) -> Iterator[_Line]:
    """One block per call site: a site hit by one test is one line, a site hit by 22 tests
    is one line naming it and the 22 tests below; a lock waited on in a loop within one
    test is one entry with a count, not fifty."""
    sites: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    for hit in hits:
        site = (hit.symbol, str(hit.location or "no frame in the project code"))
        tests = sites.setdefault(site, {})
        tests[(hit.test, hit.phase)] = tests.get((hit.test, hit.phase), 0) + 1
    for (symbol, where), tests in sites.items():
        if len(tests) == 1:
            [((test, phase), count)] = tests.items()
            yield f"  {test} ({phase}): {symbol} at {where}{_times(count)}", markup
            continue
        yield f"  {symbol} at {where}: {_plural(len(tests), 'test')}", markup
        for (test, phase), count in tests.items():
            yield f"    {test} ({phase}){_times(count)}", {}


def _times(count: int) -> str:
    return f" (x{count})" if count > 1 else ""
