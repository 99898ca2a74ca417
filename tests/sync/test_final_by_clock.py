"""A live fetch never asks for a day that is final by the clock, even before the daily run
has frozen it in storage: no value is written after a day's grace end."""

from __future__ import annotations

from bot.storage.values import ValuesRepo
from bot.sync.queue import SETTLE, SyncQueue
from bot.sync.worker import SyncStatus
from tests.daily.world import World, day, local


async def test_a_day_past_its_grace_end_is_not_fetched_before_it_is_frozen(
    world: World, queue: SyncQueue
) -> None:
    challenge = await world.add_challenge()  # 24 h grace: day 1 is final from day 3 00:00
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(3), 7_500)
    world.clock.set(local(day(3), 14))  # no daily run yet: nothing frozen in storage
    assert await ValuesRepo(world.db).final_days(challenge.id) == set()

    assert await queue.request("fake", alice, reason="webhook") == 1
    world.clock.advance(SETTLE)
    [outcome] = await queue.run_due()

    assert outcome.status is SyncStatus.SYNCED
    [call] = world.provider.calls_for(alice)
    assert (call.start, call.end) == (day(2), day(3))
    value = await world.db.fetch_value(
        "SELECT value FROM daily_values WHERE discord_id = 1 AND day = ?", (day(1).isoformat(),)
    )
    assert value is None
