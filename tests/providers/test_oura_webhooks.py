"""`OuraWebhooks.reconcile`: the app's subscriptions created at start (through Oura's
verification GET to Stride's real route), renewed before they expire, deleted when webhooks
are disabled. Checked at the Oura stand-in."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.providers.oura_webhooks import OuraWebhooks
from bot.providers.push import oura_webhook_url
from bot.settings import Settings
from bot.storage import Database
from bot.web.app import WebServer, create_app
from bot.web.webhooks import webhook_routes
from tests.doubles.sync import RecordingSync
from tests.standins.providers import OuraStandin
from tests.standins.providers.oura import WebhookSubscription

from .conftest import FakeSleep

TOKEN = "oura-verify-7e2d4c1b0a9f8e7d"
WANTED = {
    ("create", "daily_activity"),
    ("create", "sleep"),
    ("update", "daily_activity"),
    ("update", "sleep"),
}
DAY = dt.date(2026, 11, 20)


@dataclass
class World:
    standin: OuraStandin
    clock: FakeClock
    sync: RecordingSync
    callback_url: str
    manager: Callable[..., OuraWebhooks]

    def ours(self) -> dict[tuple[str, str], WebhookSubscription]:
        return {
            (sub.event_type, sub.data_type): sub
            for sub in self.standin.webhook_subscriptions.values()
            if sub.callback_url == self.callback_url
        }


@pytest.fixture
async def world(
    db: Database,
    tmp_path: Path,
    oura: OuraStandin,
    clock: FakeClock,
    session: aiohttp.ClientSession,
    fake_sleep: FakeSleep,
) -> AsyncIterator[World]:
    port = unused_port()
    base_url = f"http://127.0.0.1:{port}"

    def settings(**oura_overrides: Any) -> Settings:
        group = {**oura.settings_values(), "webhook_verification_token": TOKEN, **oura_overrides}
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            public_base_url=base_url,
            database_path=tmp_path / "stride.db",
            oura=group,
        )

    def manager(**oura_overrides: Any) -> OuraWebhooks:
        return OuraWebhooks(
            settings(**oura_overrides).oura,
            session,
            clock,
            callback_url=oura_webhook_url(base_url),
            sleep=fake_sleep,
        )

    sync = RecordingSync()
    app = create_app(
        db=db, metrics=Metrics(), installers=[webhook_routes(settings(), sync, clock=clock)]
    )
    server = WebServer(app, "127.0.0.1", port)
    await server.start()
    try:
        yield World(oura, clock, sync, oura_webhook_url(base_url), manager)
    finally:
        await server.stop()


async def test_the_subscriptions_are_created_at_start_through_the_verification(
    world: World,
) -> None:
    await world.manager().reconcile()

    assert set(world.ours()) == WANTED
    verifications = [d for d in world.standin.deliveries if d.method == "GET"]
    assert [d.status for d in verifications] == [200] * 4


async def test_a_second_run_changes_nothing(world: World) -> None:
    await world.manager().reconcile()
    before = dict(world.standin.requests)

    await world.manager().reconcile()

    changed = {key: world.standin.requests[key] - before.get(key, 0) for key in before}
    assert changed == {key: 0 for key in before} | {"webhook_subscriptions": 1}  # the list


async def test_subscriptions_are_renewed_before_they_expire(world: World) -> None:
    manager = world.manager(webhook_renew_margin_hours=48)
    await manager.reconcile()
    created = {key: sub.expires_at for key, sub in world.ours().items()}

    world.clock.advance(world.standin.subscription_lifetime - dt.timedelta(hours=72))
    await manager.reconcile()
    assert {key: sub.expires_at for key, sub in world.ours().items()} == created

    world.clock.advance(dt.timedelta(hours=25))  # now 47 hours before expiry
    await manager.reconcile()
    renewed = world.ours()
    assert all(renewed[key].expires_at > created[key] for key in WANTED)
    assert world.standin.requests["webhook_renew"] == 4


async def test_an_expired_subscription_delivers_nothing_until_it_is_recreated(
    world: World,
) -> None:
    await world.manager().reconcile()
    member = world.standin.add_user()
    world.clock.advance(world.standin.subscription_lifetime + dt.timedelta(hours=1))

    assert await world.standin.sync_watch(member, DAY, 9_000) == []
    await world.manager().reconcile()  # expired ones need renewing: the margin has passed

    deliveries = await world.standin.sync_watch(member, DAY, 9_100)
    assert [d.status for d in deliveries] == [200]
    assert world.sync.users("oura") == [member]


async def test_disabling_webhooks_deletes_ours_and_leaves_other_installations(
    world: World,
) -> None:
    await world.manager().reconcile()
    other = WebhookSubscription(
        "other-1", "https://elsewhere.example/oura", "update", "sleep", world.clock.now()
    )
    world.standin.webhook_subscriptions[other.id] = other

    await world.manager(webhook_verification_token=None).reconcile()

    assert world.ours() == {}
    assert list(world.standin.webhook_subscriptions) == ["other-1"]


async def test_duplicates_and_unwanted_subscriptions_of_our_url_are_deleted(
    world: World,
) -> None:
    await world.manager().reconcile()
    for sub_id, event_type, data_type in (
        ("dup", "update", "sleep"),
        ("extra", "update", "workout"),
    ):
        world.standin.webhook_subscriptions[sub_id] = WebhookSubscription(
            sub_id, world.callback_url, event_type, data_type, world.clock.now()
        )

    await world.manager().reconcile()

    assert "extra" not in world.standin.webhook_subscriptions
    kept = [s for s in world.standin.webhook_subscriptions.values() if s.data_type == "sleep"]
    assert sorted(s.event_type for s in kept) == ["create", "update"]


async def test_a_failing_api_is_logged_and_tried_again_next_run(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.standin.fail_next(4, status=503, endpoint="webhook_subscriptions")

    await world.manager().reconcile()  # the list fails after its retries

    assert world.ours() == {}
    assert "could not list the webhook subscriptions" in caplog.text
    await world.manager().reconcile()
    assert set(world.ours()) == WANTED


async def test_a_signed_notification_from_the_standin_queues_once_per_delivery(
    world: World,
) -> None:
    await world.manager().reconcile()
    member = world.standin.add_user()

    for steps in range(100):
        world.clock.advance(dt.timedelta(seconds=1))  # a new timestamp: not a replay
        assert [d.status for d in await world.standin.sync_watch(member, DAY, steps)] == [200]

    assert len(world.sync.calls) == 100
    assert world.sync.queued == {("oura", member)}


async def test_logs_hold_no_secret(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.standin.fail_next(1, status=401, endpoint="webhook_subscriptions")
    await world.manager().reconcile()
    await world.manager().reconcile()
    await world.manager(webhook_verification_token=None).reconcile()

    assert TOKEN not in caplog.text
    assert world.standin.client_secret not in caplog.text
