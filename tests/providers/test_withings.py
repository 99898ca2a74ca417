"""The Withings provider against its stand-in: statuses in 200 bodies, rotation, one call."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
    TokenSet,
)
from bot.providers.withings import WithingsProvider
from bot.settings import WithingsSettings
from tests.standins.providers import WithingsStandin

from .conftest import REDIRECT_URI, CannedServer, FakeSleep
from .helpers import assert_no_secrets, query_of

PARIS = ZoneInfo("Europe/Paris")
DAY0 = dt.date(2026, 8, 1)


def make_provider(
    standin: WithingsStandin, session: aiohttp.ClientSession, clock: FakeClock, sleep: FakeSleep
) -> WithingsProvider:
    settings = WithingsSettings(**standin.settings_values())
    return WithingsProvider(settings, session, clock, sleep=sleep)


async def link(provider: WithingsProvider, standin: WithingsStandin, user: str) -> TokenSet:
    url = provider.authorization_url(state="st", redirect_uri=REDIRECT_URI, code_challenge=None)
    code = query_of(await standin.consent(url, user=user))["code"]
    return await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)


async def test_full_flow(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(withings, session, clock, fake_sleep)
    assert provider.info.supports_revoke is False
    assert provider.info.supports_pkce is False
    url = provider.authorization_url(state="st-w", redirect_uri=REDIRECT_URI, code_challenge="x")
    params = query_of(url)
    assert params == {
        "response_type": "code",
        "client_id": withings.client_id,
        "scope": "user.activity",
        "redirect_uri": REDIRECT_URI,
        "state": "st-w",
    }
    withings.add_user("4242", tz=PARIS)
    callback = query_of(await withings.consent(url, user="4242"))
    assert callback["state"] == "st-w"
    tokens = await provider.exchange_code(
        code=callback["code"], redirect_uri=REDIRECT_URI, code_verifier=None
    )
    assert tokens.provider_user_id == "4242"
    assert tokens.expires_at == clock.now() + dt.timedelta(hours=3)
    assert await provider.fetch_user_id(tokens) == "4242"

    for offset in range(45):
        day = DAY0 + dt.timedelta(days=offset)
        withings.set_daily("4242", day, Metric.STEPS, 7000 + offset)
        withings.set_daily("4242", day, Metric.DISTANCE, 5.25)
        withings.set_daily("4242", day, Metric.FLOORS, 6)
        withings.set_daily("4242", day, Metric.ACTIVE_MINUTES, 40)
        withings.set_daily("4242", day, Metric.ACTIVE_CALORIES, 410)
        withings.set_daily("4242", day, Metric.SLEEP_MINUTES, 420 + offset)
    withings.page_size = 20
    withings.reset_counts()
    assert tokens.refresh_token is not None
    refreshed = await provider.refresh(tokens.refresh_token)
    assert refreshed.refresh_token != tokens.refresh_token  # rotates
    end = DAY0 + dt.timedelta(days=44)
    values = await provider.fetch_daily(
        refreshed.access_token, list(Metric), DAY0, end, include_manual=False, user_tz=PARIS
    )
    got = {(v.metric, v.day): v.value for v in values}
    assert len(got) == 6 * 45
    day3 = DAY0 + dt.timedelta(days=3)
    assert got[Metric.STEPS, day3] == 7003
    assert got[Metric.DISTANCE, day3] == pytest.approx(5.25)  # m -> km
    assert got[Metric.FLOORS, day3] == 6
    assert got[Metric.ACTIVE_MINUTES, day3] == pytest.approx(40)  # moderate + intense
    assert got[Metric.ACTIVE_CALORIES, day3] == 410
    assert got[Metric.SLEEP_MINUTES, day3] == 423
    assert got[Metric.SLEEP_MINUTES, DAY0] == 420  # the nights at both edges are kept
    assert got[Metric.SLEEP_MINUTES, end] == 464
    assert all(v.includes_manual is False for v in values)
    # Every activity metric comes from one getactivity range, paged by 20: 45 days, 3 pages.
    assert withings.requests["getactivity"] == 3
    assert withings.requests["getsummary"] == 3  # 47 nights asked for (a day each side)
    assert withings.requests_by_user["4242"] == 7  # with the refresh

    await provider.revoke(refreshed)  # a documented no-op
    assert_no_secrets(
        caplog,
        callback["code"],
        tokens.access_token,
        tokens.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
        withings.client_secret,
    )


async def test_old_refresh_token_works_until_the_new_access_token_is_used(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(withings, session, clock, fake_sleep)
    tokens = await link(provider, withings, "7")
    assert tokens.refresh_token is not None
    first = await provider.refresh(tokens.refresh_token)
    # The answer was "lost": the old refresh token still works.
    second = await provider.refresh(tokens.refresh_token)
    await provider.fetch_daily(
        second.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
    )
    with pytest.raises(GrantRevoked):
        await provider.refresh(tokens.refresh_token)
    assert second.refresh_token is not None and first.refresh_token is not None
    await provider.refresh(second.refresh_token)

    # And without use it lapses after 8 hours.
    third = await provider.refresh(first.refresh_token)
    assert third.refresh_token is not None
    clock.advance(dt.timedelta(hours=8, seconds=1))
    with pytest.raises(GrantRevoked):
        await provider.refresh(first.refresh_token)


async def test_code_expires_after_30_seconds(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(withings, session, clock, fake_sleep)
    url = provider.authorization_url(state="s", redirect_uri=REDIRECT_URI, code_challenge=None)
    code = query_of(await withings.consent(url))["code"]
    clock.advance(dt.timedelta(seconds=31))
    with pytest.raises(GrantRevoked):
        await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)


async def test_statuses_inside_http_200(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(withings, session, clock, fake_sleep)
    tokens = await link(provider, withings, "8")
    withings.set_daily("8", DAY0, Metric.STEPS, 5)

    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            "bogus", [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
        )

    withings.body_status_next(2, status=601, endpoint="getactivity")
    values = await provider.fetch_daily(
        tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
    )
    assert [v.value for v in values] == [5]
    assert len(fake_sleep.calls) == 2

    withings.body_status_next(9, status=601, endpoint="getactivity")
    with pytest.raises(RateLimited):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
        )
    withings.clear_faults()

    withings.body_status_next(9, status=2555, endpoint="getactivity")
    with pytest.raises(ProviderUnavailable):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
        )
    withings.clear_faults()

    withings.body_status_next(1, status=286, endpoint="getactivity")
    with pytest.raises(ProviderResponseError, match="status 286"):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
        )

    withings.malformed_next(1, endpoint="getactivity")
    with pytest.raises(ProviderResponseError):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=PARIS
        )


async def test_revoked_user(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(withings, session, clock, fake_sleep)
    tokens = await link(provider, withings, "9")
    withings.revoke_user("9")
    assert tokens.refresh_token is not None
    with pytest.raises(GrantRevoked):
        await provider.refresh(tokens.refresh_token)
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            tokens.access_token,
            [Metric.SLEEP_MINUTES],
            DAY0,
            DAY0,
            include_manual=False,
            user_tz=PARIS,
        )


async def test_wrong_client_secret_is_not_mistaken_for_a_revoked_grant(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(withings, session, clock, fake_sleep)
    tokens = await link(provider, withings, "10")
    withings.client_secret = "rotated"
    assert tokens.refresh_token is not None
    with pytest.raises(ProviderResponseError, match="status 503"):
        await provider.refresh(tokens.refresh_token)


async def test_a_night_ending_at_an_impossible_time_is_skipped(
    canned_server: CannedServer,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    """A garbage `enddate` used to raise OverflowError ("timestamp out of range")."""
    base = canned_server.base
    settings = WithingsSettings(
        client_id="id", client_secret="secret", api_base_url=base, token_url=base + "/token"
    )
    provider = WithingsProvider(settings, session, clock, sleep=fake_sleep)
    good_end = int(dt.datetime(2026, 8, 1, 7, 0, tzinfo=PARIS).timestamp())
    canned_server.body = {
        "status": 0,
        "body": {
            "series": [
                {"enddate": 10**20, "data": {"total_sleep_time": 600}},
                {"enddate": -(10**20), "data": {"total_sleep_time": 600}},
                {"enddate": good_end, "data": {"total_sleep_time": 7 * 3600}},
            ],
            "more": False,
        },
    }

    values = await provider.fetch_daily(
        "token", [Metric.SLEEP_MINUTES], DAY0, DAY0, include_manual=False, user_tz=PARIS
    )

    assert [(v.day, v.value) for v in values] == [(DAY0, 420)]
