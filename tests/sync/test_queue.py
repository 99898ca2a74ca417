"""The sync queue end to end over a real database: a notification becomes one fetch of the
member's days not frozen yet, stored at once; storms coalesce; a request during a fetch makes
exactly one more; failures back off; a restart loses nothing; concurrency is bounded."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.domain import AccountStatus, Metric
from bot.storage.accounts import AccountsRepo
from bot.storage.sync import SyncRepo
from bot.storage.values import ValuesRepo
from bot.sync.queue import SETTLE, SyncQueue
from bot.sync.worker import SyncStatus
from tests.daily.world import World, day, local
from tests.sync.conftest import Gate, make_queue


async def stored(world: World, discord_id: int, when: dt.date) -> float | None:
    value = await world.db.fetch_value(
        "SELECT value FROM daily_values WHERE discord_id = ? AND day = ?",
        (discord_id, when.isoformat()),
    )
    return None if value is None else float(value)


async def account_id(world: World, discord_id: int) -> int:
    account = await AccountsRepo(world.db, world.cipher).get(discord_id, "fake")
    assert account is not None
    return account.id


async def test_a_notification_fetches_the_days_not_frozen_today_included(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    for n, steps in enumerate((5_000, 6_000, 2_000), start=1):
        world.provider.set(alice, day(n), steps)
    await world.run_at(local(day(3), 9))  # posts day 2; day 1 is past its grace: frozen
    assert await ValuesRepo(world.db).final_days(challenge.id) == {day(1)}
    world.clock.set(local(day(3), 14, 5))
    world.provider.set(alice, day(3), 7_500)  # the watch synced mid-afternoon

    assert await queue.request("fake", alice, reason="webhook") == 1
    assert await queue.run_due() == []  # the notification settles first
    world.clock.advance(SETTLE)
    [outcome] = await queue.run_due()

    assert outcome.status is SyncStatus.SYNCED
    call = world.provider.calls_for(alice)[-1]
    assert (call.start, call.end, call.metrics) == (day(2), day(3), (Metric.STEPS,))
    assert await stored(world, 1, day(3)) == 7_500
    account = await AccountsRepo(world.db, world.cipher).get(1, "fake")
    assert account is not None and account.last_sync_at == world.clock.now()
    assert await queue.waiting() == 0


async def test_a_storm_of_notifications_for_one_member_is_one_fetch(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.clock.set(local(day(1), 15))
    storm = [queue.request("fake", user, reason="webhook") for user in [alice] * 40 + [bob] * 10]

    counts = await asyncio.gather(*storm, queue.request("fake", "stranger", reason="webhook"))
    world.clock.advance(SETTLE)
    await queue.run_due()

    assert counts == [1] * 50 + [0]
    assert len(world.provider.calls_for(alice)) == 1
    assert len(world.provider.calls_for(bob)) == 1


async def test_a_notification_during_a_fetch_makes_exactly_one_more_fetch(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    gate = Gate(world.tokens.call_with_token)
    queue = make_queue(world, call_with_token=gate)
    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    running = asyncio.create_task(queue.run_due())
    await gate.entered.wait()  # the fetch is in flight
    world.provider.set(alice, day(1), 9_000)
    for _ in range(3):
        await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)

    gate.open()
    outcomes = await running

    assert [o.status for o in outcomes] == [SyncStatus.SYNCED, SyncStatus.SYNCED]
    assert len(world.provider.calls_for(alice)) == 2
    assert await stored(world, 1, day(1)) == 9_000
    assert await queue.run_due() == []
    await queue.aclose()


async def test_nothing_is_fetched_for_a_member_with_no_running_challenge(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge(start=day(5))
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob", joined=False)
    world.clock.set(local(day(2), 15))  # before the start

    for user in (alice, bob):
        await queue.request("fake", user, reason="webhook")
    world.clock.advance(SETTLE)
    outcomes = await queue.run_due()

    assert {o.status for o in outcomes} == {SyncStatus.NOTHING_TO_FETCH}
    assert world.provider.calls == []
    assert await queue.waiting() == 0


async def test_a_provider_that_does_not_answer_is_tried_again_after_a_backoff(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    world.provider.unavailable.add(alice)
    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)

    [outcome] = await queue.run_due()

    assert outcome.status is SyncStatus.RETRYING
    assert outcome.retry_at == world.clock.now() + dt.timedelta(seconds=30)
    assert await queue.run_due() == []  # not before the backoff is over
    world.provider.unavailable.clear()
    world.provider.set(alice, day(1), 4_000)
    world.clock.advance(dt.timedelta(seconds=30))
    [retried] = await queue.run_due()
    assert retried.status is SyncStatus.SYNCED and await stored(world, 1, day(1)) == 4_000
    assert len(world.provider.calls_for(alice)) == 2


async def test_a_revoked_grant_is_not_tried_again(world: World, queue: SyncQueue) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    world.provider.revoked.add(alice)
    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)

    [outcome] = await queue.run_due()

    assert outcome.status is SyncStatus.FAILED and outcome.failure is not None
    assert await queue.waiting() == 0
    account = await AccountsRepo(world.db, world.cipher).get(1, "fake")
    assert account is not None and account.status is AccountStatus.NEEDS_RELINK
    assert await queue.request("fake", alice, reason="webhook") == 0


async def test_a_fetch_cut_short_by_a_stop_is_fetched_after_the_restart(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    world.provider.set(alice, day(1), 3_000)
    gate = Gate(world.tokens.call_with_token)
    before = make_queue(world, call_with_token=gate)
    await before.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    running = asyncio.create_task(before.run_due())
    await gate.entered.wait()
    await before.aclose(grace_seconds=0)  # stopped with the fetch in flight
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert await stored(world, 1, day(1)) is None and await before.waiting() == 1

    after = make_queue(world)  # the same host, started again
    synced = after.watch(await account_id(world, 1))
    await after.start()
    async with asyncio.timeout(5):
        outcome = await synced
    await after.aclose()

    assert outcome.status is SyncStatus.SYNCED
    assert await stored(world, 1, day(1)) == 3_000
    assert await after.waiting() == 0


async def test_another_hosts_dead_lease_is_taken_once_it_expires(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    queue = make_queue(world)
    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    await SyncRepo(world.db).claim(
        "dead-host", world.clock.now(), limit=1, lease=dt.timedelta(minutes=15)
    )

    assert await queue.run_due() == []
    world.clock.advance(dt.timedelta(minutes=15))
    assert [o.status for o in await queue.run_due()] == [SyncStatus.SYNCED]


async def test_fetches_run_on_a_bounded_pool(world: World) -> None:
    challenge = await world.add_challenge()
    users = [await world.add_player(challenge, n, f"P{n}") for n in range(1, 21)]
    world.clock.set(local(day(1), 15))
    world.provider.hold_until = 4  # calls wait until four are in flight at once
    queue = make_queue(world, concurrency=4)
    for user in users:
        await queue.request("fake", user, reason="webhook")
    world.clock.advance(SETTLE)

    outcomes = await queue.run_due()

    assert len(outcomes) == 20 and {o.status for o in outcomes} == {SyncStatus.SYNCED}
    assert world.provider.max_in_flight == 4
    assert sorted(call.user for call in world.provider.calls) == sorted(users)


async def test_one_fetch_serves_every_challenge_the_member_plays(
    world: World, queue: SyncQueue
) -> None:
    # 48 h grace: day 1 is not final yet on day 3 (a live fetch skips final days).
    steps = await world.add_challenge(name="Steps", grace_hours=48)
    minutes = await world.add_challenge(name="Minutes", metric=Metric.ACTIVE_MINUTES, start=day(2))
    alice = await world.add_player(steps, 1, "Alice")
    await world.players.add(minutes.id, 1, minutes.start, world.clock.now())
    world.clock.set(local(day(3), 15))

    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    await queue.run_due()

    [call] = world.provider.calls_for(alice)
    assert set(call.metrics) == {Metric.STEPS, Metric.ACTIVE_MINUTES}
    assert call.start <= day(1) and call.end == day(3)  # both challenges' days, one request


async def test_a_suspicious_live_value_is_flagged_for_review(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    world.provider.set(alice, day(1), 250_000)  # beyond any human's day

    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    await queue.run_due()
    await queue.aclose()  # the review runs off the fetch's path

    [flag] = await world.challenges.pending_reviews(challenge.id)
    assert (flag.discord_id, flag.day, flag.value) == (1, day(1), 250_000)


async def test_the_dispatcher_fetches_what_is_requested_while_it_runs(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 15))
    world.provider.set(alice, day(1), 6_500)
    await queue.start()

    synced = queue.watch(await account_id(world, 1))
    await queue.request("fake", alice, reason="webhook")
    world.clock.advance(SETTLE)
    async with asyncio.timeout(5):
        outcome = await synced

    assert outcome.status is SyncStatus.SYNCED
    assert await stored(world, 1, day(1)) == 6_500


async def test_each_member_whose_values_were_stored_is_announced(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    stranger = await world.add_player(challenge, 3, "Not playing", joined=False)
    world.clock.set(local(day(1), 15))
    for user in (alice, bob, stranger):
        world.provider.set(user, day(1), 4_000)
    world.provider.unavailable.add(bob)
    announced: list[int] = []

    async def on_synced(discord_id: int) -> None:
        announced.append(discord_id)

    world.events.on("member_synced", on_synced)
    queue = make_queue(world, events=world.events)
    for user in (alice, alice, bob, stranger):
        await queue.request("fake", user, reason="webhook")
    world.clock.advance(SETTLE)

    await queue.run_due()
    await queue.aclose()  # what follows a stored fetch runs off its path

    assert announced == [1]
