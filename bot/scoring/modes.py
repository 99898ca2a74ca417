"""What one day is worth in each scoring mode (`ScoringMode`), and a player's score from it.

* `total`: the daily value; the score is the sum.
* `average`: the daily value; the score is the sum divided by the player's elapsed days.
* `goal_days`: 1 when the daily goal is met, else 0; the score is the sum.
* `daily_rank`: `points_table[rank - 1]` for that day's competition rank among players with a
  value above 0 (a zero reading is no activity and earns nothing); the score is the sum.
* `tiers`: the points of the highest threshold the value reaches; the score is the sum.
* `improvement`: a day's points are its percent above the baseline; the score compares the
  player's average over their elapsed days with their baseline (`improvement_percent`): as in
  `average`, a final day without data counts as 0, so leaving a weak day unsynced never raises
  the score, and a provisional day without data is not elapsed yet. A player with elapsed days
  but no data at all scores -100%; with no elapsed day, or when nobody has a baseline, 0.

Scores are summed with `math.fsum`, so they do not depend on the order the values arrived in and
players with the same values tie exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from bot.domain import ScoringMode
from bot.scoring.ranking import competition_ranks
from bot.scoring.rules import ChallengeRules, PlayerId


def tier_points(rules: ChallengeRules, value: float) -> float:
    """Points of the highest tier whose threshold the value reaches (0 below the first)."""
    points = 0.0
    for threshold, tier_value in rules.tiers:
        if value >= threshold:
            points = float(tier_value)
    return points


def daily_rank_points(
    rules: ChallengeRules, values_by_player: Mapping[PlayerId, Mapping[dt.date, float]]
) -> dict[PlayerId, dict[dt.date, float]]:
    """Each day, `points_table[rank - 1]` by that day's competition rank (tied players share
    the better rank's points); players ranked beyond the table or at 0 get 0 for the day."""
    points: dict[PlayerId, dict[dt.date, float]] = {
        player: dict.fromkeys(values, 0.0) for player, values in values_by_player.items()
    }
    all_days = sorted({day for values in values_by_player.values() for day in values})
    for day in all_days:
        active = {
            player: values[day]
            for player, values in values_by_player.items()
            if values.get(day, 0.0) > 0
        }
        for player, rank in competition_ranks(active).items():
            if rank <= len(rules.points_table):
                points[player][day] = float(rules.points_table[rank - 1])
    return points


def percent_above(value: float, baseline: float) -> float:
    """How far `value` is above `baseline`, in percent (negative when below)."""
    return 100.0 * (value - baseline) / baseline


def average_over_elapsed(daily_values: Mapping[dt.date, float], elapsed: int) -> float:
    """The sum of the values divided by the elapsed days (a day without data adding 0); 0 when
    no day has elapsed."""
    total = math.fsum(daily_values[day] for day in sorted(daily_values))
    return total / elapsed if elapsed else 0.0


def improvement_percent(
    daily_values: Mapping[dt.date, float], elapsed: int, baseline: float | None
) -> float:
    """The `improvement` score, and the most-improved award's percent: the average over the
    elapsed days, in percent above `baseline` (0 without a baseline or an elapsed day)."""
    if baseline is None or not elapsed:
        return 0.0
    return percent_above(average_over_elapsed(daily_values, elapsed), baseline)


def points_by_player(
    rules: ChallengeRules,
    daily: Mapping[PlayerId, Mapping[dt.date, float]],
    baselines: Mapping[PlayerId, tuple[float | None, bool]],
) -> dict[PlayerId, dict[dt.date, float]]:
    """Every player's points per day with data (`baselines` as from `resolve_baselines`); in
    `improvement` mode a player without any baseline gets no points at all."""
    if rules.mode is ScoringMode.DAILY_RANK:
        return daily_rank_points(rules, daily)
    result: dict[PlayerId, dict[dt.date, float]] = {}
    for player, values in daily.items():
        baseline = baselines[player][0]
        per_day = {day: _points_for_day(rules, value, baseline) for day, value in values.items()}
        result[player] = {day: p for day, p in per_day.items() if p is not None}
    return result


def _points_for_day(rules: ChallengeRules, value: float, baseline: float | None) -> float | None:
    """One day's points in every mode except `daily_rank` (which needs the whole group)."""
    match rules.mode:
        case ScoringMode.TOTAL | ScoringMode.AVERAGE:
            return value
        case ScoringMode.GOAL_DAYS:
            return 1.0 if rules.daily_goal is not None and value >= rules.daily_goal else 0.0
        case ScoringMode.TIERS:
            return tier_points(rules, value)
        case ScoringMode.IMPROVEMENT:
            return None if baseline is None else percent_above(value, baseline)
        case _:
            raise ValueError(f"{rules.mode} is scored across players, not per day")


def score_from_points(
    mode: ScoringMode,
    daily_points: Mapping[dt.date, float],
    elapsed: int,
    *,
    daily_values: Mapping[dt.date, float],
    baseline: float | None,
) -> float:
    """A player's score from their daily points, or in `improvement` from their daily values
    and baseline (see the module docstring for each mode)."""
    if mode is ScoringMode.AVERAGE:
        return average_over_elapsed(daily_points, elapsed)
    if mode is ScoringMode.IMPROVEMENT:
        return improvement_percent(daily_values, elapsed, baseline)
    return math.fsum(daily_points[day] for day in sorted(daily_points))
