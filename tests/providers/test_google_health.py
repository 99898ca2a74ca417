"""The Google Health provider against its stand-in: OAuth, identity, rollups, sleep, errors."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    ProviderGone,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
    TokenSet,
)
from bot.providers.google_health import SCOPES, GoogleHealthProvider
from bot.providers.http import RetryPolicy
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.settings import GoogleHealthSettings
from tests.standins.providers import GoogleHealthStandin, google_health_checker

from .conftest import REDIRECT_URI, CannedServer, FakeSleep
from .helpers import assert_no_secrets, query_of

UTC = ZoneInfo("UTC")
DAY0 = dt.date(2026, 7, 1)


def make_provider(
    standin: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    sleep: FakeSleep,
    retry: RetryPolicy | None = None,
) -> GoogleHealthProvider:
    settings = GoogleHealthSettings(**standin.settings_values())
    return GoogleHealthProvider(settings, session, clock, sleep=sleep, retry=retry)


async def link(
    provider: GoogleHealthProvider, standin: GoogleHealthStandin, user: str = "alice"
) -> TokenSet:
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="state-xyz", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    callback = query_of(await standin.consent(url, user=user))
    return await provider.exchange_code(
        code=callback["code"], redirect_uri=REDIRECT_URI, code_verifier=verifier
    )


def fill(standin: GoogleHealthStandin, user: str, days: int) -> None:
    """Deterministic data: device values, and a manual extra on every 10th day."""
    for offset in range(days):
        day = DAY0 + dt.timedelta(days=offset)
        standin.set_daily(user, day, Metric.STEPS, 5000 + offset)
        standin.set_daily(user, day, Metric.DISTANCE, 3.5 + offset / 100)
        standin.set_daily(user, day, Metric.FLOORS, offset % 12)
        standin.set_daily(user, day, Metric.ACTIVE_CALORIES, 300.5 + offset)
        standin.set_daily(user, day, Metric.ACTIVE_MINUTES, 20 + offset % 30)
        standin.set_daily(user, day, Metric.SLEEP_MINUTES, 400 + offset % 60)
        if offset % 10 == 0:
            standin.set_daily(user, day, Metric.STEPS, 1000, manual=True)
            standin.set_daily(user, day, Metric.SLEEP_MINUTES, 30, manual=True)


async def test_full_flow_with_chunking_units_manual_flag_and_no_secrets_in_logs(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(google_health, session, clock, fake_sleep)
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="state-xyz", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    params = query_of(url)
    assert params["access_type"] == "offline"
    assert params["prompt"] == "consent"
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == code_challenge_s256(verifier)
    assert params["response_type"] == "code"
    assert params["client_id"] == google_health.client_id
    assert set(params["scope"].split()) == set(SCOPES)

    callback = query_of(await google_health.consent(url, user="alice"))
    assert callback["state"] == "state-xyz"
    tokens = await provider.exchange_code(
        code=callback["code"], redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert tokens.refresh_token
    assert tokens.expires_at == clock.now() + dt.timedelta(seconds=3599)
    assert set(tokens.scopes) == set(SCOPES)
    assert await provider.fetch_user_id(tokens) == "alice"

    refreshed = await provider.refresh(tokens.refresh_token)
    assert refreshed.refresh_token == tokens.refresh_token  # Google's does not rotate
    assert refreshed.access_token != tokens.access_token

    fill(google_health, "alice", 120)
    google_health.reset_counts()
    end = DAY0 + dt.timedelta(days=119)
    values = await provider.fetch_daily(
        refreshed.access_token, list(Metric), DAY0, end, include_manual=False, user_tz=UTC
    )
    by_metric: dict[Metric, dict[dt.date, float]] = {}
    for value in values:
        assert value.includes_manual is False
        by_metric.setdefault(value.metric, {})[value.day] = value.value
    assert set(by_metric) == set(Metric)
    assert all(len(days) == 120 for days in by_metric.values())
    day10 = DAY0 + dt.timedelta(days=10)
    assert by_metric[Metric.STEPS][day10] == 5010  # the manual 1000 left out
    assert by_metric[Metric.DISTANCE][day10] == pytest.approx(3.6)  # mm -> km
    assert by_metric[Metric.FLOORS][day10] == 10
    assert by_metric[Metric.ACTIVE_CALORIES][day10] == pytest.approx(310.5)
    assert by_metric[Metric.ACTIVE_MINUTES][day10] == 30  # LIGHT minutes not counted
    assert by_metric[Metric.SLEEP_MINUTES][day10] == 410  # the manual nap left out

    # 120 days: two requests (90 + 30) per 90-day type, nine (14 days each) for active minutes,
    # and five pages of 25 nights of sleep.
    assert google_health.requests["dailyRollUp"] == 4 * 2 + 9
    assert google_health.requests["reconcile"] == 5
    assert google_health.requests_by_user["alice"] == 22
    assert google_health.schema_errors == []
    families = {
        record.body["dataSourceFamily"]
        for record in google_health.request_log
        if record.endpoint == "dailyRollUp"
    }
    assert families == {"users/me/dataSourceFamilies/google-wearables"}

    with_manual = await provider.fetch_daily(
        refreshed.access_token,
        [Metric.STEPS, Metric.SLEEP_MINUTES],
        day10,
        day10,
        include_manual=True,
        user_tz=UTC,
    )
    assert {(v.metric, v.value, v.includes_manual) for v in with_manual} == {
        (Metric.STEPS, 6010, True),
        (Metric.SLEEP_MINUTES, 440, True),
    }

    await provider.revoke(refreshed)
    with pytest.raises(GrantRevoked):
        await provider.refresh(tokens.refresh_token)
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            refreshed.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
        )
    await provider.revoke(refreshed)  # revoking twice is fine

    assert_no_secrets(
        caplog,
        verifier,
        callback["code"],
        "state-xyz",
        tokens.access_token,
        tokens.refresh_token,
        refreshed.access_token,
        google_health.client_secret,
    )


async def test_dailyrollup_bodies_match_the_discovery_document_and_answers_too(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    fill(google_health, "alice", 20)
    await provider.fetch_daily(
        tokens.access_token,
        list(Metric),
        DAY0,
        DAY0 + dt.timedelta(days=19),
        include_manual=True,
        user_tz=UTC,
    )
    checker = google_health_checker()
    rollups = [r for r in google_health.request_log if r.endpoint == "dailyRollUp"]
    assert rollups
    for record in rollups:
        method = "health.users.dataTypes.dataPoints.dailyRollUp"
        assert checker.request_errors(method, record.body) == []
    assert google_health.schema_errors == []

    # The stand-in's own answers conform to the response schemas.
    active = [r for r in rollups if "/active-minutes/" in r.path]
    assert [r.body["pageSize"] for r in active] == [14, 6]
    async with session.post(
        f"{google_health.base_url}{active[0].path}",
        json=active[0].body,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    ) as response:
        answer = await response.json()
    assert answer["rollupDataPoints"]
    assert checker.response_errors("health.users.dataTypes.dataPoints.dailyRollUp", answer) == []
    async with session.get(
        f"{google_health.base_url}/v4/users/me/dataTypes/sleep/dataPoints:reconcile",
        params={
            "filter": 'sleep.interval.civil_end_time >= "2026-07-01" AND '
            'sleep.interval.civil_end_time < "2026-07-05"'
        },
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    ) as response:
        answer = await response.json()
    assert len(answer["dataPoints"]) == 4 + 1  # four nights and one manual nap
    assert checker.response_errors("health.users.dataTypes.dataPoints.reconcile", answer) == []


async def test_drifting_body_is_refused_by_the_standin(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    body = {
        "range": {"start": {"date": {"year": 2026, "month": 7, "day": 1}}},
        "windowSize": 1,
        "pageSize": "7",
    }
    async with session.post(
        f"{google_health.base_url}/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
        json=body,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    ) as response:
        assert response.status == 400
    assert len(google_health.schema_errors) == 3


async def test_paging_follows_next_page_token(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    google_health.max_page_size = 4
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    fill(google_health, "alice", 30)
    google_health.reset_counts()
    values = await provider.fetch_daily(
        tokens.access_token,
        [Metric.STEPS, Metric.SLEEP_MINUTES],
        DAY0,
        DAY0 + dt.timedelta(days=29),
        include_manual=False,
        user_tz=UTC,
    )
    assert len(values) == 60
    assert google_health.requests["dailyRollUp"] == 8  # 30 days in pages of 4
    assert google_health.requests["reconcile"] == 8


async def test_pkce_verifier_is_checked(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    url = provider.authorization_url(
        state="s", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256("right" * 10)
    )
    callback = query_of(await google_health.consent(url))
    with pytest.raises(GrantRevoked):
        await provider.exchange_code(
            code=callback["code"], redirect_uri=REDIRECT_URI, code_verifier="wrong" * 10
        )


async def test_denied_consent_redirects_with_access_denied(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    url = provider.authorization_url(state="s1", redirect_uri=REDIRECT_URI, code_challenge="c" * 43)
    callback = query_of(await google_health.consent(url, deny=True))
    assert callback == {"error": "access_denied", "state": "s1"}


async def test_429_waits_for_retry_after_then_succeeds(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    google_health.rate_limit_next(1, retry_after="7", endpoint="identity")
    assert await provider.fetch_user_id(tokens) == "alice"
    assert fake_sleep.calls == [7.0]
    assert google_health.requests["identity"] == 2


async def test_429_retry_after_as_http_date(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    when = email.utils.format_datetime(clock.now() + dt.timedelta(seconds=30), usegmt=True)
    google_health.rate_limit_next(1, retry_after=when, endpoint="identity")
    assert await provider.fetch_user_id(tokens) == "alice"
    assert fake_sleep.calls == [30.0]


async def test_429_that_outlasts_the_retries_is_rate_limited(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    google_health.rate_limit_next(10, retry_after="600", endpoint="identity")
    with pytest.raises(RateLimited) as caught:
        await provider.fetch_user_id(tokens)
    assert isinstance(caught.value, ProviderUnavailable)
    assert caught.value.retry_after == 600
    assert fake_sleep.calls == [120.0, 120.0, 120.0]  # capped, and bounded in number
    assert google_health.requests["identity"] == 4


async def test_5xx_is_retried_with_backoff_then_unavailable(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    google_health.fail_next(10, status=503, endpoint="dailyRollUp")
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
        )
    assert google_health.requests["dailyRollUp"] == 4
    # Exponential backoff with jitter: attempt n waits between 2^(n-1)/2 and 2^(n-1) seconds.
    assert len(fake_sleep.calls) == 3
    for attempt, delay in enumerate(fake_sleep.calls, start=1):
        assert 2 ** (attempt - 1) / 2 <= delay <= 2 ** (attempt - 1)
    assert tokens.access_token not in str(caught.value)

    fake_sleep.calls.clear()
    google_health.clear_faults()
    google_health.fail_next(2, status=502, endpoint="dailyRollUp")
    google_health.set_daily("alice", DAY0, Metric.STEPS, 1234)
    values = await provider.fetch_daily(
        tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
    )
    assert [v.value for v in values] == [1234]
    assert len(fake_sleep.calls) == 2


async def test_timeout_is_retried_then_unavailable(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    retry = RetryPolicy(max_attempts=2, timeout=0.2)
    provider = make_provider(google_health, session, clock, fake_sleep, retry)
    tokens = await link(provider, google_health)
    google_health.hang_next(1, endpoint="identity")
    assert await provider.fetch_user_id(tokens) == "alice"
    assert len(fake_sleep.calls) == 1

    google_health.hang_next(2, endpoint="identity")
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await provider.fetch_user_id(tokens)


async def test_401_410_and_malformed_answers(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            "not-a-token", [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
        )
    clock.advance(dt.timedelta(hours=2))  # the access token expired
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_user_id(tokens)
    assert tokens.refresh_token is not None
    tokens = await provider.refresh(tokens.refresh_token)

    google_health.malformed_next(1)
    with pytest.raises(ProviderResponseError, match="not JSON"):
        await provider.fetch_user_id(tokens)
    google_health.wrong_shape_next(1)
    with pytest.raises(ProviderResponseError):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
        )

    google_health.set_gone()
    with pytest.raises(ProviderGone):
        await provider.fetch_user_id(tokens)


async def test_revoked_user_gets_invalid_grant_and_401(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    tokens = await link(provider, google_health)
    google_health.revoke_user("alice")
    assert tokens.refresh_token is not None
    with pytest.raises(GrantRevoked) as caught:
        await provider.refresh(tokens.refresh_token)
    assert tokens.refresh_token not in str(caught.value)
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_user_id(tokens)


async def test_code_is_single_use(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(google_health, session, clock, fake_sleep)
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="s", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    code = query_of(await google_health.consent(url))["code"]
    await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    with pytest.raises(GrantRevoked):
        await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert fake_sleep.calls == []  # an exchange is never repeated


# --------------------------------------------------------------------------- garbage answers


@pytest.fixture
def canned(
    canned_server: CannedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> tuple[GoogleHealthProvider, CannedServer]:
    base = canned_server.base
    settings = GoogleHealthSettings(
        client_id="id", client_secret="secret", api_base_url=base, token_url=base + "/token"
    )
    return GoogleHealthProvider(settings, session, clock, sleep=fake_sleep), canned_server


async def test_a_civil_date_that_does_not_exist_is_a_provider_response_error(
    canned: tuple[GoogleHealthProvider, CannedServer],
) -> None:
    """It used to escape as ValueError ("day is out of range for month") once validated."""
    provider, server = canned
    server.body = {
        "rollupDataPoints": [
            {
                "civilStartTime": {"date": {"year": 2026, "month": 2, "day": 30}},
                "steps": {"countSum": "5000"},
            }
        ]
    }
    with pytest.raises(ProviderResponseError, match="dailyRollUp steps"):
        await provider.fetch_daily(
            "token", [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=UTC
        )


def _night(interval: dict[str, Any], stages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    sleep: dict[str, Any] = {"interval": interval}
    if stages is None:
        sleep["summary"] = {"minutesAsleep": "420"}
    else:
        sleep["stages"] = stages
    return {"dataPoints": [{"sleep": sleep}]}


@pytest.mark.parametrize(
    "body",
    [
        # No offset: `astimezone` would read it in the host's own zone and pick its day.
        _night({"endTime": "2026-07-01T07:00:00", "endUtcOffset": "7200s"}),
        # One naive end among aware times: a TypeError when the stages were summed.
        _night(
            {"civilEndTime": {"date": {"year": 2026, "month": 7, "day": 1}}},
            [
                {
                    "type": "LIGHT",
                    "startTime": "2026-07-01T01:00:00Z",
                    "endTime": "2026-07-01T02:00:00",
                }
            ],
        ),
    ],
    ids=["naive end", "naive stage"],
)
async def test_a_timestamp_without_an_offset_is_a_provider_response_error(
    canned: tuple[GoogleHealthProvider, CannedServer], body: dict[str, Any]
) -> None:
    """google-datetime is RFC 3339, which always carries an offset."""
    provider, server = canned
    server.body = body
    with pytest.raises(ProviderResponseError, match="reconcile sleep"):
        await provider.fetch_daily(
            "token", [Metric.SLEEP_MINUTES], DAY0, DAY0, include_manual=False, user_tz=UTC
        )


async def test_a_night_with_an_absurd_utc_offset_is_skipped(
    canned: tuple[GoogleHealthProvider, CannedServer],
) -> None:
    """It used to raise OverflowError building the timedelta; offsets lie within a day."""
    provider, server = canned
    for offset in ("1e30s", "90000s"):
        server.body = _night({"endTime": "2026-07-01T07:00:00Z", "endUtcOffset": offset})
        assert (
            await provider.fetch_daily(
                "token", [Metric.SLEEP_MINUTES], DAY0, DAY0, include_manual=False, user_tz=UTC
            )
            == []
        )
