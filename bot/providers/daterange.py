"""Civil-date ranges: splitting a fetch into chunks an API accepts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

ONE_DAY = dt.timedelta(days=1)


def date_chunks(start: dt.date, end: dt.date, max_days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Inclusive `(first, last)` pairs covering `start..end`, each at most `max_days` long."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    first = start
    while first <= end:
        last = min(end, first + dt.timedelta(days=max_days - 1))
        yield first, last
        first = last + ONE_DAY


def days_in(start: dt.date, end: dt.date) -> int:
    """How many civil days `start..end` holds (0 when end is before start)."""
    return max(0, (end - start).days + 1)
