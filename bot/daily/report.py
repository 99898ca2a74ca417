"""What one daily run did (`RunReport`): filled in by each job, read by logs, the demo and
the benchmark."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.daily.fetch import FetchFailure
from bot.daily.standings import Board
from bot.storage.runs import RunKind


@dataclass(slots=True)
class RunReport:
    """What one `run_due()` did, for logs, the demo and the benchmark."""

    challenges: list[int] = field(default_factory=list)
    days_scored: dict[int, list[dt.date]] = field(default_factory=dict)
    days_finalised: dict[int, list[dt.date]] = field(default_factory=dict)
    posts: dict[int, int] = field(default_factory=dict)  # challenge -> message id
    posted_boards: dict[int, Board] = field(default_factory=dict)  # challenge -> what it showed
    post_kinds: dict[int, RunKind] = field(default_factory=dict)  # daily, catch_up or results
    failed_posts: dict[int, str] = field(default_factory=dict)  # challenge -> error code
    recaps: dict[int, int] = field(default_factory=dict)  # challenge -> weekly recap message
    accounts_fetched: int = 0
    fetch_failures: Counter[FetchFailure] = field(default_factory=Counter)
    errors: dict[int, str] = field(default_factory=dict)  # challenge -> what went wrong
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[phase] = self.seconds.get(phase, 0.0) + elapsed
