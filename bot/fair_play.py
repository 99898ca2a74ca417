"""Fair play: spotting daily values that an admin should look at before they count.

Pure functions over plain data (no I/O, no clock). A value is suspicious when it is

* above the metric's hard ceiling (`HARD_CEILINGS`, e.g. 100,000 steps in a day), or
* far above the player's own history: more than `HISTORY_FACTOR` times the median of their
  days with data in the `HISTORY_DAYS` days before it, when they have at least
  `MIN_HISTORY_DAYS` such days. Values at or below the metric's `HISTORY_FLOOR` are never
  flagged this way: tripling a very low median (a watch worn now and then) is not suspicious.

Days without data and days at 0 are left out of the history (an unworn watch says nothing).
`ChallengeService.review_new_values` stores the flags as pending reviews;
`ChallengeService.excluded_days` tells the scorer which days an admin excluded.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import Metric, Units
from bot.render.text import format_amount

HISTORY_DAYS = 28
MIN_HISTORY_DAYS = 7
HISTORY_FACTOR = 3.0

HARD_CEILINGS: dict[Metric, float] = {
    Metric.STEPS: 100_000,
    Metric.ACTIVE_MINUTES: 960,  # 16 hours
    Metric.DISTANCE: 150,  # km
    Metric.FLOORS: 500,
    Metric.ACTIVE_CALORIES: 8_000,
    Metric.SLEEP_MINUTES: 1_200,  # 20 hours
}

HISTORY_FLOOR: dict[Metric, float] = {
    Metric.STEPS: 15_000,
    Metric.ACTIVE_MINUTES: 120,
    Metric.DISTANCE: 12,
    Metric.FLOORS: 40,
    Metric.ACTIVE_CALORIES: 1_000,
    Metric.SLEEP_MINUTES: 660,
}


class ReviewStatus(StrEnum):
    PENDING = "pending"
    EXCLUDED = "excluded"  # kept in storage, left out of the challenge's scores
    ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True)
class Suspicion:
    """Why a value was flagged, in words an admin understands."""

    reason: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A suspicious value of one player on one day, as stored for review."""

    review_id: int
    challenge_id: int
    discord_id: int
    metric: Metric
    day: dt.date
    value: float
    reason: str
    status: ReviewStatus = ReviewStatus.PENDING
    reviewed_by: int | None = None


def history_window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the history a value on `day` is compared with."""
    return day - dt.timedelta(days=HISTORY_DAYS), day - dt.timedelta(days=1)


def suspicion(
    metric: Metric, value: float, history: Iterable[float], *, units: Units = Units.METRIC
) -> Suspicion | None:
    """Why `value` is suspicious given the player's `history` (their daily values in the
    `HISTORY_DAYS` days before it), or None when it looks plausible; amounts in the reason
    are in the server's `units` (the reason is stored as written)."""
    if not math.isfinite(value):
        return Suspicion("not a number")
    ceiling = HARD_CEILINGS[metric]
    if value > ceiling:
        return Suspicion(
            f"{format_amount(value, metric, units)} is above the ceiling of "
            f"{format_amount(ceiling, metric, units)} a day"
        )
    usable = [v for v in history if math.isfinite(v) and v > 0]
    if len(usable) < MIN_HISTORY_DAYS or value <= HISTORY_FLOOR[metric]:
        return None
    median = float(statistics.median(usable))
    if value > HISTORY_FACTOR * median:
        return Suspicion(
            f"{format_amount(value, metric, units)} is {value / median:.1f} times their "
            f"median of {format_amount(median, metric, units)} over the last {HISTORY_DAYS} days"
        )
    return None


def suspicious_values(
    metric: Metric,
    values: Mapping[tuple[int, dt.date], float],
    history: Mapping[int, Mapping[dt.date, float]],
    *,
    units: Units = Units.METRIC,
) -> dict[tuple[int, dt.date], Suspicion]:
    """The suspicious ones among `values` ((player, day) -> value), each judged against that
    player's `history` (day -> value) in the window before its day."""
    flagged: dict[tuple[int, dt.date], Suspicion] = {}
    for (player, day), value in sorted(values.items()):
        first, last = history_window(day)
        past = [v for d, v in history.get(player, {}).items() if first <= d <= last]
        found = suspicion(metric, value, past, units=units)
        if found is not None:
            flagged[(player, day)] = found
    return flagged
