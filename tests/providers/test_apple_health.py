"""Apple Health: reading both body shapes, adding samples up to days, units, the window, the
limits, the provider's face in the registry, and the setup DM."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock

import pytest

from bot.clock import FakeClock
from bot.domain import DailyValue, Metric
from bot.providers.apple_health import (
    UPLOAD_METRICS,
    AppleHealthProvider,
    UploadLink,
    UploadRejected,
)
from bot.providers.apple_health.days import daily_totals
from bot.providers.apple_health.formats import parse_upload
from bot.providers.apple_health.setup import RedactUploadSecrets
from bot.providers.registry import build_providers
from bot.render.text import FIELD_VALUE_LIMIT, TOTAL_LIMIT
from bot.settings import AppleHealthSettings, Settings

NOW = dt.datetime(2026, 11, 30, 21, 0, tzinfo=dt.UTC)


def totals(document: Any, now: dt.datetime = NOW) -> dict[tuple[Metric, dt.date], float]:
    values = daily_totals(parse_upload(document).samples, now)
    return {(v.metric, v.day): v.value for v in values}


def export(*metrics: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"metrics": list(metrics), "workouts": []}}


def rejected(document: Any, now: dt.datetime = NOW) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        daily_totals(parse_upload(document).samples, now)
    return caught.value


NOV_29, NOV_30 = dt.date(2026, 11, 29), dt.date(2026, 11, 30)


# --------------------------------------------------------------------------- Health Auto Export


def test_health_auto_export_daily_totals_are_converted_to_strides_units() -> None:
    document = export(
        {"name": "step_count", "units": "count",
         "data": [{"qty": 1234, "date": "2026-11-30 00:00:00 +0100"}]},
        {"name": "walking_running_distance", "units": "mi",
         "data": [{"qty": 3.1, "date": "2026-11-30 00:00:00 +0100"}]},
        {"name": "active_energy", "units": "kJ",
         "data": [{"qty": 2092, "date": "2026-11-30 00:00:00 +0100"}]},
        {"name": "apple_exercise_time", "units": "hr",
         "data": [{"qty": 0.75, "date": "2026-11-30 00:00:00 +0100"}]},
        {"name": "flights_climbed", "units": "count",
         "data": [{"qty": 12, "date": "2026-11-30 00:00:00 +0100"}]},
    )  # fmt: skip

    assert totals(document) == {
        (Metric.STEPS, NOV_30): 1234,
        (Metric.DISTANCE, NOV_30): pytest.approx(4.989, abs=0.001),
        (Metric.ACTIVE_CALORIES, NOV_30): 500,
        (Metric.ACTIVE_MINUTES, NOV_30): 45,
        (Metric.FLOORS, NOV_30): 12,
    }


def test_samples_add_up_per_date_as_the_phone_wrote_it() -> None:
    # 23:30 at +01:00 is 22:30 UTC and 00:10 at +01:00 is 23:10 UTC the day before: the day is
    # the phone's own local date, not the UTC one.
    document = export(
        {
            "name": "step_count",
            "units": "count",
            "data": [
                {"qty": 300, "date": "2026-11-29 23:30:00 +0100"},
                {"qty": 200, "date": "2026-11-29 08:00:00 +0100"},
                {"qty": 50, "date": "2026-11-30 00:10:00 +0100"},
            ],
        }
    )

    assert totals(document) == {(Metric.STEPS, NOV_29): 500, (Metric.STEPS, NOV_30): 50}


def test_sleep_counts_asleep_time_whether_aggregated_or_in_stages() -> None:
    aggregated = export(
        {
            "name": "sleep_analysis",
            "units": "hr",
            "data": [
                {"date": "2026-11-29", "totalSleep": 7.5, "inBed": 8.2},
                {"date": "2026-11-30", "asleep": 0, "core": 4, "deep": 1, "rem": 1.5},
            ],
        }
    )
    stages = export(
        {
            "name": "sleep_analysis",
            "units": "min",
            "data": [
                {"startDate": "2026-11-29 23:10:00 +0100", "endDate": "2026-11-30 02:00:00 +0100",
                 "qty": 170, "value": "Core"},
                {"startDate": "2026-11-30 02:00:00 +0100", "endDate": "2026-11-30 02:20:00 +0100",
                 "qty": 20, "value": "Awake"},
                {"startDate": "2026-11-30 02:20:00 +0100", "endDate": "2026-11-30 03:30:00 +0100",
                 "qty": 70, "value": "Deep"},
                {"startDate": "2026-11-29 22:50:00 +0100", "endDate": "2026-11-30 06:40:00 +0100",
                 "qty": 470, "value": "In Bed"},
            ],
        }
    )  # fmt: skip

    assert totals(aggregated) == {
        (Metric.SLEEP_MINUTES, NOV_29): 450,
        (Metric.SLEEP_MINUTES, NOV_30): 390,
    }
    assert totals(stages) == {(Metric.SLEEP_MINUTES, NOV_30): 240}


def test_metrics_stride_does_not_count_are_ignored_and_named() -> None:
    document = export(
        {"name": "heart_rate", "units": "count/min", "data": [{"Min": 50, "date": "x"}]},
        {"name": "step_count", "units": "count", "data": []},
    )

    parsed = parse_upload(document)

    assert parsed.samples == ()
    assert parsed.ignored == ("heart_rate",)


# --------------------------------------------------------------------------- Shortcuts


@pytest.mark.parametrize(
    "document",
    [
        {"metric": "steps", "date": "2026-11-30", "value": 1234},
        {"metric": "Steps", "date": "2026-11-30T21:40:00+01:00", "value": "1234", "unit": "count"},
        {"samples": [{"metric": "step_count", "date": "2026-11-30", "value": 1234}]},
        [{"metric": "steps", "date": "2026-11-30", "value": 1000},
         {"metric": "steps", "date": "2026-11-30", "value": 234}],
    ],
)  # fmt: skip
def test_every_shortcut_shape_gives_the_days_total(document: Any) -> None:
    assert totals(document) == {(Metric.STEPS, NOV_30): 1234}


@pytest.mark.parametrize(
    ("metric", "value", "unit", "expected"),
    [
        ("distance", 5000, "m", (Metric.DISTANCE, 5.0)),
        ("distance", 1, "yd", (Metric.DISTANCE, 0.0009)),
        ("active_energy", 418.4, "kJ", (Metric.ACTIVE_CALORIES, 100.0)),
        ("exercise_minutes", 5400, "s", (Metric.ACTIVE_MINUTES, 90.0)),
        ("sleep", 8, "h", (Metric.SLEEP_MINUTES, 480.0)),
        ("sleep_minutes", 480, None, (Metric.SLEEP_MINUTES, 480.0)),
    ],
)
def test_units_are_converted(
    metric: str, value: float, unit: str | None, expected: tuple[Metric, float]
) -> None:
    sample = {"metric": metric, "date": "2026-11-30", "value": value, "unit": unit}

    [(found_metric, _)], [found] = totals(sample).keys(), totals(sample).values()

    assert (found_metric, found) == (expected[0], pytest.approx(expected[1], abs=0.0001))


# --------------------------------------------------------------------------- refusals


def test_a_day_after_the_members_today_is_refused_at_its_own_offset() -> None:
    # 21:00 UTC on 30 Nov is already 1 Dec at +05:00, but not at -05:00.
    tomorrow_there = {"metric": "steps", "date": "2026-12-01T01:00:00+05:00", "value": 10}
    ahead = {"metric": "steps", "date": "2026-12-01T01:00:00-05:00", "value": 10}

    assert totals(tomorrow_there) == {(Metric.STEPS, dt.date(2026, 12, 1)): 10}
    refused = rejected(ahead)
    assert (refused.status, refused.code, refused.field) == (422, "out_of_window", "date")


def test_a_day_more_than_60_days_back_is_refused() -> None:
    oldest = {"metric": "steps", "date": "2026-10-01", "value": 10}
    older = {"metric": "steps", "date": "2026-09-29", "value": 10}

    assert totals(oldest)
    refused = rejected(older)
    assert (refused.code, refused.field) == ("out_of_window", "date")
    assert "60 days" in refused.message


def test_a_day_above_the_limit_is_refused_naming_the_sample_that_crossed_it() -> None:
    document = export(
        {"name": "step_count", "units": "count",
         "data": [{"qty": 150_000, "date": "2026-11-30 10:00:00 +0000"},
                  {"qty": 60_000, "date": "2026-11-30 11:00:00 +0000"}]}
    )  # fmt: skip

    refused = rejected(document)

    assert (refused.status, refused.code, refused.field) == (
        422,
        "impossible_value",
        "data.metrics[0].data",
    )
    assert "210,000 steps" in refused.message and "200,000" in refused.message


@pytest.mark.parametrize("qty", [10**400, -(10**400), 2**53 + 1], ids=["1e400", "-1e400", "2^53+1"])
def test_an_integer_too_large_for_a_float_is_an_impossible_value(qty: int) -> None:
    # JSON integers have no size limit; 10**400 once raised OverflowError (a 500).
    document = export({"name": "step_count", "data": [{"qty": qty, "date": "2026-11-30"}]})

    refused = rejected(document)

    assert (refused.status, refused.code, refused.field) == (
        422,
        "impossible_value",
        "data.metrics[0].data[0].qty",
    )


@pytest.mark.parametrize(
    ("document", "status", "field"),
    [
        (export({"name": "step_count", "units": "parsecs", "data": []}), 422,
         "data.metrics[0].units"),
        (export({"name": "step_count", "data": [{"qty": -1, "date": "2026-11-30"}]}), 422,
         "data.metrics[0].data[0].qty"),
        (export({"name": "step_count", "data": [{"qty": True, "date": "2026-11-30"}]}), 400,
         "data.metrics[0].data[0].qty"),
        (export({"name": "step_count", "data": [{"qty": float("nan"), "date": "2026-11-30"}]}),
         400, "data.metrics[0].data[0].qty"),
        (export({"name": "step_count", "data": [{"qty": 1, "date": "30/11/2026"}]}), 400,
         "data.metrics[0].data[0].date"),
        (export({"name": "sleep_analysis", "data": [{"date": "2026-11-30"}]}), 400,
         "data.metrics[0].data[0]"),
        ({"data": {"metrics": {"name": "step_count"}}}, 400, "data.metrics"),
        ({"samples": "steps"}, 400, "samples"),
        ([1, 2], 400, "[0]"),
        ("steps", 400, None),
    ],
)  # fmt: skip
def test_what_cannot_be_read_is_refused_naming_the_field(
    document: Any, status: int, field: str | None
) -> None:
    refused = rejected(document)

    assert (refused.status, refused.field) == (status, field)
    assert refused.message


# --------------------------------------------------------------------------- the provider


async def test_the_provider_fetches_nothing_and_has_no_oauth() -> None:
    provider = AppleHealthProvider()

    fetched = await provider.fetch_daily(
        "apple-health-upload",
        [Metric.STEPS],
        NOV_29,
        NOV_30,
        include_manual=False,
        user_tz=dt.UTC,  # type: ignore[arg-type]
    )

    assert fetched == []
    assert provider.info.fetches is False  # the daily run, poller and /sync plan no fetch
    assert provider.info.metrics == UPLOAD_METRICS  # what its uploads give
    assert not any(provider.info.fetches_metric(metric) for metric in Metric)
    assert provider.info.can_exclude_manual is False
    with pytest.raises(ValueError, match="upload address"):
        provider.authorization_url(state="s", redirect_uri="https://x/cb", code_challenge=None)


def test_the_registry_lists_apple_health_only_when_enabled(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock(NOW)
    off = build_providers(make_settings(), MagicMock(), clock)
    on = build_providers(
        make_settings(apple_health=AppleHealthSettings(enabled=True), sandbox={"enabled": True}),
        MagicMock(),
        clock,
    )

    assert "apple_health" not in off
    assert list(on) == ["apple_health", "sandbox"]
    assert on["apple_health"].info.display_name == "Apple Health (iPhone)"


# --------------------------------------------------------------------------- the setup DM


def test_the_setup_dm_fits_discord_and_the_secret_stays_out_of_reprs_and_logs() -> None:
    link = UploadLink(
        address="https://stride.example/upload/apple-health/" + "u" * 24,
        secret="sah1_" + "s" * 43,
    )
    embed = link.embed()
    record = logging.LogRecord(
        "discord.http", logging.DEBUG, __file__, 1, "POST with %s", (repr(embed),), None
    )

    RedactUploadSecrets().filter(record)

    assert embed.text_length() <= TOTAL_LIMIT
    assert all(len(field.value) <= FIELD_VALUE_LIMIT for field in embed.fields)
    assert link.secret in "".join(field.value for field in embed.fields)
    assert link.secret not in repr(link)
    assert link.secret not in record.getMessage()
    assert "sah1_[redacted]" in record.getMessage()


def test_stored_values_are_daily_values() -> None:
    [value] = daily_totals(
        parse_upload({"metric": "steps", "date": "2026-11-30", "value": 5}).samples, NOW
    )

    assert value == DailyValue(metric=Metric.STEPS, day=NOV_30, value=5.0, includes_manual=False)
