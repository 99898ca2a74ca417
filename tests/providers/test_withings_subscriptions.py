"""Withings notifications follow the link: subscribed on link, revoked on unlink and on
`/privacy delete`, retried after a failure. Checked at the Withings stand-in, with Stride's
real OAuth and webhook routes on a loopback server the stand-in calls back."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import unused_port
from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.events import EventBus
from bot.linking import LinkService, TokenManager
from bot.metrics import Metrics
from bot.privacy import PrivacyService
from bot.providers.push import withings_webhook_url
from bot.providers.ratelimit import ProviderRateLimiter
from bot.providers.withings import APP_LIMIT_PER_MINUTE, WithingsProvider
from bot.providers.withings_notify import WithingsNotifyClient
from bot.providers.withings_subscriptions import MAX_ATTEMPTS, WithingsSubscriptions
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.storage.push import PushStateRepo
from bot.web.app import WebServer, create_app
from bot.web.oauth import oauth_routes
from bot.web.webhooks import webhook_routes
from tests.doubles.messenger import connected
from tests.doubles.sync import RecordingSync
from tests.linking.wiring import dm_only_discord, path_and_query
from tests.standins.providers import WithingsStandin

from .conftest import FakeSleep

ALICE = 777_777_777_777_777_777
SECRET = "wN0t1fy-s3cret-0123456789abcdefghijkl"
DAY = dt.date(2026, 11, 20)


@dataclass
class World:
    standin: WithingsStandin
    linking: LinkService
    privacy: PrivacyService
    keeper: WithingsSubscriptions
    state: PushStateRepo
    accounts: AccountsRepo
    sync: RecordingSync
    browser: aiohttp.ClientSession
    base_url: str

    @property
    def callback_url(self) -> str:
        return withings_webhook_url(self.base_url, SECRET)

    async def link(self, discord_id: int, user: str) -> int:
        """The member links `user` all the way; the status of the callback page."""
        offer = await self.linking.start_link(discord_id, "withings")
        async with self.browser.get(path_and_query(offer.url), allow_redirects=False) as start:
            assert start.status == 302
            consent = start.headers["Location"]
        callback = await self.standin.consent(consent, user=user)
        async with self.browser.get(path_and_query(callback)) as page:
            return page.status

    async def account(self, discord_id: int) -> LinkedAccount:
        found = await self.accounts.get(discord_id, "withings")
        assert found is not None
        return found

    def subscribed(self, user: str) -> set[tuple[str, int]]:
        return self.standin.notify_subscriptions.get(user, set())


def _settings(tmp_path: Path, standin: WithingsStandin, base_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        public_base_url=base_url,
        database_path=tmp_path / "stride.db",
        withings={**standin.settings_values(), "notify_enabled": True, "notify_secret": SECRET},
    )


@pytest.fixture
async def world(
    request: pytest.FixtureRequest,
    db: Database,
    tmp_path: Path,
    withings: WithingsStandin,
    clock: FakeClock,
    session: aiohttp.ClientSession,
    fake_sleep: FakeSleep,
) -> AsyncIterator[World]:
    """Everything wired as production wires it. `indirect` parameters: `listening=False`
    links without the keeper listening (push enabled later); `callback_secret` subscribes a
    URL other than the one Stride answers."""
    options = getattr(request, "param", {})
    port = unused_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = _settings(tmp_path, withings, base_url)
    cipher = TokenCipher([Fernet.generate_key()])
    providers = {"withings": WithingsProvider(settings.withings, session, clock, sleep=fake_sleep)}
    messenger = connected(dm_only_discord())
    events = EventBus()
    tokens = TokenManager(
        db=db, cipher=cipher, providers=providers, clock=clock, messenger=messenger
    )
    linking = LinkService(
        db=db,
        cipher=cipher,
        providers=providers,
        clock=clock,
        public_base_url=base_url,
        messenger=messenger,
        tokens=tokens,
        events=events,
    )
    privacy = PrivacyService(
        db=db, cipher=cipher, providers=providers, clock=clock, events=events, tokens=tokens
    )
    accounts, state = AccountsRepo(db, cipher), PushStateRepo(db, "withings")
    client = WithingsNotifyClient(
        settings.withings,
        session,
        clock,
        callback_url=withings_webhook_url(base_url, options.get("callback_secret", SECRET)),
        limiter=ProviderRateLimiter(app_limit=APP_LIMIT_PER_MINUTE, sleep=fake_sleep),
        sleep=fake_sleep,
    )
    keeper = WithingsSubscriptions(client=client, tokens=tokens, accounts=accounts, state=state)
    if options.get("listening", True):
        keeper.subscribe(events)
    sync = RecordingSync()
    installers = [oauth_routes(linking), webhook_routes(settings, sync, clock=clock)]
    # The production server: it keeps no access log (request lines carry the secret).
    server = WebServer(
        create_app(db=db, metrics=Metrics(), installers=installers), "127.0.0.1", port
    )
    await server.start()
    browser = aiohttp.ClientSession(base_url=base_url)
    try:
        yield World(withings, linking, privacy, keeper, state, accounts, sync, browser, base_url)
    finally:
        await browser.close()
        await server.stop()


async def test_a_link_subscribes_activity_and_sleep_to_the_secret_url(world: World) -> None:
    assert await world.link(ALICE, "1000001") == 200

    assert world.subscribed("1000001") == {(world.callback_url, 16), (world.callback_url, 44)}
    head_checks = [d for d in world.standin.deliveries if d.method == "HEAD"]
    assert [d.status for d in head_checks] == [200, 200]
    assert await world.state.pending() == {}


async def test_a_synced_watch_reaches_stride_and_queues_the_member(world: World) -> None:
    assert await world.link(ALICE, "1000001") == 200

    deliveries = await world.standin.sync_watch("1000001", DAY, 10_500)

    assert [d.status for d in deliveries] == [200]
    assert world.sync.users("withings") == ["1000001"]


async def test_an_unlink_revokes_both_subscriptions(world: World) -> None:
    assert await world.link(ALICE, "1000001") == 200

    await world.linking.unlink(ALICE, "withings")

    assert world.subscribed("1000001") == set()
    assert await world.standin.sync_watch("1000001", DAY, 1) == []


async def test_privacy_delete_revokes_both_subscriptions(world: World) -> None:
    assert await world.link(ALICE, "1000001") == 200

    await world.privacy.delete_everything(ALICE)

    assert world.subscribed("1000001") == set()
    assert await world.accounts.get(ALICE, "withings") is None


async def test_a_failed_subscription_does_not_fail_the_link_and_is_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.standin.fail_next(2, status=503, endpoint="subscribe")  # both attempts of one call

    assert await world.link(ALICE, "1000001") == 200

    account = await world.account(ALICE)
    assert world.subscribed("1000001") == set()
    assert await world.state.pending() == {account.id: 1}
    assert "could not subscribe account" in caplog.text
    await world.keeper.reconcile()
    assert world.subscribed("1000001") == {(world.callback_url, 16), (world.callback_url, 44)}
    assert await world.state.pending() == {}


async def test_a_subscription_that_keeps_failing_is_given_up(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.standin.body_status_next(MAX_ATTEMPTS, status=503, endpoint="subscribe")
    assert await world.link(ALICE, "1000001") == 200

    for _ in range(MAX_ATTEMPTS - 1):
        await world.keeper.reconcile()

    assert await world.state.pending() == {}
    assert "gave up subscribing account" in caplog.text
    assert world.subscribed("1000001") == set()


@pytest.mark.parametrize("world", [{"listening": False}], indirect=True)
async def test_accounts_linked_before_notifications_are_subscribed_once(world: World) -> None:
    assert await world.link(ALICE, "1000001") == 200
    assert world.subscribed("1000001") == set()

    await world.keeper.reconcile()
    subscribes = world.standin.requests["subscribe"]
    await world.keeper.reconcile()

    assert world.subscribed("1000001") == {(world.callback_url, 16), (world.callback_url, 44)}
    assert world.standin.requests["subscribe"] == subscribes == 2


async def test_a_failed_revoke_does_not_fail_the_unlink(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert await world.link(ALICE, "1000001") == 200
    world.standin.body_status_next(1, status=503, endpoint="revoke")

    await world.linking.unlink(ALICE, "withings")

    assert await world.accounts.get(ALICE, "withings") is None
    assert "could not end the notifications of account" in caplog.text


@pytest.mark.parametrize("world", [{"callback_secret": "wrong-secret"}], indirect=True)
async def test_a_callback_that_does_not_answer_head_is_not_subscribed(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert await world.link(ALICE, "1000001") == 200

    assert world.subscribed("1000001") == set()
    assert [d.status for d in world.standin.deliveries] == [403]
    assert "status 293" in caplog.text


async def test_logs_name_no_secret_url_or_token(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world.standin.fail_next(2, status=503, endpoint="subscribe")
    assert await world.link(ALICE, "1000001") == 200
    await world.keeper.reconcile()
    await world.standin.sync_watch("1000001", DAY, 5)
    await world.linking.unlink(ALICE, "withings")

    secrets = [SECRET, world.standin.client_secret, *world.standin.access_tokens]
    secrets += list(world.standin.refresh_tokens)
    assert all(secret not in caplog.text for secret in secrets)
