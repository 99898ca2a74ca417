"""The standings read model: who counts from when, and how streak challenges rank."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot.domain import ScoringMode
from bot.storage.accounts import AccountsRepo, UsersRepo
from tests.daily.world import UTC, World, day, local


async def test_streak_challenges_rank_by_best_streak(world: World) -> None:
    challenge = await world.add_challenge(days=4, mode=ScoringMode.GOAL_DAYS, goal=5_000)
    await world.repo.update(replace(challenge, preset="streak"))
    steady = await world.add_player(challenge, 1, "Steady")
    patchy = await world.add_player(challenge, 2, "Patchy")
    burst = await world.add_player(challenge, 3, "Burst")
    met, missed = 6_000, 1_000
    days = {
        steady: [met, met, met, met],
        patchy: [met, met, missed, met],
        burst: [missed, met, met, met],
    }
    for user, values in days.items():
        for n, value in enumerate(values, start=1):
            world.provider.set(user, day(n), value)
    await world.run_at(local(day(5), 9))
    rows = world.messenger.posts[-1].embed.description.splitlines()
    # Patchy and Burst met the goal on 3 days each; Burst's 3 in a row beat Patchy's 2.
    assert next(row for row in rows if "Steady" in row).startswith("`1.` Steady · **4 days**")
    assert next(row for row in rows if "Burst" in row).startswith("`2.` Burst · **3 days**")
    assert next(row for row in rows if "Patchy" in row).startswith("`3.` Patchy · **2 days**")


async def test_late_joiners_count_from_the_day_they_joined(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 5_000)
    await UsersRepo(world.db).ensure(2, world.clock.now(), "Late Larry")
    await world.players.add(challenge.id, 2, day(2), world.clock.now())
    await AccountsRepo(world.db, world.cipher).save_link(
        2,
        "fake",
        "user2",
        world.provider.grant("user2", expires_at=dt.datetime(2030, 1, 1, tzinfo=UTC)),
        world.clock.now(),
    )
    world.provider.set("user2", day(1), 50_000)  # before he joined: does not count
    world.provider.set("user2", day(2), 4_000)
    await world.run_at(local(day(3), 9))
    text = world.messenger.posts[-1].embed.description
    assert "**4,000 steps**" in next(row for row in text.splitlines() if "Larry" in row)


async def test_a_late_joiners_daily_average_counts_from_the_day_they_joined(
    world: World,
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.AVERAGE)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 5):
        world.provider.set(alice, day(n), 5_000)
        world.provider.set("user2", day(n), 6_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))
    world.clock.set(local(day(3), 12))
    await world.add_player(challenge, 2, "Bob", joined=False)
    joined = await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    assert joined.participant.joined_on == day(3)

    await world.run_at(local(day(5), 9))

    text = world.messenger.posts[-1].embed.description
    bob_row = next(row for row in text.splitlines() if "Bob" in row)
    # Days 1 and 2 were before he joined: not days he missed (12,000 / 4 would be 3,000).
    assert bob_row.startswith("`1.` Bob") and "**6,000 steps/day**" in bob_row
