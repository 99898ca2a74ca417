"""Units an iPhone may send, converted to the unit Stride stores, and the limits of a day.

Apple Health and Health Auto Export follow the phone's region (miles, kilojoules, hours);
Stride stores kilometres, kcal and minutes (`bot.domain.UNITS`). A unit Stride does not know
is an error, never a guess. `DAILY_LIMITS` are what no person can do in a day: a day above
one is refused, not capped (`bot.fair_play` flags merely unusual days for the admins).
"""

from __future__ import annotations

from bot.domain import KM_PER_MILE, Metric

# Factor from each accepted unit (lower case) to the unit Stride stores the metric in.
_COUNT = {"count": 1.0, "steps": 1.0, "step": 1.0, "floors": 1.0, "flights": 1.0}
_DISTANCE = {
    "km": 1.0,
    "m": 0.001,
    "mi": KM_PER_MILE,
    "ft": 0.0003048,
    "yd": 0.0009144,
}
_ENERGY = {"kcal": 1.0, "kj": 1 / 4.184}
_DURATION = {"min": 1.0, "h": 60.0, "hr": 60.0, "hours": 60.0, "s": 1 / 60, "sec": 1 / 60}

CONVERSIONS: dict[Metric, dict[str, float]] = {
    Metric.STEPS: _COUNT,
    Metric.FLOORS: _COUNT,
    Metric.DISTANCE: _DISTANCE,
    Metric.ACTIVE_CALORIES: _ENERGY,
    Metric.ACTIVE_MINUTES: _DURATION,
    Metric.SLEEP_MINUTES: _DURATION,
}

DAILY_LIMITS: dict[Metric, float] = {
    Metric.STEPS: 200_000,
    Metric.DISTANCE: 300,  # km
    Metric.FLOORS: 3_000,
    Metric.ACTIVE_CALORIES: 20_000,  # kcal
    Metric.ACTIVE_MINUTES: 1_440,  # the whole day
    Metric.SLEEP_MINUTES: 1_440,
}


def accepted_units(metric: Metric) -> list[str]:
    return sorted(CONVERSIONS[metric])


def factor(metric: Metric, unit: str | None) -> float | None:
    """The factor that turns an amount in `unit` into Stride's unit for `metric`; None for a
    unit it cannot be. No unit means Stride's own."""
    if unit is None or not unit.strip():
        return 1.0
    return CONVERSIONS[metric].get(unit.strip().casefold())
