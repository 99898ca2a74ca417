"""The Google Fit provider against its stand-in: id_token user id, DST-proof day buckets,
manual entries, chunking and the missing-data-source fallback."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import GrantRevoked, ProviderResponseError, TokenSet
from bot.providers.google_fit import SCOPES, GoogleFitProvider, day_runs
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.settings import GoogleFitSettings
from tests.standins.providers import GoogleFitStandin

from .conftest import REDIRECT_URI, FakeSleep
from .helpers import assert_no_secrets, query_of

BERLIN = ZoneInfo("Europe/Berlin")
METRICS = [Metric.STEPS, Metric.DISTANCE, Metric.ACTIVE_MINUTES]


def make_provider(
    standin: GoogleFitStandin, session: aiohttp.ClientSession, clock: FakeClock, sleep: FakeSleep
) -> GoogleFitProvider:
    settings = GoogleFitSettings(**standin.settings_values())
    return GoogleFitProvider(settings, session, clock, sleep=sleep)


async def link(provider: GoogleFitProvider, standin: GoogleFitStandin, user: str) -> TokenSet:
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="st", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    code = query_of(await standin.consent(url, user=user))["code"]
    return await provider.exchange_code(
        code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )


def fill(standin: GoogleFitStandin, user: str, first: dt.date, days: int) -> None:
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        standin.set_daily(user, day, Metric.STEPS, 6000 + 10 * offset)
        standin.set_daily(user, day, Metric.DISTANCE, 4.0 + offset / 10)
        standin.set_daily(user, day, Metric.ACTIVE_MINUTES, 30 + offset)


async def test_full_flow_and_user_id_from_the_id_token(
    google_fit: GoogleFitStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(google_fit, session, clock, fake_sleep)
    assert provider.info.retiring is True
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="st-f", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    params = query_of(url)
    assert set(params["scope"].split()) == set(SCOPES)
    assert "openid" in params["scope"].split()
    assert params["access_type"] == "offline"
    assert params["code_challenge_method"] == "S256"
    code = query_of(await google_fit.consent(url, user="112233"))["code"]
    tokens = await provider.exchange_code(
        code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert await provider.fetch_user_id(tokens) == "112233"
    assert google_fit.requests["aggregate"] == 0  # no extra request for the user id
    assert tokens.refresh_token is not None
    refreshed = await provider.refresh(tokens.refresh_token)
    assert await provider.fetch_user_id(refreshed) == "112233"

    first = dt.date(2026, 1, 5)
    fill(google_fit, "112233", first, 120)
    values = await provider.fetch_daily(
        refreshed.access_token,
        METRICS,
        first,
        first + dt.timedelta(days=119),
        include_manual=False,
        user_tz=ZoneInfo("UTC"),
    )
    got = {(v.metric, v.day): v.value for v in values}
    assert len(got) == 3 * 120
    day7 = first + dt.timedelta(days=7)
    assert got[Metric.STEPS, day7] == 6070
    assert got[Metric.DISTANCE, day7] == pytest.approx(4.7)  # m -> km
    assert got[Metric.ACTIVE_MINUTES, day7] == 37
    assert google_fit.requests["aggregate"] == 2  # 90 + 30 days, all metrics in each
    assert google_fit.schema_errors == []

    await provider.revoke(refreshed)
    with pytest.raises(GrantRevoked):
        await provider.refresh(tokens.refresh_token)
    assert_no_secrets(
        caplog, code, verifier, tokens.access_token, tokens.refresh_token, google_fit.client_secret
    )


@pytest.mark.parametrize(
    ("first", "last", "short_or_long_ms"),
    [
        (dt.date(2026, 3, 26), dt.date(2026, 4, 1), 23 * 3_600_000),  # spring forward
        (dt.date(2026, 10, 22), dt.date(2026, 10, 28), 25 * 3_600_000),  # fall back
    ],
)
async def test_buckets_across_a_dst_change_map_to_the_right_civil_dates(
    google_fit: GoogleFitStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    first: dt.date,
    last: dt.date,
    short_or_long_ms: int,
) -> None:
    provider = make_provider(google_fit, session, clock, fake_sleep)
    tokens = await link(provider, google_fit, "berliner")
    google_fit.add_user("berliner", tz=BERLIN)
    # Each day's steps are recorded at 00:30, 12:00 and 23:30 Berlin time: a bucket an hour
    # off midnight would move a tenth of a day into its neighbour.
    fill(google_fit, "berliner", first - dt.timedelta(days=2), 12)
    google_fit.reset_counts()
    values = await provider.fetch_daily(
        tokens.access_token, METRICS, first, last, include_manual=False, user_tz=BERLIN
    )
    got = {(v.metric, v.day): v.value for v in values}
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        index = offset + 2
        assert got[Metric.STEPS, day] == 6000 + 10 * index, day
        assert got[Metric.DISTANCE, day] == pytest.approx(4.0 + index / 10), day
        assert got[Metric.ACTIVE_MINUTES, day] == 30 + index, day
    durations = [
        int(record.body["bucketByTime"]["durationMillis"])
        for record in google_fit.request_log
        if record.endpoint == "aggregate"
    ]
    assert durations == [86_400_000, short_or_long_ms, 86_400_000]
    assert google_fit.schema_errors == []


def test_day_runs_start_at_local_midnight() -> None:
    runs = list(day_runs(dt.date(2026, 3, 28), dt.date(2026, 3, 30), BERLIN))
    assert [(run.first, run.days, run.day_ms) for run in runs] == [
        (dt.date(2026, 3, 28), 1, 86_400_000),
        (dt.date(2026, 3, 29), 1, 82_800_000),
        (dt.date(2026, 3, 30), 1, 86_400_000),
    ]
    starts = [dt.datetime.fromtimestamp(run.start_ms / 1000, BERLIN) for run in runs]
    assert all((s.hour, s.minute) == (0, 0) for s in starts)
    # A whole year in one zone without DST: 90-day requests.
    assert [
        run.days for run in day_runs(dt.date(2026, 1, 1), dt.date(2026, 12, 31), ZoneInfo("UTC"))
    ] == [90, 90, 90, 90, 5]


async def test_manual_entries_follow_include_manual(
    google_fit: GoogleFitStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_fit, session, clock, fake_sleep)
    tokens = await link(provider, google_fit, "walker")
    day = dt.date(2026, 6, 10)
    google_fit.set_daily("walker", day, Metric.STEPS, 8000)
    google_fit.set_daily("walker", day, Metric.STEPS, 2500, manual=True)
    utc = ZoneInfo("UTC")

    device_only = await provider.fetch_daily(
        tokens.access_token, [Metric.STEPS], day, day, include_manual=False, user_tz=utc
    )
    assert [(v.value, v.includes_manual) for v in device_only] == [(8000, False)]
    everything = await provider.fetch_daily(
        tokens.access_token, [Metric.STEPS], day, day, include_manual=True, user_tz=utc
    )
    assert [(v.value, v.includes_manual) for v in everything] == [(10500, True)]
    bodies = [r.body for r in google_fit.request_log if r.endpoint == "aggregate"]
    estimated_steps = "derived:com.google.step_count.delta:com.google.android.gms:estimated_steps"
    assert bodies[0]["aggregateBy"] == [{"dataSourceId": estimated_steps}]
    assert bodies[1]["aggregateBy"] == [{"dataTypeName": "com.google.step_count.delta"}]


async def test_a_missing_data_source_is_skipped_not_fatal(
    google_fit: GoogleFitStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_fit, session, clock, fake_sleep)
    tokens = await link(provider, google_fit, "no-gps")
    day = dt.date(2026, 6, 10)
    fill(google_fit, "no-gps", day, 1)
    google_fit.missing_sources["no-gps"] = {
        "derived:com.google.distance.delta:com.google.android.gms:merge_distance_delta"
    }
    values = await provider.fetch_daily(
        tokens.access_token, METRICS, day, day, include_manual=False, user_tz=ZoneInfo("UTC")
    )
    assert {v.metric for v in values} == {Metric.STEPS, Metric.ACTIVE_MINUTES}

    with pytest.raises(ProviderResponseError):
        await provider.fetch_daily(
            tokens.access_token,
            [Metric.DISTANCE],
            day,
            day,
            include_manual=False,
            user_tz=ZoneInfo("UTC"),
        )
