"""Plain domain vocabulary shared by every layer: metrics, units, scoring modes, daily values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Metric(StrEnum):
    """A daily activity metric. Values are stored in the unit named in `UNITS`."""

    STEPS = "steps"
    ACTIVE_MINUTES = "active_minutes"
    DISTANCE = "distance"  # kilometres
    FLOORS = "floors"
    ACTIVE_CALORIES = "active_calories"  # kcal
    SLEEP_MINUTES = "sleep_minutes"

    @property
    def unit(self) -> str:
        return UNITS[self]

    @property
    def label(self) -> str:
        return LABELS[self]


UNITS: dict[Metric, str] = {
    Metric.STEPS: "steps",
    Metric.ACTIVE_MINUTES: "min",
    Metric.DISTANCE: "km",
    Metric.FLOORS: "floors",
    Metric.ACTIVE_CALORIES: "kcal",
    Metric.SLEEP_MINUTES: "min",
}

LABELS: dict[Metric, str] = {
    Metric.STEPS: "Steps",
    Metric.ACTIVE_MINUTES: "Active minutes",
    Metric.DISTANCE: "Distance",
    Metric.FLOORS: "Floors",
    Metric.ACTIVE_CALORIES: "Active calories",
    Metric.SLEEP_MINUTES: "Sleep minutes",
}


class Units(StrEnum):
    """How a server shows and reads distances; stored values stay in kilometres."""

    METRIC = "metric"
    IMPERIAL = "imperial"


KM_PER_MILE = 1.609344  # the international mile


class ScoringMode(StrEnum):
    TOTAL = "total"
    AVERAGE = "average"
    GOAL_DAYS = "goal_days"
    DAILY_RANK = "daily_rank"
    TIERS = "tiers"
    IMPROVEMENT = "improvement"


class TeamMode(StrEnum):
    SUM = "sum"
    MEAN = "mean"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_RELINK = "needs_relink"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class DailyValue:
    """One metric's total for one civil day, as a provider reported it."""

    metric: Metric
    day: dt.date
    value: float
    includes_manual: bool = False
