"""The live standings (`StandingsReader.current`): through today, today provisional, with each
player's last sync; what a sync stores shows at the next read."""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric
from bot.storage.accounts import AccountsRepo
from bot.storage.values import FetchedValue, ValuesRepo
from tests.daily.world import World, day, local


async def synced(world: World, discord_id: int, when: dt.date, steps: float) -> None:
    """What the sync queue stores for a player's fetch: the value, and the sync time."""
    account = await AccountsRepo(world.db, world.cipher).get(discord_id, "fake")
    assert account is not None
    value = FetchedValue(discord_id, "fake", DailyValue(Metric.STEPS, when, steps))
    await ValuesRepo(world.db).store_fetched([value], [account.id], world.clock.now())


async def test_the_live_standings_count_today_so_far_as_provisional(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 4_000)
    world.provider.set("user2", day(1), 6_000)
    await world.run_at(local(day(2), 9))  # day 1 posted: Bob first
    world.clock.set(local(day(2), 15, 30))
    await synced(world, 1, day(2), 5_000)

    board = await world.standings.current(challenge)

    assert board.day == day(2) and board.standings.through == day(2)
    assert board.standings.provisional_days >= {day(2)}
    alice_now = next(p for p in board.standings.players if p.player_id == 1)
    assert (alice_now.rank, alice_now.score, alice_now.daily_values[day(2)]) == (1, 9_000, 5_000)
    assert board.previous_ranks == {1: 2, 2: 1}  # the ranks this morning's post showed
    assert board.synced_at == {1: local(day(2), 15, 30), 2: local(day(2), 9)}


async def test_a_sync_shows_at_the_next_read(world: World) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 11))
    await synced(world, 1, day(1), 1_200)
    before = await world.standings.current(challenge)
    world.clock.set(local(day(1), 17))
    await synced(world, 1, day(1), 7_800)

    after = await world.standings.current(challenge)

    assert [p.score for p in before.standings.players] == [1_200]
    assert [p.score for p in after.standings.players] == [7_800]
    assert after.synced_at == {1: local(day(1), 17)}


async def test_today_is_the_challenges_own_day(world: World) -> None:
    # Half past midnight in Auckland is its day 2, while UTC is still at noon on day 1.
    challenge = await world.add_challenge(tz="Pacific/Auckland")
    await world.add_player(challenge, 1, "Alice")
    world.clock.set(local(day(1), 0, tz="Pacific/Auckland") - dt.timedelta(minutes=1))
    before = await world.standings.current(challenge)
    assert before.day is None and before.post() is None  # not started: no standings yet
    world.clock.set(local(day(1), 12, 30, tz="Pacific/Auckland"))
    assert (await world.standings.current(challenge)).day == day(1)
    world.clock.set(local(day(2), 0, 30, tz="Pacific/Auckland"))
    assert (await world.standings.current(challenge)).day == day(2)
