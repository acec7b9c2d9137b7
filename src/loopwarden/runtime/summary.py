"""The ``loopwarden`` section of pytest's terminal summary."""

from __future__ import annotations

from collections.abc import Iterator

from loopwarden.runtime.records import Hit, OptOut, Stall

_Line = tuple[str, dict[str, bool]]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_lines(
    gated: int, hits: list[Hit], stalls: list[Stall], opt_outs: list[OptOut], expected: list[Hit] | None = None
) -> Iterator[_Line]:
    blocked_tests = len({hit.test for hit in hits})
    headline = (
        f"{_plural(gated, 'gated test')}: {_plural(len(hits), 'blocking call')} in {_plural(blocked_tests, 'test')}, "
        f"{_plural(len(stalls), 'stall')}, {_plural(len(opt_outs), 'opt-out')}"
    )
    yield headline, {"bold": True, "red": bool(hits), "green": not hits and not stalls}
    if hits:
        yield "blocking calls on the event loop:", {"bold": True}
        for (test, phase, symbol, where), count in _counted(hits).items():
            times = f" (x{count})" if count > 1 else ""
            yield f"  {test} ({phase}): {symbol} at {where}{times}", {"red": True}
    if stalls:
        yield "event-loop stalls:", {"bold": True}
        for stall in stalls:
            where = stall.location or "no frame in the project code"
            yield f"  {stall.test} ({stall.phase}): loop held {stall.lag_ms:.0f} ms at {where}", {"yellow": True}
    if expected:
        yield "expected (pytest.raises(BlockingError) or expect_blocking()), not failures:", {"bold": True}
        for (test, phase, symbol, where), count in _counted(expected).items():
            times = f" (x{count})" if count > 1 else ""
            yield f"  {test} ({phase}): {symbol} at {where}{times}", {}
    if opt_outs:
        yield "opted out (@pytest.mark.allow_blocking_io):", {"bold": True}
        for opt_out in opt_outs:
            yield f"  {opt_out.test}: {opt_out.reason or '(no reason given)'}", {}


def _counted(hits: list[Hit]) -> dict[tuple[str, str, str, str], int]:
    """One line per test and call site: a lock waited on in a loop is one finding, not fifty."""
    counts: dict[tuple[str, str, str, str], int] = {}
    for hit in hits:
        key = (hit.test, hit.phase, hit.symbol, str(hit.location or "no frame in the project code"))
        counts[key] = counts.get(key, 0) + 1
    return counts
