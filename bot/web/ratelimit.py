"""`RateLimitedLog`: at most a few lines per period for one kind of event, the rest counted.

A client can cause log lines at will (a malformed request a millisecond): such lines go
through one of these, so the log grows by a bounded amount whatever the client does. The
next line let through after a quiet spell says how many were left out. Time comes from an
injected monotonic clock (seconds), so tests move it by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

Monotonic = Callable[[], float]


class RateLimitedLog:
    """Lets `burst` lines through per `period` seconds; counts the others."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        level: int = logging.INFO,
        burst: int = 10,
        period: float = 60.0,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        if burst < 1 or period <= 0:
            raise ValueError("burst must be at least 1 and period positive")
        self._logger = logger
        self._level = level
        self._burst = burst
        self._period = period
        self._monotonic = monotonic
        self._window_start: float | None = None
        self._in_window = 0
        self.suppressed = 0  # left out since the last line let through

    def log(self, message: str, *args: object) -> bool:
        """Log `message % args` unless this period's lines are used up; whether it was."""
        now = self._monotonic()
        if self._window_start is None or now - self._window_start >= self._period:
            self._window_start, self._in_window = now, 0
        if self._in_window >= self._burst:
            self.suppressed += 1
            return False
        self._in_window += 1
        if self.suppressed:
            message += " (%d more like it left out of the log)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self._logger.log(self._level, message, *args)
        return True
