"""From an upload's samples to daily totals (`daily_totals`), refusing what cannot be.

Samples are summed per metric and calendar date (a daily total is one sample of its day), so
an upload carries whole days and replaces what Stride had for them. A day must lie in the
window Stride accepts: not after the member's today (the date at the sample's own UTC offset,
or anywhere on Earth when it has none) and at most `MAX_DAYS_BACK` days before it. A day's
total must not exceed the metric's `DAILY_LIMITS`. Either refusal is an `UploadRejected`
(422) naming the field, and nothing of the upload is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.domain import DailyValue, Metric, Units
from bot.providers.apple_health.formats import Sample, UploadRejected
from bot.providers.apple_health.units import DAILY_LIMITS
from bot.render.text import format_amount

MAX_DAYS_BACK = 60
# The furthest any place on Earth is ahead of UTC, and behind it.
_AHEAD = dt.timedelta(hours=14)
_BEHIND = dt.timedelta(hours=12)
_DECIMALS = 4  # sums of many samples are rounded, so the same upload stores the same value


def local_today(now: dt.datetime, tz: dt.tzinfo | None) -> tuple[dt.date, dt.date]:
    """The earliest and latest date it can be today where the sample was taken."""
    if tz is not None:
        today = now.astimezone(tz).date()
        return today, today
    utc = now.astimezone(dt.UTC)
    return (utc - _BEHIND).date(), (utc + _AHEAD).date()


def check_window(sample: Sample, now: dt.datetime) -> None:
    earliest_today, latest_today = local_today(now, sample.stamp.tz)
    day = sample.stamp.day
    if day > latest_today:
        raise UploadRejected(
            422,
            "out_of_window",
            f"{sample.date_field}: {day.isoformat()} is in the future",
            sample.date_field,
        )
    first = earliest_today - dt.timedelta(days=MAX_DAYS_BACK)
    if day < first:
        raise UploadRejected(
            422,
            "out_of_window",
            f"{sample.date_field}: {day.isoformat()} is more than {MAX_DAYS_BACK} days ago; "
            f"Stride takes days from {first.isoformat()} on",
            sample.date_field,
        )


def daily_totals(samples: Iterable[Sample], now: dt.datetime) -> list[DailyValue]:
    """Each metric's total per day, in Stride's units; raises `UploadRejected`, naming the
    sample whose amount takes its day over the limit."""
    totals: dict[tuple[Metric, dt.date], float] = {}
    for sample in samples:
        check_window(sample, now)
        key = (sample.metric, sample.stamp.day)
        totals[key] = totals.get(key, 0.0) + sample.value
        if totals[key] > DAILY_LIMITS[sample.metric]:
            raise _over_limit(sample, totals[key])
    return [
        DailyValue(metric=metric, day=day, value=round(total, _DECIMALS))
        for (metric, day), total in sorted(totals.items())
    ]


def _over_limit(sample: Sample, total: float) -> UploadRejected:
    metric, limit = sample.metric, DAILY_LIMITS[sample.metric]
    return UploadRejected(
        422,
        "impossible_value",
        f"{sample.value_field}: {format_amount(total, metric, Units.METRIC)} of "
        f"{metric.label.lower()} on {sample.stamp.day.isoformat()} is more than the "
        f"{format_amount(limit, metric, Units.METRIC)} a day Stride accepts",
        sample.value_field,
    )
