"""The registry builds only the enabled providers, in display order; the stand-in stack points
a `Settings` at local stand-ins, so every provider links and fetches end to end."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.providers.registry import app_share, build_providers
from bot.settings import Settings
from tests.standins.providers import ConsentError, provider_standins

from .conftest import FakeSleep
from .helpers import query_of


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_only_enabled_providers_in_display_order(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert build_providers(settings(), session, clock) == {}
    credentials = {"client_id": "id", "client_secret": "secret"}
    some = build_providers(
        settings(oura=credentials, google_health=credentials, sandbox={"enabled": True}),
        session,
        clock,
    )
    assert list(some) == ["google_health", "oura", "sandbox"]
    everything = build_providers(
        settings(
            google_fit=credentials,
            oura=credentials,
            withings=credentials,
            google_health=credentials,
            sandbox={"enabled": True},
        ),
        session,
        clock,
    )
    assert list(everything) == ["google_health", "withings", "oura", "google_fit", "sandbox"]
    assert all(name == provider.info.name for name, provider in everything.items())
    # A secret that is set but empty does not enable a provider.
    assert (
        build_providers(settings(withings={"client_id": "id", "client_secret": ""}), session, clock)
        == {}
    )


async def test_every_provider_links_and_fetches_against_the_standin_stack(
    session: aiohttp.ClientSession, clock: FakeClock, fake_sleep: FakeSleep
) -> None:
    callback = "http://127.0.0.1:8080/oauth/callback"
    day = dt.date(2026, 11, 19)
    async with provider_standins(clock=clock) as standins:
        env = standins.env()
        assert env["GOOGLE_HEALTH__CLIENT_ID"] == "test-client"
        assert env["WITHINGS__TOKEN_URL"].startswith("http://127.0.0.1:")
        assert env["SANDBOX__ENABLED"] == "true"
        providers = build_providers(standins.settings(), session, clock, sleep=fake_sleep)
        assert list(providers) == ["google_health", "withings", "oura", "google_fit", "sandbox"]
        for name, standin in standins.by_name.items():
            provider = providers[name]
            verifier = new_code_verifier()
            url = provider.authorization_url(
                state=f"state-{name}",
                redirect_uri=callback,
                code_challenge=code_challenge_s256(verifier),
            )
            user = standin.add_user(tz="Europe/Berlin")
            standin.set_daily(user, day, Metric.STEPS, 4321)
            code = query_of(await standin.consent(url, user=user))["code"]
            tokens = await provider.exchange_code(
                code=code,
                redirect_uri=callback,
                code_verifier=verifier if provider.info.supports_pkce else None,
            )
            assert await provider.fetch_user_id(tokens) == user
            values = await provider.fetch_daily(
                tokens.access_token,
                [Metric.STEPS],
                day,
                day,
                include_manual=False,
                user_tz=ZoneInfo("Europe/Berlin"),
            )
            assert [(v.day, v.value) for v in values] == [(day, 4321)], name
            assert standin.requests_by_user[user] >= 3
        assert standins.total_requests() == sum(standins.requests_by_user().values())


async def test_consent_refuses_what_the_provider_would(clock: FakeClock) -> None:
    async with provider_standins(clock=clock) as standins:
        withings = standins.withings
        base = withings.base_url + withings.authorize_path
        good = {
            "response_type": "code",
            "client_id": "test-client",
            "scope": "user.activity",
            "redirect_uri": "https://stride.example/cb",
            "state": "s",
        }

        def url(**changes: str) -> str:
            from urllib.parse import urlencode

            return base + "?" + urlencode({**good, **changes})

        await withings.consent(url())
        with pytest.raises(ConsentError, match="client"):
            await withings.consent(url(client_id="someone-else"))
        with pytest.raises(ConsentError, match="scope"):
            await withings.consent(url(scope="user.metrics"))
        with pytest.raises(ConsentError, match="state"):
            await withings.consent(url(state=""))
        with pytest.raises(ConsentError, match="not this stand-in"):
            await standins.oura.consent(url())


def test_each_process_keeps_to_its_share_of_a_per_application_limit() -> None:
    """Several processes (FETCH_PROCESSES, or SHARD_IDS of SHARD_COUNT) split Withings' 120
    requests a minute and Google's project quota between them."""
    assert app_share(120, settings().quota_share) == 120
    assert app_share(120, settings(fetch_processes=2).quota_share) == 60
    assert app_share(120_000, settings(shard_count=4, shard_ids=[3]).quota_share) == 30_000
    assert app_share(1, 0.25) == 1  # never nothing
