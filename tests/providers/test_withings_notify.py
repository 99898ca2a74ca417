"""`WithingsNotifyClient` against the Withings stand-in, and the callback secret."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import AccessTokenRejected, ProviderResponseError
from bot.providers.ratelimit import ProviderRateLimiter
from bot.providers.registry import app_rate_limits, build_providers
from bot.providers.withings import APP_LIMIT_PER_MINUTE
from bot.providers.withings_notify import WithingsNotifyClient, callback_secret, secret_file
from bot.settings import Settings, WithingsSettings
from tests.standins.providers import WithingsStandin

from .conftest import FakeSleep

CALLBACK = "https://stride.example/webhooks/withings/abc"


@pytest.fixture
def client(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
) -> WithingsNotifyClient:
    withings.verify_callbacks = False  # nothing answers at stride.example
    settings = WithingsSettings(**withings.settings_values())
    limiter = ProviderRateLimiter(app_limit=APP_LIMIT_PER_MINUTE, sleep=fake_sleep)
    return WithingsNotifyClient(
        settings, session, clock, callback_url=CALLBACK, limiter=limiter, sleep=fake_sleep
    )


async def test_notify_calls_and_fetches_keep_together_to_the_process_s_share(
    withings: WithingsStandin,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    fake_sleep: FakeSleep,
    tmp_path: Path,
) -> None:
    """Shard 0 of 2: this process may send 60 of the application's 120 Withings requests a
    minute, its fetches and its notify subscriptions together."""
    withings.verify_callbacks = False
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "stride.db",
        token_encryption_keys=Fernet.generate_key().decode(),
        withings=withings.settings_values(),
        shard_count=2,
        shard_ids=[0],
    )
    limits = app_rate_limits(settings, sleep=fake_sleep)
    provider = build_providers(settings, session, clock, sleep=fake_sleep, limits=limits)
    notify = WithingsNotifyClient(
        settings.withings, session, clock, callback_url=CALLBACK, limiter=limits.withings
    )
    token = withings.direct_tokens(withings.add_user()).access_token
    day = clock.now().date()
    await provider["withings"].fetch_daily(
        token, [Metric.STEPS], day, day, include_manual=True, user_tz=ZoneInfo("UTC")
    )
    fetches = len(withings.request_log)
    assert fetches >= 1 and fake_sleep.calls == []
    for _ in range(60 - fetches):
        await notify.subscribed_applis(token)
    assert fake_sleep.calls == []  # the minute's share, used up
    await notify.subscribed_applis(token)
    [wait] = fake_sleep.calls
    assert 0 < wait <= dt.timedelta(minutes=1).total_seconds()


async def test_subscribe_list_and_revoke_with_the_members_token(
    withings: WithingsStandin, client: WithingsNotifyClient
) -> None:
    user = withings.add_user()
    token = withings.direct_tokens(user).access_token

    await client.subscribe(token, 16)
    await client.subscribe(token, 44)
    assert await client.subscribed_applis(token) == {16, 44}
    await client.revoke(token, 16)

    assert withings.subscriptions_of(user) == {44}
    assert await client.subscribed_applis(token) == {44}
    form = withings.request_log[0].body
    assert form["callbackurl"] == CALLBACK and form["action"] == "subscribe"


async def test_errors_inside_the_200_body_become_provider_errors(
    withings: WithingsStandin, client: WithingsNotifyClient
) -> None:
    token = withings.direct_tokens(withings.add_user()).access_token

    with pytest.raises(ProviderResponseError, match="status 294"):
        await client.revoke(token, 16)  # nothing to revoke
    with pytest.raises(AccessTokenRejected):
        await client.subscribe("not-a-token", 16)


async def test_stride_subscribes_to_activity_and_sleep_only(client: WithingsNotifyClient) -> None:
    with pytest.raises(ValueError, match="appli 1"):
        await client.subscribe("token", 1)


def test_the_callback_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "stride.db"
    settings = WithingsSettings()

    first = callback_secret(settings, database)
    second = callback_secret(settings, database)

    assert first.get_secret_value() == second.get_secret_value()
    assert len(first.get_secret_value()) >= 32
    assert stat.S_IMODE(secret_file(database).stat().st_mode) == 0o600


def test_a_configured_callback_secret_wins(tmp_path: Path) -> None:
    settings = WithingsSettings(notify_secret="s" * 32)

    assert callback_secret(settings, tmp_path / "stride.db").get_secret_value() == "s" * 32
    assert not secret_file(tmp_path / "stride.db").exists()
