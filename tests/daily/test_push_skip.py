"""Issue 12: a member whose provider pushes every metric and who synced after their day ended
costs the daily run no request, neither at the post time nor at the day's grace end: the
values the live sync stored are scored and frozen. Anything less (a queue row waiting, a
provider that does not push, a sync before the day ended) is fetched as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.domain import Metric
from bot.sync.queue import SETTLE, SyncQueue
from tests.daily.world import World, day, local
from tests.sync.conftest import make_queue


@pytest.fixture
async def queue(world: World) -> AsyncIterator[SyncQueue]:
    built = make_queue(world)
    yield built
    await built.aclose()


async def pushing_player(world: World, *, push: bool = True) -> tuple[int, str]:
    """A challenge (7 days from June 1, posts at 09:00, 24 h grace) with Alice, whose day 1
    and baseline the first post fetched; her provider pushes steps when `push`."""
    if push:
        world.provider.info = dataclasses.replace(
            world.provider.info, push_metrics=frozenset({Metric.STEPS})
        )
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9))  # day 1 and the baseline: fetched
    assert world.provider.calls_for(alice)
    return challenge.id, alice


async def live_sync(world: World, queue: SyncQueue, alice: str, at: dt.datetime) -> None:
    world.clock.set(at)
    assert await queue.request("fake", alice, reason="webhook") == 1
    world.clock.advance(SETTLE)
    await queue.run_due()
    assert await queue.waiting() == 0


async def test_a_member_synced_by_push_after_the_day_is_not_fetched_again(
    world: World, queue: SyncQueue
) -> None:
    challenge_id, alice = await pushing_player(world)
    world.provider.set(alice, day(2), 8_000)
    await live_sync(world, queue, alice, local(day(3), 1))
    calls = len(world.provider.calls_for(alice))
    world.provider.set(alice, day(2), 9_999)  # never asked for: nothing was pushed

    await world.run_at(local(day(3), 9))  # the post about day 2
    assert len(world.provider.calls_for(alice)) == calls
    assert (await world.scores(challenge_id))[(1, day(2))] == (8_000, False)

    await world.run_at(local(day(4), 0))  # day 2's grace end: frozen
    assert len(world.provider.calls_for(alice)) == calls
    assert (await world.scores(challenge_id))[(1, day(2))] == (8_000, True)


async def fetched_at_the_post(world: World, challenge_id: int, alice: str) -> None:
    calls = len(world.provider.calls_for(alice))
    world.provider.set(alice, day(2), 9_999)
    await world.run_at(local(day(3), 9))
    [call] = world.provider.calls_for(alice)[calls:]
    assert call.end == day(2)
    assert (await world.scores(challenge_id))[(1, day(2))] == (9_999, False)


async def test_a_member_with_a_queue_row_waiting_is_fetched(world: World, queue: SyncQueue) -> None:
    challenge_id, alice = await pushing_player(world)
    world.provider.set(alice, day(2), 8_000)
    await live_sync(world, queue, alice, local(day(3), 1))
    world.clock.set(local(day(3), 9) - SETTLE / 2)
    assert await queue.request("fake", alice, reason="webhook") == 1  # not settled yet
    assert await queue.waiting() == 1

    await fetched_at_the_post(world, challenge_id, alice)


async def test_a_member_of_a_provider_that_does_not_push_is_fetched(
    world: World, queue: SyncQueue
) -> None:
    challenge_id, alice = await pushing_player(world, push=False)
    world.provider.set(alice, day(2), 8_000)
    await live_sync(world, queue, alice, local(day(3), 1))

    await fetched_at_the_post(world, challenge_id, alice)


async def test_a_member_synced_before_the_day_ended_is_fetched(
    world: World, queue: SyncQueue
) -> None:
    challenge_id, alice = await pushing_player(world)
    world.provider.set(alice, day(2), 8_000)
    await live_sync(world, queue, alice, local(day(2), 23, 50))

    await fetched_at_the_post(world, challenge_id, alice)


async def test_a_member_whose_baseline_is_due_is_fetched_however_recently_synced(
    world: World, queue: SyncQueue
) -> None:
    world.provider.info = dataclasses.replace(
        world.provider.info, push_metrics=frozenset({Metric.STEPS})
    )
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(0), 4_000)  # the fortnight before the start
    await live_sync(world, queue, alice, local(day(2), 1))  # day 1 only: no baseline
    calls = len(world.provider.calls_for(alice))

    await world.run_at(local(day(2), 9))  # the first post: Alice's baseline is due

    [call] = world.provider.calls_for(alice)[calls:]
    assert call.start == day(1) - dt.timedelta(days=14)
    baseline = await world.db.fetch_value(
        "SELECT value FROM participant_baselines WHERE challenge_id = ? AND discord_id = 1",
        (challenge.id,),
    )
    assert baseline is not None
