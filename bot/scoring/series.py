"""The chart's data: each player's score as it stood at the end of every scored day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.domain import ScoringMode
from bot.scoring.modes import percent_above
from bot.scoring.results import PlayerStanding, Standings
from bot.scoring.rules import PlayerId


def cumulative_series(standings: Standings) -> dict[PlayerId, list[tuple[dt.date, float]]]:
    """For each player, their score as it stood at the end of each scored day.

    For the additive modes this is the running sum of daily points; for `average` the running
    average over the days elapsed so far, and for `improvement` that running average in percent
    above the baseline, so the last point equals the score (up to float rounding)."""
    return {
        standing.player_id: running_scores(
            standings.rules.mode, standings.days, standings.provisional_days, standing
        )
        for standing in standings.players
    }


def running_scores(
    mode: ScoringMode,
    days: Sequence[dt.date],
    provisional: frozenset[dt.date],
    standing: PlayerStanding,
) -> list[tuple[dt.date, float]]:
    """One player's score at the end of each of `days` (elapsed days counted as in
    `bot.scoring.days.elapsed_days`: a provisional day without data has not elapsed yet)."""
    points = values = 0.0
    elapsed = 0
    series: list[tuple[dt.date, float]] = []
    for day in days:
        if day >= standing.first_day and (day not in provisional or day in standing.daily_values):
            elapsed += 1
        points += standing.daily_points.get(day, 0.0)
        values += standing.daily_values.get(day, 0.0)
        series.append((day, _score_so_far(mode, points, values, elapsed, standing.baseline)))
    return series


def _score_so_far(
    mode: ScoringMode, points: float, values: float, elapsed: int, baseline: float | None
) -> float:
    """The score from running sums, as `bot.scoring.modes.score_from_points` makes it."""
    if mode is ScoringMode.AVERAGE:
        return points / elapsed if elapsed else 0.0
    if mode is ScoringMode.IMPROVEMENT:
        if baseline is None or not elapsed:
            return 0.0
        return percent_above(values / elapsed, baseline)
    return points
