"""The chart's data: each player's score as it stood at the end of every scored day."""

from __future__ import annotations

import datetime as dt

from bot.domain import ScoringMode
from bot.scoring.results import PlayerStanding, Standings
from bot.scoring.rules import PlayerId


def cumulative_series(standings: Standings) -> dict[PlayerId, list[tuple[dt.date, float]]]:
    """For each player, their score as it stood at the end of each scored day.

    For the additive modes this is the running sum of daily points; for `average` and
    `improvement` it is the running average, so the last point equals the score (up to float
    rounding)."""
    return {standing.player_id: _series_for(standing, standings) for standing in standings.players}


def _series_for(standing: PlayerStanding, standings: Standings) -> list[tuple[dt.date, float]]:
    mode = standings.rules.mode
    running = 0.0
    elapsed = with_points = 0
    series: list[tuple[dt.date, float]] = []
    for day in standings.days:
        if day >= standing.first_day and (
            day not in standings.provisional_days or day in standing.daily_values
        ):
            elapsed += 1
        if day in standing.daily_points:
            running += standing.daily_points[day]
            with_points += 1
        if mode is ScoringMode.AVERAGE:
            value = running / elapsed if elapsed else 0.0
        elif mode is ScoringMode.IMPROVEMENT:
            value = running / with_points if with_points else 0.0
        else:
            value = running
        series.append((day, value))
    return series
