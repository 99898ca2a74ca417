"""End to end without Discord: a provider's notification through the real webhook route goes
into the real sync queue, and within seconds the live standings show the new value."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.linking import TokenManager
from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage.accounts import AccountsRepo
from bot.sync.queue import SETTLE, SyncQueue
from bot.sync.worker import SyncStatus
from bot.web.app import create_app
from bot.web.webhooks import webhook_routes
from tests.daily.world import World, day, local
from tests.doubles.provider import FakeProvider

SECRET = "Bearer stride-test-webhook-secret"


async def test_a_watch_sync_mid_afternoon_shows_in_the_standings_within_seconds(
    world: World,
    make_settings: Callable[..., Settings],
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]],
) -> None:
    # 48 h grace: day 1 is not final yet on day 3 (a live fetch skips final days).
    challenge = await world.add_challenge(grace_hours=48)
    await world.add_player(challenge, 1, "Alice", linked=False)
    await world.add_player(challenge, 2, "Bob", linked=False)
    google = FakeProvider(world.clock, name="google_health")
    accounts = AccountsRepo(world.db, world.cipher)
    grant = google.grant("gh-alice", expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    alice = await accounts.save_link(1, "google_health", "gh-alice", grant, world.clock.now())
    world.clock.set(local(day(3), 15, 10))
    google.set("gh-alice", day(3), 11_000)  # the watch synced: Alice passes Bob
    google.set("gh-alice", day(1), 2_000)
    await world.db.execute(
        "INSERT INTO daily_values VALUES (2, 'fake', 'steps', ?, 0, 9000, ?)",
        (day(1).isoformat(), world.clock.now().isoformat()),
    )
    settings = make_settings(
        google_health={"client_id": "id", "client_secret": "secret", "webhook_secret": SECRET}
    )
    providers = {"google_health": google}
    tokens = TokenManager(
        db=world.db,
        cipher=world.cipher,
        providers=providers,
        clock=world.clock,
        messenger=world.hub,
    )
    queue = SyncQueue(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        providers=providers,
        call_with_token=tokens.call_with_token,
        concurrency=4,
        owner="test-host",
    )
    routes = webhook_routes(settings, queue, clock=world.clock)
    client = await aiohttp_client(create_app(db=world.db, metrics=Metrics(), installers=[routes]))
    await queue.start()
    synced = queue.watch(alice.id)

    for data_type in ("steps", "distance", "floors"):  # one sync, one notification per type
        answer = await client.post(
            "/webhooks/google-health",
            json={"healthUserId": "gh-alice", "dataType": data_type},
            headers={"Authorization": SECRET},
        )
        assert answer.status == 200
    world.clock.advance(SETTLE)
    async with asyncio.timeout(5):
        outcome = await synced
    await queue.aclose()

    assert outcome.status is SyncStatus.SYNCED
    assert len(google.calls) == 1  # three notifications, one fetch
    board = await world.standings.current(challenge)
    ranks = {p.player_id: (p.rank, p.score) for p in board.standings.players}
    assert ranks == {1: (1, 13_000), 2: (2, 9_000)}
    assert board.day == day(3) and day(3) in board.standings.provisional_days
