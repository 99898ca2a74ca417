"""Goal days and streaks: whether each day's value reached the daily goal, and the current and
best runs of such days in a row (a provisional day not met yet never breaks a run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

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
    run = best = 0
    for day in days:
        if goal_met.get(day, False):
            run += 1
            best = max(best, run)
        elif day not in provisional:
            run = 0
    return run, best
