"""`/sync`: the member's accounts fetched now and waited for, once per cooldown."""

from __future__ import annotations

import datetime as dt

from bot.sync.member import MemberSync, RefreshStatus
from bot.sync.queue import SyncQueue
from bot.sync.worker import SyncStatus
from tests.daily.world import World, day, local
from tests.sync.conftest import Gate, make_queue

COOLDOWN = dt.timedelta(minutes=10)


def member_sync(world: World, queue: SyncQueue, wait_seconds: float = 5.0) -> MemberSync:
    return MemberSync(
        db=world.db,
        clock=world.clock,
        queue=queue,
        providers={"fake": world.provider},
        cooldown=COOLDOWN,
        wait_seconds=wait_seconds,
    )


async def test_sync_fetches_now_and_then_waits_for_the_cooldown(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(2), 14, 5))
    world.provider.set(alice, day(2), 8_800)
    await queue.start()
    refresh = member_sync(world, queue)

    first = await refresh.refresh(1)

    assert first.status is RefreshStatus.DONE
    [account] = first.accounts
    assert account.provider == "fake" and account.outcome is not None
    assert account.outcome.status is SyncStatus.SYNCED
    assert first.try_again_at == local(day(2), 14, 15)
    stored = await world.db.fetch_value(
        "SELECT value FROM daily_values WHERE day = ?", (day(2).isoformat(),)
    )
    assert stored == 8_800

    world.clock.advance(dt.timedelta(minutes=4))
    again = await refresh.refresh(1)
    assert again.status is RefreshStatus.COOLING_DOWN
    assert again.try_again_at == local(day(2), 14, 15)
    assert len(world.provider.calls_for(alice)) == 1

    world.clock.advance(dt.timedelta(minutes=6))
    assert (await refresh.refresh(1)).status is RefreshStatus.DONE
    assert len(world.provider.calls_for(alice)) == 2


async def test_a_member_without_an_account_is_told_so_without_a_cooldown(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice", linked=False)

    refresh = await member_sync(world, queue).refresh(1)

    assert refresh.status is RefreshStatus.NO_ACCOUNTS
    assert await world.db.fetch_value("SELECT COUNT(*) FROM member_syncs") == 0


async def test_a_slow_provider_gets_an_answer_in_time_and_the_fetch_goes_on(
    world: World,
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(2), 14))
    world.provider.set(alice, day(2), 5_100)
    gate = Gate(world.tokens.call_with_token)
    queue = make_queue(world, call_with_token=gate)
    await queue.start()

    refresh = await member_sync(world, queue, wait_seconds=0.01).refresh(1)

    assert refresh.status is RefreshStatus.STILL_RUNNING
    assert [account.outcome for account in refresh.accounts] == [None]
    gate.open()
    await queue.aclose()  # lets the fetch in flight finish
    stored = await world.db.fetch_value("SELECT value FROM daily_values")
    assert stored == 5_100
