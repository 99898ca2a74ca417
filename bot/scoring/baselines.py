"""Baselines for `improvement` scoring and the most-improved award: a player's usual daily
value before the start, or the group's median standing in for a player without one."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping

from bot.domain import DailyValue
from bot.scoring.days import merge_daily_values
from bot.scoring.rules import ChallengeRules, PlayerId, is_positive

BASELINE_DAYS = 14
"""How many days before the start make up a player's baseline (the median of those days)."""


def baseline_from_history(
    rules: ChallengeRules, values_before_start: Iterable[DailyValue]
) -> float | None:
    """The median daily value of the `BASELINE_DAYS` days before the start (same metric,
    manual policy, provider merge and cap as the challenge), or None without usable data.

    Days without data are left out rather than counted as 0: an unworn watch says nothing
    about how active someone usually is. A median of 0 is no baseline (no percent of 0)."""
    first = rules.start - dt.timedelta(days=BASELINE_DAYS)
    last = rules.start - dt.timedelta(days=1)
    daily = merge_daily_values(rules, values_before_start, first, last)
    if not daily:
        return None
    median = float(statistics.median(daily.values()))
    return median if median > 0 else None


def resolve_baselines(
    players: Iterable[PlayerId], baselines: Mapping[PlayerId, float]
) -> dict[PlayerId, tuple[float | None, bool]]:
    """(baseline, is_own) per player: their own when usable, else the median of the group's
    usable baselines, else (None, False) when nobody has one."""
    own = {
        player: baselines[player]
        for player in players
        if player in baselines and is_positive(baselines[player])
    }
    group = float(statistics.median(own.values())) if own else None
    return {player: (own[player], True) if player in own else (group, False) for player in players}
