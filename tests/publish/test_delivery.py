"""Delivery to every real sink at once, through the production wiring (`Settings` → sinks):
each day arrives once per sink with its idempotency key, nothing identifies a player, a kill
plus a restart over the same database neither loses nor repeats a day, and the file holds
each day once even when the kill came between writing its line and recording it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.events import EventBus
from bot.publish.service import PublishService, create_publish_service
from bot.publish.sinks import default_mqtt_client_id
from bot.publish.worker import DeliveryReport
from bot.settings import Settings
from bot.storage import Database
from bot.storage.publish import PublishRepo
from tests.doubles.messenger import RecordingTransport, connected
from tests.publish.conftest import (
    CREATOR_ID,
    DAY1,
    GUILD_ID,
    finalise_day,
    players,
    score_day,
    seed_challenge,
)
from tests.standins.publish.mqtt_broker import PASSWORD, USERNAME, RunningBroker, mqtt_broker
from tests.standins.publish.receivers import StreamrNode, WebhookReceiver

MakeClient = Callable[[web.Application], Awaitable[TestClient]]
STREAM_ID = "0xfeedbeef00000000000000000000000000000001/stride"
API_KEY = "node-api-key-do-not-leak"
WEBHOOK_SECRET = "webhook-secret-do-not-leak"
DAYS = [DAY1 + dt.timedelta(days=i) for i in range(3)]
SINKS = ("file", "mqtt", "streamr", "webhook")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(
    make_settings: Callable[..., Settings],
    *,
    database: Path,
    mqtt_port: int,
    node: TestClient,
    hook: TestClient,
    file: Path,
    mqtt_password: str = PASSWORD,
) -> Settings:
    return make_settings(
        database_path=database,
        publish={
            "k": 5,
            "streamr": {
                "node_url": str(node.make_url("")),
                "api_key": API_KEY,
                "stream_id": STREAM_ID,
            },
            "mqtt": {
                "host": "127.0.0.1",
                "port": mqtt_port,
                "username": USERNAME,
                "password": mqtt_password,
            },
            "webhook": {"url": str(hook.make_url("/hooks/stride")), "secret": WEBHOOK_SECRET},
            "file": {"path": str(file)},
        },
    )


@contextlib.asynccontextmanager
async def subscriber(broker: RunningBroker) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(
        broker.host, broker.port, username=USERNAME, password=PASSWORD, identifier="consumer"
    ) as client:
        await client.subscribe("stride/#", qos=1)
        yield client


async def drain(client: aiomqtt.Client, broker: RunningBroker) -> list[aiomqtt.Message]:
    """All messages up to a sentinel published last: a duplicate would arrive before it."""
    async with aiomqtt.Client(
        broker.host, broker.port, username=USERNAME, password=PASSWORD
    ) as sender:
        await sender.publish("stride/sentinel", b"end", qos=1)
    received = []
    async with asyncio.timeout(10):  # a guard against a hang, not a synchronisation
        async for message in client.messages:
            if message.topic.matches("stride/sentinel"):
                return received
            received.append(message)
    raise AssertionError("the sentinel never arrived")


async def _seed(db: Database, events: EventBus, service: PublishService) -> None:
    roster = players(6)
    await seed_challenge(db, roster=roster)
    events.on("day_finalised", service.on_day_finalised)
    await service.enable(GUILD_ID)
    for day in DAYS:
        await score_day(db, 1, day, roster)
        await finalise_day(db, events, 1, day)


def _days_of(payloads: list[dict[str, Any]]) -> collections.Counter[str]:
    return collections.Counter(p["date"] for p in payloads)


@dataclass
class Published:
    """What one delivery run put on every sink."""

    report: DeliveryReport
    node: StreamrNode
    hook: WebhookReceiver
    mqtt_messages: list[aiomqtt.Message]
    mqtt_qos: list[int]  # as the broker took them from the installation's client id
    file_lines: list[bytes]


async def _deliver_to_every_sink(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
) -> Published:
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID)
    hook = WebhookReceiver(WEBHOOK_SECRET.encode(), now=lambda: clock.now().timestamp())
    node_client = await aiohttp_client(node.app())
    hook_client = await aiohttp_client(hook.app())
    file = tmp_path / "published.jsonl"
    async with mqtt_broker() as broker, aiohttp.ClientSession() as http:
        settings = _settings(
            make_settings,
            database=tmp_path / "stride.db",
            mqtt_port=broker.port,
            node=node_client,
            hook=hook_client,
            file=file,
        )
        service = create_publish_service(settings, db, http, clock, connected(messenger))
        assert service.sink_names == list(SINKS)
        events = EventBus()
        await _seed(db, events, service)
        async with subscriber(broker) as consumer:
            report = await service.deliver_due()
            mqtt_messages = await drain(consumer, broker)
        mqtt_qos = broker.received_qos(default_mqtt_client_id(settings.database_path))
    return Published(report, node, hook, mqtt_messages, mqtt_qos, file.read_bytes().splitlines())


async def test_every_sink_gets_each_day_once_and_nothing_identifies_a_player(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    published = await _deliver_to_every_sink(
        db, clock, messenger, make_settings, aiohttp_client, tmp_path
    )
    report, node, hook = published.report, published.node, published.hook
    mqtt_messages, file_lines = published.mqtt_messages, published.file_lines

    assert report.delivered == dict.fromkeys(SINKS, 3) and report.failed == {}
    expected = collections.Counter(d.isoformat() for d in DAYS)
    assert _days_of(node.accepted) == expected
    assert _days_of(hook.accepted) == expected
    assert _days_of([json.loads(m.payload) for m in mqtt_messages]) == expected  # type: ignore[arg-type]
    assert _days_of([json.loads(line) for line in file_lines]) == expected
    assert hook.rejected == 0

    published_bytes = b"\n".join(
        [
            *node.raw_bodies,
            *(path.encode() for path in node.raw_paths),
            *hook.raw_bodies,
            *(f"{k}: {v}".encode() for h in hook.raw_headers for k, v in h.items()),
            *(m.payload for m in mqtt_messages),  # type: ignore[misc]
            *(m.topic.value.encode() for m in mqtt_messages),
            *file_lines,
        ]
    )
    for player in players(6):
        for identifying in (str(player.discord_id), player.name, player.provider_user_id):
            assert identifying.encode() not in published_bytes
    for internal in (str(GUILD_ID), str(CREATOR_ID), "May Steps"):
        assert internal.encode() not in published_bytes

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (API_KEY, PASSWORD, WEBHOOK_SECRET):
        assert secret not in logged


async def test_every_sink_carries_each_message_s_idempotency_key(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
) -> None:
    """The key a consumer dedupes on: in every body, and as a header over HTTP; MQTT at QoS 2."""
    published = await _deliver_to_every_sink(
        db, clock, messenger, make_settings, aiohttp_client, tmp_path
    )
    bodies: dict[str, list[dict[str, Any]]] = {
        "streamr": published.node.accepted,
        "webhook": published.hook.accepted,
        "mqtt": [json.loads(m.payload) for m in published.mqtt_messages],  # type: ignore[arg-type]
        "file": [json.loads(line) for line in published.file_lines],
    }
    for sink, payloads in bodies.items():
        keys = [p["idempotency_key"] for p in payloads]
        assert keys == [f"{p['challenge_key']}:{p['date']}:{sink}" for p in payloads]
        assert len(set(keys)) == len(DAYS)
    for headers, payload in [
        *zip(published.node.raw_headers, published.node.accepted, strict=True),
        *zip(published.hook.raw_headers, published.hook.accepted, strict=True),
    ]:
        assert headers["Idempotency-Key"] == payload["idempotency_key"]
    assert published.mqtt_qos == [2] * len(DAYS)


async def test_failures_leave_no_secret_in_logs_status_or_reports(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    node = StreamrNode(api_key="the-node-expects-another-key", stream_id=STREAM_ID)
    hook = WebhookReceiver(b"the-receiver-has-another-secret", now=lambda: 0.0)
    node_client = await aiohttp_client(node.app())
    hook_client = await aiohttp_client(hook.app())
    async with mqtt_broker() as broker, aiohttp.ClientSession() as http:
        settings = _settings(
            make_settings,
            database=tmp_path / "stride.db",
            mqtt_port=broker.port,
            node=node_client,
            hook=hook_client,
            file=tmp_path / "published.jsonl",
            mqtt_password="wrong-" + PASSWORD,
        )
        service = create_publish_service(settings, db, http, clock, connected(messenger))
        await _seed(db, EventBus(), service)
        for _ in range(4):
            report = await service.deliver_due()
            clock.advance(dt.timedelta(hours=1))
        status = await service.status(GUILD_ID)

    assert set(report.failed) == {"mqtt", "streamr", "webhook"}
    assert len(messenger.posts) == 3  # one report per failing sink, not one per run
    visible = "\n".join(
        [
            *(record.getMessage() for record in caplog.records),
            *(str(s) for s in status.sinks),
            *(post.content or "" for post in messenger.posts),
            *(e.last_error or "" for e in await PublishRepo(db).entries(1)),
        ]
    )
    for secret in (API_KEY, PASSWORD, "wrong-" + PASSWORD, WEBHOOK_SECRET):
        assert secret not in visible
    assert "PUBLISH__STREAMR__API_KEY" in visible


async def test_kill_and_restart_deliver_every_day_exactly_once_per_sink(
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    aiohttp_client: MakeClient,
    tmp_path: Path,
) -> None:
    database = tmp_path / "restart" / "stride.db"
    file = tmp_path / "published.jsonl"
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID, accept_budget=1)
    hook = WebhookReceiver(WEBHOOK_SECRET.encode(), now=lambda: clock.now().timestamp())
    hook.down = True
    node_client = await aiohttp_client(node.app())
    hook_client = await aiohttp_client(hook.app())

    # -- first process: the broker is down, the node takes one message, the webhook is down
    db = await Database.open(database)
    await db.migrate()
    async with aiohttp.ClientSession() as http:
        settings = _settings(
            make_settings,
            database=database,
            mqtt_port=_closed_port(),
            node=node_client,
            hook=hook_client,
            file=file,
        )
        service = create_publish_service(settings, db, http, clock, connected(messenger))
        await _seed(db, EventBus(), service)
        first = await service.deliver_due()
        assert first.delivered == {"file": 3, "streamr": 1}
        assert set(first.failed) == {"mqtt", "streamr", "webhook"}

        # Killed mid-delivery: the node has the day-2 request in flight when the run dies.
        node.accept_budget = None
        node.hold_next = True
        clock.advance(dt.timedelta(hours=1))
        run = asyncio.create_task(service.deliver_due())
        async with asyncio.timeout(10):  # a guard against a hang, not a synchronisation
            await node.reached.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        node.release.set()  # the node answers 503 to a client that is gone: not accepted
    await db.close()

    # -- second process: new objects over the same database file, every sink back up
    hook.down = False
    clock.advance(dt.timedelta(hours=2))
    db = await Database.open(database)
    try:
        await db.migrate()
        async with mqtt_broker() as broker, aiohttp.ClientSession() as http:
            settings = _settings(
                make_settings,
                database=database,
                mqtt_port=broker.port,
                node=node_client,
                hook=hook_client,
                file=file,
            )
            service = create_publish_service(settings, db, http, clock, connected(messenger))
            async with subscriber(broker) as consumer:
                second = await service.deliver_due()
                third = await service.deliver_due()
                mqtt_messages = await drain(consumer, broker)
        entries = await PublishRepo(db).entries(1)
    finally:
        await db.close()

    assert second.delivered == {"mqtt": 3, "streamr": 2, "webhook": 3}
    assert third.delivered == {} and third.failed == {}
    assert all(entry.delivered_at is not None for entry in entries)
    assert len(entries) == len(DAYS) * len(SINKS)

    once = collections.Counter(d.isoformat() for d in DAYS)
    assert _days_of(node.accepted) == once
    assert _days_of(hook.accepted) == once
    assert _days_of([json.loads(m.payload) for m in mqtt_messages]) == once  # type: ignore[arg-type]
    assert _days_of([json.loads(line) for line in file.read_bytes().splitlines()]) == once
    # The generated publish secret survived the restart: one challenge key throughout.
    keys = {p["challenge_key"] for p in [*node.accepted, *hook.accepted]}
    assert len(keys) == 1


class Killed(BaseException):
    """The process dying right there: no `except Exception` catches it, nothing after it runs."""


async def test_a_kill_after_the_file_line_is_written_does_not_write_it_again(
    clock: FakeClock,
    messenger: RecordingTransport,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The window the outbox cannot close: the line is on disk, the row is not marked."""
    database = tmp_path / "kill" / "stride.db"
    file = tmp_path / "published.jsonl"
    settings = make_settings(database_path=database, publish={"k": 5, "file": {"path": str(file)}})

    async def killed(*_args: object) -> None:
        raise Killed

    # -- first process: killed as it goes to record the first line it wrote
    db = await Database.open(database)
    await db.migrate()
    async with aiohttp.ClientSession() as http:
        service = create_publish_service(settings, db, http, clock, connected(messenger))
        await _seed(db, EventBus(), service)
        with monkeypatch.context() as patch:
            patch.setattr(PublishRepo, "mark_delivered", killed)
            with pytest.raises(Killed):
                await service.deliver_due()
    await db.close()
    assert _days_of([json.loads(line) for line in file.read_bytes().splitlines()]) == {
        DAYS[0].isoformat(): 1
    }

    # -- second process: new objects over the same database and file
    db = await Database.open(database)
    try:
        await db.migrate()
        async with aiohttp.ClientSession() as http:
            service = create_publish_service(settings, db, http, clock, connected(messenger))
            report = await service.deliver_due()
        entries = await PublishRepo(db).entries(1)
    finally:
        await db.close()

    assert report.delivered == {"file": len(DAYS)}
    assert all(entry.delivered_at is not None for entry in entries)
    once = collections.Counter(d.isoformat() for d in DAYS)
    assert _days_of([json.loads(line) for line in file.read_bytes().splitlines()]) == once
