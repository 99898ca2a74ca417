"""Scoring: provisional and final days, the grace period, one transaction per challenge."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.storage.values import ScoreRow, ValuesRepo
from tests.daily.world import JUNE_1, UTC, World, day, local


async def test_late_sync_changes_a_provisional_day_but_never_a_final_one(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)

    # The watch syncs the rest of day 1 late, still within the grace period.
    world.provider.set(alice, day(1), 8_000)
    await world.run_at(local(day(3), 9))  # day 1's grace ended at midnight: now final
    assert (await world.scores(challenge.id))[(1, day(1))] == (8_000, True)
    assert world.finalised == [(challenge.id, day(1))]

    # Too late: day 1 is final and stays as it was.
    world.provider.set(alice, day(1), 20_000)
    world.provider.set(alice, day(3), 1_000)
    await world.run_at(local(day(4), 9))
    scores = await world.scores(challenge.id)
    assert scores[(1, day(1))] == (8_000, True)
    assert scores[(1, day(3))] == (1_000, False)
    latest = world.provider.calls_for(alice)[-1]
    assert latest.start == day(2)  # final days are not even fetched again
    assert "9,000 steps" in world.messenger.posts[-1].embed.description  # 8,000 + 1,000


async def test_grace_hours_decide_when_a_day_is_final(world: World) -> None:
    challenge = await world.add_challenge(grace_hours=48)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(3), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)
    world.provider.set(alice, day(1), 6_000)
    await world.run_at(local(day(4), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (6_000, True)


async def test_dst_never_stretches_the_grace_period(world: World) -> None:
    """Sat 7 Mar ends at 08:00 UTC (PST); 24 real hours later is 01:00 PDT on Mon 9 Mar."""
    start = dt.date(2026, 3, 7)
    challenge = await world.add_challenge(
        start=start, days=3, tz="America/Los_Angeles", post_time=dt.time(0, 30)
    )
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, start, 5_000)
    await world.run_at(dt.datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert (await world.scores(challenge.id))[(1, start)] == (5_000, False)
    await world.run_at(dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))  # not yet due: no new day
    await world.run_at(dt.datetime(2026, 3, 10, 7, 30, tzinfo=UTC))  # next post: 00:30 PDT
    assert (await world.scores(challenge.id))[(1, start)] == (5_000, True)
    assert world.finalised[0] == (challenge.id, start)


async def test_crash_between_fetch_and_score_leaves_no_partial_scores(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.daily.standings as standings_module

    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(standings_module, "compute_standings", crash)
    await world.run_at(local(day(2), 9))
    assert await world.scores(challenge.id) == {}
    assert await world.runs.day_records(challenge.id) == {}
    assert world.messenger.posts == []

    monkeypatch.undo()
    await world.run_at(local(day(2), 9, 5))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)
    assert len(world.messenger.posts) == 1


async def test_crash_inside_the_scoring_transaction_rolls_everything_back(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 6_000)
    await world.run_at(local(day(2), 9))

    async def crash(challenge_id: int, day: dt.date) -> None:
        raise RuntimeError("the outbox handler failed")

    world.events.on("day_finalised", crash)  # day 1 becomes final in the next run
    before = await world.scores(challenge.id)
    await world.run_at(local(day(3), 9))
    assert await world.scores(challenge.id) == before
    assert sorted(await world.runs.day_records(challenge.id)) == [day(1)]
    assert len(world.messenger.posts) == 1

    world.events.off("day_finalised", crash)
    await world.run_at(local(day(3), 9, 1))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, True)
    assert len(world.messenger.posts) == 2


async def test_a_late_joiner_of_a_backfilling_challenge_counts_from_the_start(
    world: World,
) -> None:
    # Days that were final before he joined used to be neither fetched nor scored for him.
    challenge = await world.add_challenge(backfill=True, goal=6_000)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 5):
        world.provider.set(alice, day(n), 5_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 1 final
    await world.run_at(local(day(4), 9))  # day 2 final
    world.clock.set(local(day(4), 12))
    await world.add_player(challenge, 2, "Bob", joined=False)
    joined = await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    assert joined.participant.joined_on == JUNE_1
    for n in range(1, 5):
        world.provider.set("user2", day(n), 7_000)
    alice_before = {k: v for k, v in (await world.scores(challenge.id)).items() if k[0] == 1}

    await world.run_at(local(day(5), 9))

    text = world.messenger.posts[-1].embed.description
    bob_row = next(row for row in text.splitlines() if "Bob" in row)
    assert bob_row.startswith("`1.` Bob") and "**28,000 steps**" in bob_row
    assert "🔥4" in bob_row
    scores = await world.scores(challenge.id)
    assert scores[(2, day(1))] == scores[(2, day(2))] == (7_000, True)
    assert {k: v for k, v in scores.items() if k[0] == 1 and k[1] <= day(2)} == {
        k: v for k, v in alice_before.items() if k[1] <= day(2)
    }
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]  # each once
    calls = world.provider.calls_for(alice)
    await world.run_at(local(day(6), 9))  # caught up: final days are not fetched again
    assert world.provider.calls_for(alice)[len(calls)].start == day(4)


async def test_a_day_final_in_one_challenge_stays_put_while_another_still_fetches_it(
    world: World,
) -> None:
    """Daily values are shared: a challenge with a longer grace period keeps re-fetching a
    day that another challenge has already finalised. The final one must not move."""
    short = await world.add_challenge(name="Short grace", grace_hours=0)
    long = await world.add_challenge(name="Long grace", grace_hours=72)
    alice = await world.add_player(short, 1, "Alice")
    await world.add_player(long, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9))  # day 1 final in "Short grace" right away
    world.provider.set(alice, day(1), 9_000)
    await world.run_at(local(day(3), 9))  # "Long grace" fetches day 1 again

    assert (await world.scores(short.id))[(1, day(1))] == (5_000, True)
    assert (await world.scores(long.id))[(1, day(1))] == (9_000, False)
    short_post = next(p for p in reversed(world.messenger.posts) if "Short" in p.embed.title)
    assert "**5,000 steps**" in short_post.embed.description  # day 2 had no data


async def test_each_day_is_finalised_once_even_before_anyone_plays(world: World) -> None:
    challenge = await world.add_challenge()
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 1 over, but nobody's scores to freeze
    world.clock.set(local(day(3), 12))
    await world.add_player(challenge, 1, "Alice", joined=False)
    await world.challenges.join(challenge.guild_id, challenge.name, 1, "Alice")
    await world.run_at(local(day(4), 9))
    await world.run_at(local(day(5), 9))
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]


async def test_saving_scores_never_overwrites_a_final_row(world: World) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    repo = ValuesRepo(world.db)
    await repo.save_scores(challenge.id, [ScoreRow(1, day(1), 5_000, 5_000, False, True)])
    await repo.save_scores(challenge.id, [ScoreRow(1, day(1), 9_000, 9_000, True, False)])
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, True)
