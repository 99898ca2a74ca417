"""The two body shapes an iPhone uploads, read into samples (`parse_upload`).

**Health Auto Export** (its REST API automation, JSON format)::

    {"data": {"metrics": [{"name": "step_count", "units": "count",
                           "data": [{"qty": 1234, "date": "2026-11-30 00:00:00 +0100"}]}],
              "workouts": []}}

Metrics Stride counts: `step_count`, `walking_running_distance`, `active_energy`,
`apple_exercise_time`, `flights_climbed` and `sleep_analysis`; any other name (heart rate…)
is ignored and named in the answer. Sleep comes aggregated (`totalSleep`, or `asleep` +
`core` + `deep` + `rem`, per night, on the date of the night's end) or as raw stages
(`qty` with `value` "Core", "Deep", "REM", "Asleep" or "Unspecified" counted; "Awake" and
"In Bed" not), on the date of `endDate`. `workouts` and other parts are ignored.

**A Shortcut** ("Find Health Samples" + "Get Contents of URL", JSON body), one sample::

    {"metric": "steps", "date": "2026-11-30", "value": 1234, "unit": "count"}

or several: `{"samples": [ … ]}` (or a bare list). `metric` is one of Stride's metric names
(`steps`, `distance`, `active_calories`, `active_minutes`, `floors`, `sleep_minutes`), a
Health Auto Export name, or `active_energy`, `exercise_minutes`, `sleep`; `unit` is optional
(Stride's own unit, `bot.domain.UNITS`, when left out).

Dates are `YYYY-MM-DD`, Health Auto Export's `yyyy-MM-dd HH:mm:ss Z` or ISO 8601. A sample
counts on the calendar date written in it: the phone's own local date, as the Health app
totals days. Anything malformed is an `UploadRejected` naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain import Metric
from bot.providers.apple_health.units import accepted_units, factor

HAE_NAMES: dict[str, Metric] = {
    "step_count": Metric.STEPS,
    "walking_running_distance": Metric.DISTANCE,
    "active_energy": Metric.ACTIVE_CALORIES,
    "apple_exercise_time": Metric.ACTIVE_MINUTES,
    "flights_climbed": Metric.FLOORS,
    "sleep_analysis": Metric.SLEEP_MINUTES,
}
SHORTCUT_NAMES: dict[str, Metric] = {
    **{metric.value: metric for metric in Metric},
    **HAE_NAMES,
    "exercise_minutes": Metric.ACTIVE_MINUTES,
    "sleep": Metric.SLEEP_MINUTES,
}
ASLEEP_STAGES = frozenset({"asleep", "core", "deep", "rem", "unspecified"})
_AGGREGATED_SLEEP = ("asleep", "core", "deep", "rem")
_NUMBER = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$")
_LARGEST_AMOUNT = 2**53  # far above any day's limit; larger integers may not fit a float
_MAX_DATE_LENGTH = 40


class UploadRejected(Exception):
    """An upload Stride refuses; `status` is the HTTP answer (400 malformed, 422 refused
    values), `field` where in the body the problem is. The message is for the member."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def malformed(field: str | None, message: str) -> UploadRejected:
    return UploadRejected(400, "malformed", message, field)


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a sample was taken: its calendar date as written, and its UTC offset if given."""

    day: dt.date
    tz: dt.tzinfo | None


@dataclass(frozen=True, slots=True)
class Sample:
    """One amount in Stride's unit for the metric, on the phone's local date."""

    metric: Metric
    stamp: Stamp
    value: float
    date_field: str  # where in the body its date is
    value_field: str  # and its amount (for Health Auto Export: the list it is summed in)


@dataclass(frozen=True, slots=True)
class ParsedUpload:
    samples: tuple[Sample, ...]
    ignored: tuple[str, ...] = ()  # Health Auto Export metrics Stride does not count


def parse_upload(document: Any) -> ParsedUpload:
    """The samples of a Health Auto Export export or a Shortcut body."""
    if isinstance(document, dict) and "data" in document:
        return _health_auto_export(document["data"])
    if isinstance(document, dict) and "samples" in document:
        items = document["samples"]
        if not isinstance(items, list):
            raise malformed("samples", "samples must be a list of samples")
        return ParsedUpload(tuple(_shortcut(item, f"samples[{i}]") for i, item in enumerate(items)))
    if isinstance(document, dict) and "metric" in document:
        return ParsedUpload((_shortcut(document, ""),))
    if isinstance(document, list):
        return ParsedUpload(tuple(_shortcut(item, f"[{i}]") for i, item in enumerate(document)))
    raise malformed(
        None,
        'expected Health Auto Export\'s {"data": {"metrics": [...]}} or a Shortcut body '
        'such as {"metric": "steps", "date": "2026-11-30", "value": 1234}',
    )


# --------------------------------------------------------------------------- Health Auto Export


def _health_auto_export(data: Any) -> ParsedUpload:
    if not isinstance(data, dict):
        raise malformed("data", 'data must be an object with "metrics"')
    metrics = data.get("metrics", [])
    if not isinstance(metrics, list):
        raise malformed("data.metrics", "data.metrics must be a list")
    samples: list[Sample] = []
    ignored: list[str] = []
    for i, entry in enumerate(metrics):
        path = f"data.metrics[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise malformed(f"{path}.name", "every metric needs a name")
        metric = HAE_NAMES.get(entry["name"])
        if metric is None:
            ignored.append(entry["name"][:64])
            continue
        scale = _factor(metric, entry.get("units"), f"{path}.units")
        points = entry.get("data", [])
        if not isinstance(points, list):
            raise malformed(f"{path}.data", f"{path}.data must be a list")
        for j, point in enumerate(points):
            sample = _hae_point(metric, point, scale, f"{path}.data[{j}]", f"{path}.data")
            if sample is not None:
                samples.append(sample)
    return ParsedUpload(tuple(samples), tuple(sorted(set(ignored))))


def _hae_point(
    metric: Metric, point: Any, scale: float, path: str, total_field: str
) -> Sample | None:
    """One entry of a metric's `data`; `total_field` names the list its day is summed in."""
    if not isinstance(point, dict):
        raise malformed(path, f"{path} must be an object")
    if metric is Metric.SLEEP_MINUTES:
        found = _sleep_amount(point, path)
        if found is None:
            return None
        amount, date_key = found
    else:
        amount, date_key = _amount(point.get("qty"), f"{path}.qty"), "date"
    date_field = f"{path}.{date_key}"
    stamp = _stamp(point.get(date_key), date_field)
    return Sample(metric, stamp, amount * scale, date_field, total_field)


def _sleep_amount(point: Mapping[str, Any], path: str) -> tuple[float, str] | None:
    """A night's sleep (aggregated) or one sleep stage (raw) and the key of its date; None
    for a stage that is not sleep."""
    if "value" in point and "qty" in point:
        stage = point["value"]
        if not isinstance(stage, str):
            raise malformed(f"{path}.value", f"{path}.value must be a sleep stage")
        if stage.casefold() not in ASLEEP_STAGES:
            return None  # awake, in bed
        return _amount(point["qty"], f"{path}.qty"), "endDate" if "endDate" in point else "date"
    if "totalSleep" in point:
        return _amount(point["totalSleep"], f"{path}.totalSleep"), "date"
    parts = [key for key in _AGGREGATED_SLEEP if key in point]
    if not parts:
        raise malformed(path, f"{path} has no totalSleep, asleep, core, deep or rem")
    return sum(_amount(point[key], f"{path}.{key}") for key in parts), "date"


# --------------------------------------------------------------------------- Shortcuts


def _shortcut(item: Any, path: str) -> Sample:
    prefix = f"{path}." if path else ""
    if not isinstance(item, dict):
        raise malformed(path or None, f"{path or 'the body'} must be an object")
    name = item.get("metric")
    metric = SHORTCUT_NAMES.get(name.strip().casefold()) if isinstance(name, str) else None
    if metric is None:
        raise UploadRejected(
            422,
            "unknown_metric",
            f"{prefix}metric must be one of {', '.join(sorted(SHORTCUT_NAMES))}",
            f"{prefix}metric",
        )
    scale = _factor(metric, item.get("unit"), f"{prefix}unit")
    amount = _amount(item.get("value"), f"{prefix}value")
    stamp = _stamp(item.get("date"), f"{prefix}date")
    return Sample(metric, stamp, amount * scale, f"{prefix}date", f"{prefix}value")


# --------------------------------------------------------------------------- fields


def _factor(metric: Metric, unit: Any, field: str) -> float:
    if unit is not None and not isinstance(unit, str):
        raise malformed(field, f"{field} must be a text such as 'km'")
    found = factor(metric, unit)
    if found is None:
        raise UploadRejected(
            422,
            "unknown_unit",
            f"{field}: Stride cannot read {metric.label.lower()} in {str(unit)[:20]!r}; "
            f"use one of {', '.join(accepted_units(metric))}",
            field,
        )
    return found


def _amount(value: Any, field: str) -> float:
    """A finite number (a number in text, as a Shortcut may send it, too), not negative."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise malformed(field, f"{field} must be a number")
    if isinstance(value, int) and abs(value) > _LARGEST_AMOUNT:  # beyond a float (OverflowError)
        raise UploadRejected(422, "impossible_value", f"{field} is far too large", field)
    if not math.isfinite(value):
        raise malformed(field, f"{field} must be a number")
    if value < 0:
        raise UploadRejected(422, "impossible_value", f"{field} must not be negative", field)
    return float(value)


def _stamp(value: Any, field: str) -> Stamp:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_DATE_LENGTH:
        raise malformed(field, f"{field} must be a date such as 2026-11-30")
    text = value.strip()
    try:
        if len(text) == 10:
            return Stamp(dt.date.fromisoformat(text), None)
        try:
            instant = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise malformed(
            field,
            f"{field} must be a date (2026-11-30) or a time with its offset "
            "(2026-11-30 14:05:00 +0100)",
        ) from None
    return Stamp(instant.date(), instant.tzinfo)
