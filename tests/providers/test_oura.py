"""The Oura provider against its stand-in: single-use refresh tokens, date quirks, revoke."""

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
    ProviderGone,
    ProviderUnavailable,
    TokenSet,
)
from bot.providers.oura import OuraProvider
from bot.settings import OuraSettings
from tests.standins.providers import OuraStandin

from .conftest import REDIRECT_URI, FakeSleep
from .helpers import assert_no_secrets, query_of

TZ = ZoneInfo("America/New_York")
DAY0 = dt.date(2026, 5, 1)


def make_provider(
    standin: OuraStandin, session: aiohttp.ClientSession, clock: FakeClock, sleep: FakeSleep
) -> OuraProvider:
    settings = OuraSettings(**standin.settings_values())
    return OuraProvider(settings, session, clock, sleep=sleep)


async def link(provider: OuraProvider, standin: OuraStandin, user: str) -> TokenSet:
    url = provider.authorization_url(state="st", redirect_uri=REDIRECT_URI, code_challenge=None)
    code = query_of(await standin.consent(url, user=user))["code"]
    return await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=None)


async def test_full_flow(
    oura: OuraStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = make_provider(oura, session, clock, fake_sleep)
    url = provider.authorization_url(state="st-o", redirect_uri=REDIRECT_URI, code_challenge=None)
    params = query_of(url)
    assert params["scope"] == "daily personal"
    assert params["response_type"] == "code"
    callback = query_of(await oura.consent(url, user="ring-1"))
    assert callback["state"] == "st-o"
    tokens = await provider.exchange_code(
        code=callback["code"], redirect_uri=REDIRECT_URI, code_verifier=None
    )
    assert await provider.fetch_user_id(tokens) == "ring-1"

    assert tokens.refresh_token is not None
    refreshed = await provider.refresh(tokens.refresh_token)
    assert refreshed.refresh_token not in (None, tokens.refresh_token)
    with pytest.raises(GrantRevoked):  # single-use
        await provider.refresh(tokens.refresh_token)

    for offset in range(40):
        day = DAY0 + dt.timedelta(days=offset)
        oura.set_daily("ring-1", day, Metric.STEPS, 9000 + offset)
        oura.set_daily("ring-1", day, Metric.DISTANCE, 7.2)
        oura.set_daily("ring-1", day, Metric.ACTIVE_MINUTES, 50)
        oura.set_daily("ring-1", day, Metric.ACTIVE_CALORIES, 520)
        oura.set_daily("ring-1", day, Metric.SLEEP_MINUTES, 450)
    oura.page_size = 10
    oura.reset_counts()
    first, last = DAY0 + dt.timedelta(days=5), DAY0 + dt.timedelta(days=34)
    values = await provider.fetch_daily(
        refreshed.access_token, list(Metric), first, last, include_manual=True, user_tz=TZ
    )
    got = {(v.metric, v.day): v.value for v in values}
    assert Metric.FLOORS not in {v.metric for v in values}  # Oura has no floors
    for metric in (Metric.STEPS, Metric.SLEEP_MINUTES):
        # Both edges are there despite Oura's inclusive/exclusive quirks, nothing beyond.
        assert sorted(day for m, day in got if m is metric) == [
            first + dt.timedelta(days=n) for n in range(30)
        ]
    assert got[Metric.STEPS, first] == 9005
    assert got[Metric.DISTANCE, first] == pytest.approx(7.2)
    assert got[Metric.ACTIVE_MINUTES, first] == pytest.approx(50)
    assert got[Metric.ACTIVE_CALORIES, first] == 520
    assert got[Metric.SLEEP_MINUTES, first] == 450  # rest periods are not sleep
    assert all(v.includes_manual is False for v in values)
    # A day of margin on each side, the end day excluded by Oura: 31 documents, pages of 10.
    assert oura.requests["daily_activity"] == 4
    assert oura.requests["sleep"] == 7  # 31 days, two documents each

    await provider.revoke(refreshed)
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_user_id(refreshed)
    assert refreshed.refresh_token is not None
    with pytest.raises(GrantRevoked):
        await provider.refresh(refreshed.refresh_token)
    assert_no_secrets(
        caplog,
        callback["code"],
        tokens.access_token,
        tokens.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
        oura.client_secret,
    )


async def test_revoke_with_an_expired_access_token_refreshes_first(
    oura: OuraStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(oura, session, clock, fake_sleep)
    tokens = await link(provider, oura, "ring-2")
    clock.advance(dt.timedelta(days=2))
    await provider.revoke(tokens)
    assert oura.requests["revoke"] == 2
    assert tokens.refresh_token is not None
    with pytest.raises(GrantRevoked):
        await provider.refresh(tokens.refresh_token)


async def test_refresh_is_not_repeated_after_a_5xx(
    oura: OuraStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(oura, session, clock, fake_sleep)
    tokens = await link(provider, oura, "ring-3")
    oura.fail_next(1, status=503, endpoint="token")
    assert tokens.refresh_token is not None
    with pytest.raises(ProviderUnavailable):
        await provider.refresh(tokens.refresh_token)
    assert oura.requests["token"] == 2  # the exchange and the one refresh
    assert fake_sleep.calls == []

    # A 429 was refused before processing, so it is safe to repeat.
    oura.rate_limit_next(1, retry_after="3", endpoint="token")
    await provider.refresh(tokens.refresh_token)
    assert fake_sleep.calls == [3.0]


async def test_data_errors(
    oura: OuraStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = make_provider(oura, session, clock, fake_sleep)
    tokens = await link(provider, oura, "ring-4")
    oura.fail_next(2, status=500, endpoint="daily_activity")
    assert (
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=TZ
        )
        == []
    )
    assert len(fake_sleep.calls) == 2
    oura.revoke_user("ring-4")
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            tokens.access_token, [Metric.STEPS], DAY0, DAY0, include_manual=False, user_tz=TZ
        )
    oura.set_gone()
    with pytest.raises(ProviderGone):
        await provider.fetch_user_id(tokens)
