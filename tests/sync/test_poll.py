"""Intraday polling: every account in play is queued once per interval, spread evenly by a
stable hash; what pushes, what is not in play and what cannot be fetched is left out; a
provider's quota stretches its cycle."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

from bot.domain import AccountStatus, Metric
from bot.storage.accounts import AccountsRepo
from bot.sync.poll import (
    SLICE_SECONDS,
    PolledAccount,
    Poller,
    cycle_minutes,
    due_in_slice,
    turn_of,
)
from bot.sync.queue import SyncQueue
from tests.daily.world import World, day, local

INTERVAL = 30


def poller(world: World, queue: SyncQueue) -> Poller:
    return Poller(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        providers={"fake": world.provider},
        queue=queue,
        interval_minutes=INTERVAL,
    )


async def queued(world: World) -> dict[int, tuple[str, dt.datetime]]:
    rows = await world.db.fetch_all("SELECT account_id, reason, due_at FROM sync_queue")
    return {
        int(row["account_id"]): (row["reason"], dt.datetime.fromisoformat(row["due_at"]))
        for row in rows
    }


async def test_every_account_in_play_is_queued_once_per_interval(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    for n in range(1, 41):
        await world.add_player(challenge, n, f"P{n}")
    jobs = poller(world, queue)
    start = local(day(2), 10)

    per_minute = []
    seen: Counter[int] = Counter()
    for minute in range(INTERVAL):
        world.clock.set(start + dt.timedelta(minutes=minute, seconds=7))
        await jobs.run()
        rows = await queued(world)
        per_minute.append(len(rows))
        for reason, due in rows.values():
            assert reason == "poll"
            slice_start = start + dt.timedelta(minutes=minute)
            assert slice_start <= due < slice_start + dt.timedelta(seconds=SLICE_SECONDS)
        seen.update(rows.keys())
        await world.db.execute("DELETE FROM sync_queue")  # as if fetched

    assert len(seen) == 40 and set(seen.values()) == {1}
    assert max(per_minute) <= 6  # spread: 40 accounts over 30 minutes, no pile-up


async def test_the_turn_is_stable_and_spread() -> None:
    turns = [turn_of(account_id) for account_id in range(1, 3001)]
    assert turns == [turn_of(account_id) for account_id in range(1, 3001)]
    tenths = Counter(int(turn * 10) for turn in turns)
    assert all(250 <= count <= 350 for count in tenths.values())


async def test_only_accounts_that_can_and_must_be_fetched_are_polled(
    world: World, queue: SyncQueue
) -> None:
    running = await world.add_challenge(name="Running")
    later = await world.add_challenge(name="Later", start=day(10))
    await world.add_player(running, 1, "Playing")
    await world.add_player(later, 2, "Not yet")
    await world.add_player(running, 3, "Relink")
    await world.add_player(running, 4, "Left", joined=False)
    relink = await AccountsRepo(world.db, world.cipher).get(3, "fake")
    assert relink is not None
    await AccountsRepo(world.db, world.cipher).set_status(
        relink.id, AccountStatus.NEEDS_RELINK, world.clock.now()
    )

    polled = await poller(world, queue).polled(local(day(2), 10))

    playing = await AccountsRepo(world.db, world.cipher).get(1, "fake")
    assert playing is not None
    assert polled == {playing.id: PolledAccount("fake", frozenset({Metric.STEPS}))}


async def test_a_challenge_is_in_play_until_its_last_day_is_final(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge(days=3, grace_hours=24)
    await world.add_player(challenge, 1, "Alice")
    jobs = poller(world, queue)
    assert await jobs.polled(local(day(1), 0) - dt.timedelta(seconds=1)) == {}
    assert len(await jobs.polled(local(day(1), 0))) == 1
    assert len(await jobs.polled(local(day(5), 0) - dt.timedelta(seconds=1))) == 1
    assert await jobs.polled(local(day(5), 0)) == {}  # day 3's grace ended


async def test_metrics_the_provider_pushes_are_not_polled(world: World, queue: SyncQueue) -> None:
    steps = await world.add_challenge(name="Steps")
    minutes = await world.add_challenge(name="Minutes", metric=Metric.ACTIVE_MINUTES)
    await world.add_player(steps, 1, "Steps only")
    await world.add_player(minutes, 2, "Minutes")

    world.provider.info = replace(world.provider.info, push_metrics=frozenset({Metric.STEPS}))

    polled = await poller(world, queue).polled(local(day(2), 10))

    assert [item.metrics for item in polled.values()] == [frozenset({Metric.ACTIVE_MINUTES})]


def test_a_providers_quota_stretches_its_cycle() -> None:
    assert cycle_minutes(1_000, INTERVAL, None) == INTERVAL
    assert cycle_minutes(1_000, INTERVAL, 120) == INTERVAL  # 1,000 a cycle: within half of it
    assert cycle_minutes(6_000, INTERVAL, 120) == 100  # 60 requests a minute at most
    polled = {n: PolledAccount("withings", frozenset({Metric.STEPS})) for n in range(6_000)}
    start = dt.datetime(2026, 6, 2, 10, tzinfo=dt.UTC)
    counts = [
        len(due_in_slice(polled, start + dt.timedelta(minutes=m), INTERVAL)) for m in range(100)
    ]
    assert sum(counts) == 6_000 and max(counts) <= 90
