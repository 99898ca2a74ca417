"""The outbox: what a final day queues, for whom, and how delivery retries and reports."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.events import EventBus
from bot.notify import Messenger
from bot.publish.keys import PublishKeys
from bot.publish.schema import DailyAggregateMessage
from bot.publish.service import PublishService
from bot.publish.sinks import FileSink, OutgoingMessage, Send, Sink, SinkError
from bot.settings import PublishSettings
from bot.storage import Database
from bot.storage.publish import PublishRepo
from tests.doubles.messenger import RecordingTransport, connected
from tests.publish.conftest import (
    CHANNEL_ID,
    CREATOR_ID,
    DAY1,
    GUILD_ID,
    finalise_day,
    players,
    score_day,
    seed_challenge,
)

SECRET = b"test-publish-secret-0123456789"
PAYLOAD_KEYS = {
    "challenge_key",
    "date",
    "goal_share",
    "idempotency_key",
    "mean",
    "median",
    "metric",
    "p90",
    "participants",
    "privacy",
    "schema",
    "schema_version",
    "sum",
    "unit",
}


class MemorySink:
    """A sink that keeps what it confirmed; `down` makes it fail like an unreachable host."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[OutgoingMessage] = []
        self.down = False
        self.connects = 0

    def describe(self) -> str:
        return f"memory sink {self.name}"

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        self.connects += 1
        if self.down:
            raise SinkError(f"{self.name} is unreachable")
        yield self._send

    async def _send(self, message: OutgoingMessage) -> None:
        self.received.append(message)


def make_service(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport | None,
    sinks: list[Sink],
    *,
    k: int = 5,
    epsilon: float | None = None,
    rng: random.Random | None = None,
) -> PublishService:
    return PublishService(
        db=db,
        settings=PublishSettings(k=k, epsilon=epsilon),
        keys=PublishKeys(SECRET),
        sinks={sink.name: sink for sink in sinks},
        clock=clock,
        messenger=connected(messenger),
        disabled_reasons={"mqtt": "set PUBLISH__MQTT__HOST"},
        rng=rng,
    )


@pytest.fixture
def events() -> EventBus:
    return EventBus()


async def _ready(
    db: Database,
    events: EventBus,
    service: PublishService,
    *,
    count: int = 6,
    opted_out: int = 0,
    enable: bool = True,
) -> None:
    roster = players(count, opted_out=opted_out)
    await seed_challenge(db, roster=roster)
    await score_day(db, 1, DAY1, roster)
    events.on("day_finalised", service.on_day_finalised)
    if enable:
        await service.enable(GUILD_ID)


async def test_a_final_day_is_queued_once_per_sink(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha"), MemorySink("beta")])
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    entries = await PublishRepo(db).entries(1)
    assert [e.sink for e in entries] == ["alpha", "beta"]
    messages = [DailyAggregateMessage.from_json(e.payload) for e in entries]
    key = PublishKeys(SECRET).challenge_key(1)
    assert [m.idempotency_key for m in messages] == [
        f"{key}:2024-05-06:alpha",
        f"{key}:2024-05-06:beta",
    ]
    assert messages[0].model_copy(update={"idempotency_key": ""}) == messages[1].model_copy(
        update={"idempotency_key": ""}
    )
    first = messages[0]
    assert first.participants == 6
    assert first.sum == 63_000  # 8 000 … 13 000
    assert first.median == 10_500
    assert first.goal_share == 0.5
    assert first.date == DAY1


async def test_rolled_back_finalisation_queues_nothing(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")])
    await _ready(db, events, service)

    with pytest.raises(RuntimeError):
        async with db.transaction():
            await events.emit("day_finalised", challenge_id=1, day=DAY1)
            raise RuntimeError("the daily run failed after emitting")

    assert await PublishRepo(db).entries(1) == []


@pytest.mark.parametrize(("count", "queued"), [(4, False), (5, True), (6, True)])
async def test_k_anonymity_holds_at_k_minus_one_k_and_k_plus_one(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    events: EventBus,
    count: int,
    queued: bool,
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")], k=5)
    await _ready(db, events, service, count=count)
    await finalise_day(db, events, 1, DAY1)

    entries = await PublishRepo(db).entries(1)
    assert bool(entries) is queued
    if queued:
        assert DailyAggregateMessage.from_json(entries[0].payload).participants == count


@pytest.mark.parametrize(("count", "expected"), [(6, 5), (5, None)])
async def test_opted_out_players_are_left_out_of_aggregates_and_of_k(
    db: Database,
    clock: FakeClock,
    messenger: RecordingTransport,
    events: EventBus,
    count: int,
    expected: int | None,
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")], k=5)
    await _ready(db, events, service, count=count, opted_out=1)
    await finalise_day(db, events, 1, DAY1)

    entries = await PublishRepo(db).entries(1)
    if expected is None:
        assert entries == []
        return
    message = DailyAggregateMessage.from_json(entries[0].payload)
    assert message.participants == expected
    assert message.sum == 63_000 - 8_000  # the opted-out player's 8 000 steps are gone


async def test_nothing_is_queued_while_publishing_is_off(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")])
    await _ready(db, events, service, enable=False)
    await finalise_day(db, events, 1, DAY1)
    assert await PublishRepo(db).entries(1) == []


async def test_players_without_a_value_do_not_count(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")])
    roster = players(5)
    await seed_challenge(db, roster=roster)
    no_data = [*roster[:-1], dataclasses.replace(roster[-1], value=None)]
    await score_day(db, 1, DAY1, no_data)
    events.on("day_finalised", service.on_day_finalised)
    await service.enable(GUILD_ID)
    await finalise_day(db, events, 1, DAY1)
    assert await PublishRepo(db).entries(1) == []  # 4 values < k


async def test_a_day_finalised_twice_is_queued_once_with_the_same_noise(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    alpha = MemorySink("alpha")
    service = make_service(db, clock, messenger, [alpha], epsilon=0.5)
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)
    await finalise_day(db, events, 1, DAY1)
    entries = await PublishRepo(db).entries(1)
    assert len(entries) == 1

    # A sink configured later gets the same noisy numbers, not a second draw (which would
    # spend the privacy budget twice on the same day).
    events2 = EventBus()
    later = make_service(db, clock, messenger, [alpha, MemorySink("beta")], epsilon=0.5)
    events2.on("day_finalised", later.on_day_finalised)
    await finalise_day(db, events2, 1, DAY1)
    entries = await PublishRepo(db).entries(1)
    assert [e.sink for e in entries] == ["alpha", "beta"]
    first, second = (DailyAggregateMessage.from_json(e.payload) for e in entries)
    assert first.model_dump(exclude={"idempotency_key"}) == second.model_dump(
        exclude={"idempotency_key"}
    )


async def test_payload_holds_no_player_data_and_no_time_finer_than_the_day(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")])
    roster = players(6)
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    payload = (await PublishRepo(db).entries(1))[0].payload
    data = json.loads(payload)
    assert set(data) == PAYLOAD_KEYS
    for player in roster:
        for secret_ish in (str(player.discord_id), player.name, player.provider_user_id):
            assert secret_ish not in payload
    for internal in (str(GUILD_ID), str(CREATOR_ID), "May Steps", "Creator"):
        assert internal not in payload
    assert "T" not in data["date"] and ":" not in data["date"]


async def test_differential_privacy_is_recorded_and_uses_a_secure_source(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")], epsilon=0.8)
    assert isinstance(service._rng, secrets.SystemRandom)
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)
    message = DailyAggregateMessage.from_json((await PublishRepo(db).entries(1))[0].payload)
    assert message.privacy.mechanism == "laplace"
    assert message.privacy.epsilon_per_value == 0.8
    assert message.privacy.epsilon_total == pytest.approx(4.0)
    assert message.privacy.clamp_upper == 60_000
    assert message.participants >= 0


async def test_delivery_marks_each_message_and_never_resends(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus, tmp_path: Path
) -> None:
    alpha = MemorySink("alpha")
    service = make_service(db, clock, messenger, [alpha, FileSink(tmp_path / "out.jsonl")])
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    report = await service.deliver_due()
    assert report.delivered == {"alpha": 1, "file": 1}
    again = await service.deliver_due()
    assert again.delivered == {} and len(alpha.received) == 1
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["idempotency_key"].endswith(":file")
    assert all(e.delivered_at == clock.now() for e in await PublishRepo(db).entries(1))


async def test_failing_sink_backs_off_by_the_clock(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    alpha = MemorySink("alpha")
    alpha.down = True
    service = make_service(db, clock, messenger, [alpha])
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    assert (await service.deliver_due()).failed == {"alpha": "alpha is unreachable"}
    await service.deliver_due()  # same instant: still backing off
    assert alpha.connects == 1
    clock.advance(dt.timedelta(seconds=29))
    await service.deliver_due()
    assert alpha.connects == 1
    clock.advance(dt.timedelta(seconds=1))  # 30 s after the first failure
    await service.deliver_due()
    assert alpha.connects == 2
    clock.advance(dt.timedelta(seconds=59))  # the second failure waits a minute
    await service.deliver_due()
    assert alpha.connects == 2

    status = await service.status(GUILD_ID)
    alpha_status = next(s for s in status.sinks if s.name == "alpha")
    assert alpha_status.backlog == 1
    assert alpha_status.last_error == "alpha is unreachable"
    assert alpha_status.failing_since is not None

    alpha.down = False
    clock.advance(dt.timedelta(seconds=1))
    assert (await service.deliver_due()).delivered == {"alpha": 1}
    alpha_status = next(s for s in (await service.status(GUILD_ID)).sinks if s.name == "alpha")
    assert alpha_status.backlog == 0 and alpha_status.failing_since is None
    assert alpha_status.last_success_at == clock.now()


async def _fail_runs(service: PublishService, clock: FakeClock, runs: int) -> None:
    for _ in range(runs):
        await service.deliver_due()
        clock.advance(dt.timedelta(hours=1))  # past any backoff


async def test_a_failing_sink_is_reported_to_the_admins_once(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    alpha = MemorySink("alpha")
    alpha.down = True
    service = make_service(db, clock, messenger, [alpha])
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    await _fail_runs(service, clock, 2)
    assert messenger.posts == []
    await _fail_runs(service, clock, 10)
    assert len(messenger.posts) == 1
    [report] = messenger.posts
    channel, text = report.channel_id, report.content
    assert channel == CHANNEL_ID
    assert text is not None and "alpha" in text and "/publish status" in text

    # Recovery, then a new failure episode, is worth a new report.
    alpha.down = False
    await service.deliver_due()
    await finalise_day(db, events, 1, DAY1 + dt.timedelta(days=1))  # no scores: k fails
    await score_day(db, 1, DAY1 + dt.timedelta(days=1), players(6))
    await finalise_day(db, events, 1, DAY1 + dt.timedelta(days=1))
    alpha.down = True
    await _fail_runs(service, clock, 5)
    assert len(messenger.posts) == 2


async def test_report_falls_back_to_the_creator_and_waits_for_discord(
    db: Database, clock: FakeClock, events: EventBus
) -> None:
    alpha = MemorySink("alpha")
    alpha.down = True
    messenger = Messenger()  # no Discord client connected yet
    service = PublishService(
        db=db,
        settings=PublishSettings(),
        keys=PublishKeys(SECRET),
        sinks={"alpha": alpha},
        clock=clock,
        messenger=messenger,
    )
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)

    await _fail_runs(service, clock, 4)  # no Discord client yet: nobody told, nothing lost
    discord = RecordingTransport(unavailable={CHANNEL_ID})
    messenger.attach(discord)
    await _fail_runs(service, clock, 3)
    assert discord.posts == []
    assert [dm.user_id for dm in discord.dms] == [CREATOR_ID]


async def test_a_report_that_discord_fails_for_one_guild_still_reaches_the_others_once(
    db: Database, clock: FakeClock, events: EventBus
) -> None:
    other_guild, other_channel = GUILD_ID + 1, CHANNEL_ID + 100
    # Discord fails in the first guild's channel, with something else than ChannelUnavailable.
    messenger = RecordingTransport(fail_in={CHANNEL_ID: RuntimeError("503 Service Unavailable")})
    alpha, beta = MemorySink("alpha"), MemorySink("beta")
    alpha.down = True
    service = make_service(db, clock, messenger, [alpha, beta])
    await _ready(db, events, service)
    roster = players(6)
    await seed_challenge(db, challenge_id=2, guild_id=other_guild, name="Other", roster=roster,
                         leaderboard_channel_id=other_channel)  # fmt: skip
    await score_day(db, 2, DAY1, roster)
    await service.enable(other_guild)
    await finalise_day(db, events, 1, DAY1)
    await finalise_day(db, events, 2, DAY1)

    await _fail_runs(service, clock, 8)

    assert [post.channel_id for post in messenger.posts] == [other_channel]
    assert [dm.user_id for dm in messenger.dms] == [CREATOR_ID]  # the fallback, told once
    assert len(beta.received) == 2  # the run went on to the next sink


async def test_disable_discards_the_backlog(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    alpha = MemorySink("alpha")
    alpha.down = True
    service = make_service(db, clock, messenger, [alpha])
    await _ready(db, events, service)
    await finalise_day(db, events, 1, DAY1)
    await service.deliver_due()

    result = await service.disable(GUILD_ID)
    assert result.was_enabled and result.discarded == 1
    alpha.down = False
    clock.advance(dt.timedelta(hours=2))
    await service.deliver_due()
    assert alpha.received == []
    assert not (await service.status(GUILD_ID)).enabled


async def test_preview_shows_exactly_what_the_day_would_queue(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha"), MemorySink("beta")])
    await _ready(db, events, service, enable=False)
    await finalise_day(db, events, 1, DAY1)  # final while off: nothing queued

    preview = await service.preview(GUILD_ID)
    assert preview.payload is not None and not preview.pending
    assert "May Steps" in preview.note

    await service.enable(GUILD_ID)
    await finalise_day(db, events, 1, DAY1)
    queued = (await PublishRepo(db).entries(1))[0]
    assert queued.payload == preview.payload

    pending = await service.preview(GUILD_ID)
    assert pending.pending and pending.payload == queued.payload


async def test_preview_explains_a_day_below_k(
    db: Database, clock: FakeClock, messenger: RecordingTransport, events: EventBus
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")], k=5)
    await _ready(db, events, service, count=5, opted_out=1, enable=False)
    await finalise_day(db, events, 1, DAY1)
    preview = await service.preview(GUILD_ID)
    assert preview.payload is None
    assert "4 player(s)" in preview.note and "at least 5" in preview.note


async def test_preview_without_any_final_day(
    db: Database, clock: FakeClock, messenger: RecordingTransport
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("alpha")])
    preview = await service.preview(GUILD_ID)
    assert preview.payload is None and "final" in preview.note


async def test_status_lists_every_sink_and_what_is_missing(
    db: Database, clock: FakeClock, messenger: RecordingTransport
) -> None:
    service = make_service(db, clock, messenger, [MemorySink("file")])
    status = await service.status(GUILD_ID)
    by_name = {s.name: s for s in status.sinks}
    assert set(by_name) == {"file", "mqtt", "streamr", "webhook"}
    assert by_name["file"].configured and by_name["file"].target == "memory sink file"
    assert not by_name["mqtt"].configured
    assert by_name["mqtt"].disabled_reason == "set PUBLISH__MQTT__HOST"
    assert not status.enabled and status.k == 5
