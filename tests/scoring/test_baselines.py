"""A player's baseline from the days before the start."""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric, ScoringMode
from bot.scoring import baseline_from_history
from tests.scoring.builders import START, rules


def test_baseline_is_the_median_of_the_14_days_before_the_start() -> None:
    history = [
        DailyValue(Metric.STEPS, START - dt.timedelta(days=n), 1000.0 * n) for n in range(1, 16)
    ]
    history.append(DailyValue(Metric.FLOORS, START - dt.timedelta(days=1), 1e9))
    # Day -15 (15,000) is outside the window; days -1..-14 hold 1000..14000, median 7500.
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), history) == 7500


def test_baseline_is_none_without_history() -> None:
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), []) is None
    zeros = [DailyValue(Metric.STEPS, START - dt.timedelta(days=1), 0)]
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), zeros) is None
