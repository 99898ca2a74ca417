"""Goal days and streaks: whether each day's value reached the daily goal (the capped value is
checked), and the current and best runs of such days in a row (a provisional day not met yet
never breaks a run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

from bot.scoring.rules import ChallengeRules


def goal_met_by_day(
    rules: ChallengeRules, days: Sequence[dt.date], daily_values: Mapping[dt.date, float]
) -> dict[dt.date, bool]:
    """For every scored day, whether the (capped) value reached the daily goal."""
    goal = rules.daily_goal
    return {
        day: goal is not None and day in daily_values and daily_values[day] >= goal for day in days
    }


def compute_streaks(
    days: Sequence[dt.date], goal_met: Mapping[dt.date, bool], provisional: frozenset[dt.date]
) -> tuple[int, int]:
    """(current, best) runs of consecutive days with the goal met.

    A provisional day that is not (yet) met is skipped: late data may still complete it, so it
    must not reset a streak. A met provisional day extends the run like any other."""
    runs = list(_runs(days, goal_met, provisional))
    if not runs:
        return 0, 0
    _last_day, current, best = runs[-1]
    return current, best


def best_streak_series(
    days: Sequence[dt.date], goal_met: Mapping[dt.date, bool], provisional: frozenset[dt.date]
) -> list[tuple[dt.date, float]]:
    """The best streak as it stood at the end of each day (what a Streak challenge ranks by)."""
    return [(day, float(best)) for day, _run, best in _runs(days, goal_met, provisional)]


def _runs(
    days: Sequence[dt.date], goal_met: Mapping[dt.date, bool], provisional: frozenset[dt.date]
) -> Iterator[tuple[dt.date, int, int]]:
    """(day, current run, best run so far) at the end of each day."""
    run = best = 0
    for day in days:
        if goal_met.get(day, False):
            run += 1
            best = max(best, run)
        elif day not in provisional:
            run = 0
        yield day, run, best
