"""Two Stride processes over one database deliver the outbox once: a sink's messages are
delivered by whichever process holds its leased claim (`outbox:<sink>`), and a process that
died holding it is taken over once the lease ends. The webhook sink shows it: it is at least
once by itself, so a second process sending too would double every day."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.events import EventBus
from bot.instance import InstanceName
from bot.publish.service import PublishService, create_publish_service
from bot.publish.worker import OUTBOX_LEASE
from bot.settings import Settings
from bot.storage import Database
from bot.storage.claims import ClaimsRepo
from tests.doubles.messenger import RecordingTransport, connected
from tests.publish.conftest import DAY1, GUILD_ID, finalise_day, players, score_day, seed_challenge
from tests.standins.publish.receivers import WebhookReceiver

MakeClient = Callable[[web.Application], Awaitable[TestClient]]
SECRET = "webhook-secret-for-two-processes"
DAYS = [DAY1 + dt.timedelta(days=i) for i in range(3)]


async def _service(
    name: str,
    database: Path,
    hook: TestClient,
    make_settings: Callable[..., Settings],
    http: aiohttp.ClientSession,
    clock: FakeClock,
    messenger: RecordingTransport,
) -> tuple[Database, PublishService]:
    settings = make_settings(
        database_path=database,
        instance_name=name,
        publish={"k": 5, "webhook": {"url": str(hook.make_url("/hooks/stride")), "secret": SECRET}},
    )
    db = await Database.open(database)
    await db.migrate()
    return db, create_publish_service(settings, db, http, clock, connected(messenger))


async def _seed(db: Database, service: PublishService) -> None:
    roster = players(6)
    await seed_challenge(db, roster=roster)
    events = EventBus()
    events.on("day_finalised", service.on_day_finalised)
    await service.enable(GUILD_ID)
    for day in DAYS:
        await score_day(db, 1, day, roster)
        await finalise_day(db, events, 1, day)


def _days(hook: WebhookReceiver) -> collections.Counter[str]:
    return collections.Counter(str(payload["date"]) for payload in hook.accepted)


@pytest.mark.parametrize("dead_holder", [False, True])
async def test_two_processes_deliver_each_message_once(
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
    dead_holder: bool,
) -> None:
    hook = WebhookReceiver(SECRET.encode(), now=lambda: clock.now().timestamp())
    client = await aiohttp_client(hook.app())
    database = tmp_path / "stride.db"
    async with aiohttp.ClientSession() as http:
        one_db, one = await _service("one", database, client, make_settings, http, clock, messenger)
        two_db, two = await _service("two", database, client, make_settings, http, clock, messenger)
        try:
            await _seed(one_db, one)
            if dead_holder:  # a third process claimed the sink and died
                assert await ClaimsRepo(one_db, "dead").acquire(
                    "outbox:webhook", clock.now(), OUTBOX_LEASE
                )
                reports = await asyncio.gather(one.deliver_due(), two.deliver_due())
                assert hook.accepted == [] and all(not r.delivered for r in reports)
                clock.advance(OUTBOX_LEASE)
            reports = await asyncio.gather(one.deliver_due(), two.deliver_due())
        finally:
            await one_db.close()
            await two_db.close()
    assert sorted(report.delivered.get("webhook", 0) for report in reports) == [0, len(DAYS)]
    assert _days(hook) == collections.Counter(day.isoformat() for day in DAYS)


async def test_a_process_that_lost_its_name_delivers_nothing(
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
) -> None:
    """A stalled process whose name another one took over (`bot.instance`) must not deliver
    under that name: both would send every message."""
    hook = WebhookReceiver(SECRET.encode(), now=lambda: clock.now().timestamp())
    client = await aiohttp_client(hook.app())
    database = tmp_path / "stride.db"
    settings = make_settings(
        database_path=database,
        instance_name="one",
        publish={
            "k": 5,
            "webhook": {"url": str(client.make_url("/hooks/stride")), "secret": SECRET},
        },
    )
    db = await Database.open(database)
    await db.migrate()
    stalled = InstanceName(db, settings.process_name, clock)
    await stalled.take()

    async def time_passes(seconds: float) -> None:  # the stalled one does not renew
        clock.advance(dt.timedelta(seconds=seconds))

    taker = InstanceName(db, settings.process_name, clock, sleep=time_passes)
    await taker.take()
    async with aiohttp.ClientSession() as http:
        try:
            guarded = ClaimsRepo(db, settings.process_name, guard=stalled)
            service = create_publish_service(
                settings, db, http, clock, connected(messenger), claims=guarded
            )
            await _seed(db, service)
            report = await service.deliver_due()
            assert not report.delivered and hook.accepted == []
            holder = ClaimsRepo(db, settings.process_name, guard=taker)
            service = create_publish_service(
                settings, db, http, clock, connected(messenger), claims=holder
            )
            assert (await service.deliver_due()).delivered == {"webhook": len(DAYS)}
        finally:
            await asyncio.gather(stalled.release(), taker.release())
            await db.close()
    assert _days(hook) == collections.Counter(day.isoformat() for day in DAYS)
