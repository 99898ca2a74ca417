"""Baselines: every player's own median of the 14 days before the challenge's start, fetched
for them when they join (late joiners too), and kept: nothing another challenge fetches
changes one challenge's scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.challenges.model import Challenge
from bot.crypto import TokenCipher
from bot.domain import ScoringMode
from bot.storage import Database
from bot.storage.values import ValuesRepo
from tests.daily.world import JUNE_1, World, day, local

WINDOW = (JUNE_1 - dt.timedelta(days=14), JUNE_1 - dt.timedelta(days=1))


def before_start(start: dt.date) -> list[dt.date]:
    return [start - dt.timedelta(days=n) for n in range(1, 15)]


async def usual_and_own(world: World, challenge: Challenge, discord_id: int) -> tuple[object, ...]:
    board = await world.standings.current(challenge)
    player = next(p for p in board.standings.players if p.player_id == discord_id)
    return player.baseline, player.baseline_is_own


async def improvement_with_alice(world: World) -> tuple[Challenge, str]:
    """An improvement challenge from 1 Jun; Alice usually walks 5,000 steps and walks 6,000."""
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    alice = await world.add_player(challenge, 1, "Alice")
    for when in before_start(JUNE_1):
        world.provider.set(alice, when, 5_000)
    for n in range(1, 8):
        world.provider.set(alice, day(n), 6_000)
    return challenge, alice


async def bob_linked(world: World, challenge: Challenge) -> str:
    """Bob, linked but not in the challenge yet: usually 10,000 steps, 12,000 now."""
    bob = await world.add_player(challenge, 2, "Bob", joined=False)
    for when in before_start(JUNE_1):
        world.provider.set(bob, when, 10_000)
    for n in range(1, 8):
        world.provider.set(bob, day(n), 12_000)
    return bob


async def test_a_late_joiner_gets_their_own_baseline_fetched_when_they_join(world: World) -> None:
    challenge, _alice = await improvement_with_alice(world)
    bob = await bob_linked(world, challenge)
    world.runner.subscribe(world.events)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))

    world.clock.set(local(day(3), 12))
    await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    assert world.provider.calls_for(bob) == []  # never inside the command
    await world.runner.wait_background()
    [call] = world.provider.calls_for(bob)
    assert (call.start, call.end) == WINDOW  # his fortnight, right after he joined

    await world.run_at(local(day(4), 9))
    assert await usual_and_own(world, challenge, 2) == (10_000, True)
    bob_row = next(
        r for r in world.messenger.posts[-1].embed.description.splitlines() if "Bob" in r
    )
    assert "+20.0%" in bob_row  # 12,000 on his own usual 10,000, not on Alice's 5,000
    assert await usual_and_own(world, challenge, 1) == (5_000, True)


async def test_a_baseline_whose_fetch_failed_at_the_join_is_fetched_by_the_next_run(
    world: World,
) -> None:
    challenge, _alice = await improvement_with_alice(world)
    bob = await bob_linked(world, challenge)
    world.runner.subscribe(world.events)
    await world.run_at(local(day(2), 9))
    world.clock.set(local(day(2), 12))
    world.provider.unavailable.add(bob)
    await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    await world.runner.wait_background()
    assert await ValuesRepo(world.db).players_without_baseline(challenge.id) == {2}

    world.provider.unavailable.clear()
    await world.run_at(local(day(3), 9))

    assert world.provider.calls_for(bob)[-1].start == WINDOW[0]
    assert await usual_and_own(world, challenge, 2) == (10_000, True)
    assert await ValuesRepo(world.db).players_without_baseline(challenge.id) == set()


@dataclass(frozen=True)
class Shown:
    """What a challenge showed and stored."""

    posts: list[tuple[str, str, object]]  # title, description, fields
    scores: dict[tuple[int, dt.date], tuple[float | None, bool]]
    standings: list[tuple[int, float, float | None, bool]]  # player, score, usual, own


async def play_usual_steps(world: World, *, with_early_steps: bool) -> Shown:
    """ "Usual Steps" (improvement, manual entries count, 15-21 Jun): Alice from the start,
    Bob from 17 Jun. With `with_early_steps`, both also play "Early Steps" (total, no manual
    entries, 8-21 Jun), whose days are the fortnight before Usual Steps starts. Returns what
    Usual Steps showed and stored."""
    start = dt.date(2026, 6, 15)
    usual = await world.add_challenge(
        name="Usual Steps", start=start, mode=ScoringMode.IMPROVEMENT, allow_manual=True
    )
    alice = await world.add_player(usual, 1, "Alice")
    bob = await world.add_player(usual, 2, "Bob", joined=False)
    if with_early_steps:
        early = await world.add_challenge(name="Early Steps", start=dt.date(2026, 6, 8), days=14)
        await world.add_player(early, 1, "Alice")
        await world.add_player(early, 2, "Bob")
    for n, when in enumerate(before_start(start)):
        world.provider.set(alice, when, 5_000 + 100 * n)
        world.provider.set(bob, when, 8_000 - 100 * n)
        world.provider.set_manual(bob, when, 2_000)  # logged by hand: counts in Usual Steps
    for n in range(1, 8):
        world.provider.set(alice, day(n, start), 6_000)
        world.provider.set(bob, day(n, start), 11_000)
    world.runner.subscribe(world.events)
    for when in [day(n, dt.date(2026, 6, 9)) for n in range(1, 16)]:
        await world.run_at(local(when, 9))
        if when == dt.date(2026, 6, 17):
            world.clock.set(local(when, 12))
            await world.challenges.join(usual.guild_id, "Usual Steps", 2, "Bob")
            await world.runner.wait_background()
    board = await world.standings.current(usual)
    return Shown(
        posts=[
            (p.embed.title, p.embed.description, p.embed.fields)
            for p in world.messenger.posts
            if "Usual Steps" in p.embed.title
        ],
        scores=await world.scores(usual.id),
        standings=[
            (p.player_id, p.score, p.baseline, p.baseline_is_own) for p in board.standings.players
        ],
    )


async def test_another_challenge_fetching_the_same_days_changes_nothing_in_this_one(
    db: Database, cipher: TokenCipher, tmp_path: Path
) -> None:
    alone = await play_usual_steps(World(db, cipher), with_early_steps=False)
    async with await Database.open(tmp_path / "beside.db") as other:
        await other.migrate()
        beside = await play_usual_steps(World(other, cipher), with_early_steps=True)

    assert beside == alone
    # Each their own fortnight under Usual Steps' policy (manual entries count): Bob's median
    # is 7,350 on the device plus 2,000 logged by hand, Alice's 5,650.
    assert alone.standings == [
        (2, pytest.approx((11_000 / 9_350 - 1) * 100), 9_350, True),
        (1, pytest.approx((6_000 / 5_650 - 1) * 100), 5_650, True),
    ]
    assert "final results" in alone.posts[-1][0]
