"""`RateLimitedLog`: a bounded number of lines per period, and a count of the rest."""

from __future__ import annotations

import logging

import pytest

from bot.web.ratelimit import RateLimitedLog

from .rawhttp import FakeMonotonic


def test_lines_past_the_burst_are_counted_and_reported_with_the_next_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeMonotonic()
    limited = RateLimitedLog(
        logging.getLogger("tests.ratelimit"), burst=3, period=10, monotonic=clock
    )
    caplog.set_level(logging.INFO, "tests.ratelimit")
    let_through = [limited.log("bad request %d", n) for n in range(8)]
    assert let_through == [True] * 3 + [False] * 5
    clock.now += 9.9
    assert not limited.log("bad request late")  # still the same period
    clock.now += 0.1
    assert limited.log("bad request %d", 9)
    assert caplog.messages == [
        "bad request 0",
        "bad request 1",
        "bad request 2",
        "bad request 9 (6 more like it left out of the log)",
    ]
    assert limited.suppressed == 0
