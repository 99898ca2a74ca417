"""The stand-ins' own rules that the provider tests rely on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import ProviderResponseError
from bot.providers.google_health import GoogleHealthProvider
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.providers.oura import OuraProvider
from bot.settings import GoogleHealthSettings, OuraSettings
from tests.standins.providers import GoogleHealthStandin, OuraStandin

from .conftest import REDIRECT_URI, FakeSleep
from .helpers import query_of


async def test_google_gives_no_refresh_token_without_offline_access(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    settings = GoogleHealthSettings(**google_health.settings_values())
    provider = GoogleHealthProvider(settings, session, clock, sleep=fake_sleep)
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="s", redirect_uri=REDIRECT_URI, code_challenge=code_challenge_s256(verifier)
    )
    online = url.replace("access_type=offline", "access_type=online")
    code = query_of(await google_health.consent(online))["code"]
    async with session.post(
        google_health.base_url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": google_health.client_id,
            "client_secret": google_health.client_secret,
            "code_verifier": "wrong",
        },
    ) as response:
        assert response.status == 400  # PKCE is checked before anything is issued
    code = query_of(await google_health.consent(online))["code"]
    with pytest.raises(ProviderResponseError, match="no refresh token"):
        await provider.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)


async def test_direct_tokens_skip_the_consent_round_trip(
    oura: OuraStandin, session: aiohttp.ClientSession, clock: FakeClock, fake_sleep: FakeSleep
) -> None:
    settings = OuraSettings(**oura.settings_values())
    provider = OuraProvider(settings, session, clock, sleep=fake_sleep)
    day = dt.date(2026, 11, 1)
    oura.set_daily("bench-1", day, Metric.STEPS, 777)
    tokens = oura.direct_tokens("bench-1")
    assert tokens.expires_at == clock.now() + dt.timedelta(days=1)
    values = await provider.fetch_daily(
        tokens.access_token, [Metric.STEPS], day, day, include_manual=False, user_tz=ZoneInfo("UTC")
    )
    assert [v.value for v in values] == [777]
    assert tokens.refresh_token is not None
    assert (await provider.refresh(tokens.refresh_token)).access_token != tokens.access_token
    assert oura.requests_by_user["bench-1"] == 2
