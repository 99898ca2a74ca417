"""Which days are scored, and one value per player and day: merged across providers, with the
manual-entry policy and the daily cap applied; how many days have elapsed for a player."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

from bot.domain import DailyValue
from bot.scoring.rules import ChallengeRules


def scored_days(rules: ChallengeRules, through: dt.date) -> tuple[dt.date, ...]:
    """The challenge days from the start up to `through` (inclusive, never past the end)."""
    last = min(rules.end, through)
    count = (last - rules.start).days + 1
    return tuple(rules.start + dt.timedelta(days=i) for i in range(max(count, 0)))


def merge_daily_values(
    rules: ChallengeRules,
    values: Iterable[DailyValue],
    first: dt.date,
    last: dt.date,
) -> dict[dt.date, float]:
    """One value per day in `first..last` for the challenge metric: the highest reading across
    providers, manual entries dropped if the rules forbid them, clamped to the daily cap."""
    merged: dict[dt.date, float] = {}
    for item in values:
        if not _counts(rules, item, first, last):
            continue
        value = max(item.value, 0.0)
        merged[item.day] = max(merged.get(item.day, value), value)
    return {day: cap_value(rules, merged[day]) for day in sorted(merged)}


def _counts(rules: ChallengeRules, item: DailyValue, first: dt.date, last: dt.date) -> bool:
    # A NaN would poison max() and every sum after it; a provider glitch must not score.
    return (
        item.metric == rules.metric
        and first <= item.day <= last
        and math.isfinite(item.value)
        and (rules.allow_manual or not item.includes_manual)
    )


def cap_value(rules: ChallengeRules, value: float) -> float:
    """The value as it counts for the challenge: never above the daily cap."""
    return value if rules.daily_cap is None else min(value, rules.daily_cap)


def elapsed_days(
    days: Sequence[dt.date],
    provisional: frozenset[dt.date],
    daily_values: Mapping[dt.date, float],
    first_day: dt.date,
) -> int:
    """Final days from `first_day`, plus provisional days on which the player already has a
    value."""
    return sum(
        1 for day in days if day >= first_day and (day not in provisional or day in daily_values)
    )
