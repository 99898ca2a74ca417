"""The stand-ins' own rules that the provider tests rely on."""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import AccessForbidden, GrantRevoked, ProviderResponseError
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


async def _token_status(
    oura: OuraStandin,
    session: aiohttp.ClientSession,
    *,
    form: dict[str, str],
    basic: tuple[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    headers = {}
    if basic is not None:
        pair = f"{quote_plus(basic[0])}:{quote_plus(basic[1])}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    async with session.post(oura.base_url + "/oauth/token", data=form, headers=headers) as answer:
        return answer.status, await answer.json()


async def test_the_oauth_server_takes_one_client_authentication_method_per_request(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """RFC 6749 §2.3.1: Basic credentials are form-urlencoded first; using Basic and the form
    at once is refused; a method the server was not set up for is refused."""
    secret = "p@ss:w/rd+é"
    async with OuraStandin(clock=clock, client_secret=secret) as oura:
        refresh = oura.direct_tokens("u-1").refresh_token
        assert refresh is not None
        grant = {"grant_type": "refresh_token", "refresh_token": refresh}
        in_form = {**grant, "client_id": oura.client_id, "client_secret": secret}
        basic = (oura.client_id, secret)

        assert (await _token_status(oura, session, form=in_form, basic=basic))[0] == 401
        status, answer = await _token_status(oura, session, form=grant, basic=basic)
        assert status == 200 and answer["token_type"] == "bearer"
        oura.client_auth = frozenset({"client_secret_basic"})
        fresh = str(answer["refresh_token"])
        form = {**in_form, "refresh_token": fresh}
        assert (await _token_status(oura, session, form=form))[0] == 401
        assert oura.client_auth_seen == {"client_secret_basic": 1}  # refused ones not counted


async def test_a_reused_oura_refresh_token_is_invalid_grant_and_counted(
    oura: OuraStandin, session: aiohttp.ClientSession, clock: FakeClock, fake_sleep: FakeSleep
) -> None:
    provider = OuraProvider(
        OuraSettings(**oura.settings_values()), session, clock, sleep=fake_sleep
    )
    refresh = oura.direct_tokens("u-1").refresh_token
    assert refresh is not None
    await provider.refresh(refresh)

    with pytest.raises(GrantRevoked):
        await provider.refresh(refresh)
    assert oura.reused_refresh_tokens == 1


async def test_google_health_answers_403_for_a_data_type_whose_scope_was_not_granted(
    google_health: GoogleHealthStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> None:
    provider = GoogleHealthProvider(
        GoogleHealthSettings(**google_health.settings_values()), session, clock, sleep=fake_sleep
    )
    activity = "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly"
    tokens = google_health.direct_tokens("u-1", scopes=[activity])
    day = dt.date(2026, 11, 1)
    google_health.set_daily("u-1", day, Metric.STEPS, 100)

    with pytest.raises(AccessForbidden):
        await provider.fetch_daily(
            tokens.access_token,
            [Metric.SLEEP_MINUTES],
            day,
            day,
            include_manual=False,
            user_tz=ZoneInfo("UTC"),
        )
    values = await provider.fetch_daily(
        tokens.access_token,
        [Metric.STEPS, Metric.SLEEP_MINUTES],
        day,
        day,
        include_manual=False,
        user_tz=ZoneInfo("UTC"),
    )
    assert [(v.metric, v.value) for v in values] == [(Metric.STEPS, 100)]
