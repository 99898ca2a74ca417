"""Goals and caps as admins type them: '5 mi', '8 km', '5000 m', '10,000 steps', or a bare number
in the server's unit (`parse_amount`). What is stored stays metric (distances in km)."""

from __future__ import annotations

import math
import re

from bot.domain import KM_PER_MILE, Metric, Units
from bot.errors import UserError
from bot.render.text import unit_label

# A goal or cap as typed: a number, with a unit or without ("5 mi", "8 km", "5000 m", "10,000").
_AMOUNT = re.compile(r"^\s*(\d[\d_,]*(?:\.\d+)?|\.\d+)\s*([^\W\d][\w ]*?)?\s*\.?\s*$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
KM_PER_UNIT: dict[str, float] = {
    **dict.fromkeys(("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"), 1.0),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), 0.001),
    **dict.fromkeys(("mi", "mile", "miles"), KM_PER_MILE),
}
"""The distance units a goal or cap may be typed in, in kilometres."""
_OTHER_UNITS: dict[Metric, frozenset[str]] = {
    Metric.STEPS: frozenset({"steps", "step"}),
    Metric.ACTIVE_MINUTES: frozenset({"min", "mins", "minute", "minutes"}),
    Metric.FLOORS: frozenset({"floors", "floor"}),
    Metric.ACTIVE_CALORIES: frozenset({"kcal", "cal", "calories"}),
    Metric.SLEEP_MINUTES: frozenset({"min", "mins", "minute", "minutes"}),
}

Amount = float | str
"""A goal or cap as given: a number in the server's unit, or text as typed."""


def _number(text: str) -> float:
    """'10,000' and '10_000' are ten thousand; '5,5' is five and a half."""
    if "," in text and not _THOUSANDS.match(text):
        text = text.replace(",", ".", 1)
    return float(text.replace(",", "").replace("_", ""))


def parse_amount(value: Amount, metric: Metric, units: Units) -> float:
    """A goal or cap as stored (distances in km) from what an admin gave: a number in the
    server's unit ('5' is 5 mi on an imperial server), or text with a unit ('5 mi', '8 km',
    '5000 m', '10,000 steps'); a UserError for text that is no amount or a unit that is not
    the metric's."""
    if isinstance(value, float | int):
        number, unit = float(value), ""
    else:
        match = _AMOUNT.match(value)
        if match is None:
            raise UserError(
                f"“{value.strip()}” is not an amount: write a number, e.g. "
                f"{_example(metric, units)}."
            )
        number, unit = _number(match.group(1)), (match.group(2) or "").strip().casefold()
    if not math.isfinite(number):
        raise UserError(f"Write the amount as a number, e.g. {_example(metric, units)}.")
    if metric is Metric.DISTANCE:
        if not unit:
            return number * (KM_PER_MILE if units is Units.IMPERIAL else 1.0)
        if unit in KM_PER_UNIT:
            return number * KM_PER_UNIT[unit]
        raise UserError(
            f"“{unit}” is not a distance unit I know: use km, m or mi, e.g. "
            f"{_example(metric, units)}."
        )
    if unit and unit not in _OTHER_UNITS[metric]:
        raise UserError(
            f"{metric.label} are counted in {metric.unit}, not “{unit}”: write a number, e.g. "
            f"{_example(metric, units)}."
        )
    return number


def _example(metric: Metric, units: Units) -> str:
    if metric is Metric.DISTANCE:
        return "5 mi, 8 km or 5000 m"
    return f"{DEFAULT_EXAMPLES[metric]} {unit_label(metric, units)}"


DEFAULT_EXAMPLES: dict[Metric, str] = {
    Metric.STEPS: "10000",
    Metric.ACTIVE_MINUTES: "30",
    Metric.DISTANCE: "8",
    Metric.FLOORS: "10",
    Metric.ACTIVE_CALORIES: "500",
    Metric.SLEEP_MINUTES: "420",
}
