"""The fetch step: one fetch per account for every challenge, on a bounded pool; failures
and odd answers stay with the player they concern; new values go to the fair-play review."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from bot.challenges.model import Challenge
from bot.crypto import TokenCipher
from bot.daily.baselines import own_baselines
from bot.daily.fetch import FetchFailure, FetchJob, FetchOutcome
from bot.domain import AccountStatus, DailyValue, Metric, ScoringMode
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.storage.engine.postgres import POOL_SIZE
from bot.storage.values import BaselineRow
from tests.daily.world import JUNE_1, UTC, World, day, local


async def test_one_revoked_player_does_not_stop_the_others(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    carol = await world.add_player(challenge, 3, "Carol")
    dave = await world.add_player(challenge, 4, "Dave")
    for user in (alice, bob, carol, dave):
        world.provider.set(user, day(1), 6_000)
    world.provider.revoked.add(bob)
    world.provider.unavailable.add(carol)
    world.provider.garbage.add(dave)

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    rows = post.embed.description.splitlines()
    assert any("Alice" in row and "6,000 steps" in row for row in rows)
    for name in ("Bob", "Carol", "Dave"):
        assert any(name in row and "no data yet" in row for row in rows)
    account = await AccountsRepo(world.db, world.cipher).get(2, "fake")
    assert account is not None and account.status is AccountStatus.NEEDS_RELINK
    assert [dm.user_id for dm in world.messenger.dms] == [2]

    # Bob is not asked again until he re-links; Carol and Dave are retried.
    world.provider.unavailable.clear()
    await world.run_at(local(day(3), 9))
    assert len(world.provider.calls_for(bob)) == 1
    assert len(world.provider.calls_for(carol)) == 2
    assert [dm.user_id for dm in world.messenger.dms] == [2]


async def test_odd_provider_values_are_dropped_not_stored(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.unasked[alice] = [
        DailyValue(Metric.STEPS, day(1), float("nan")),
        DailyValue(Metric.STEPS, day(1), float("inf")),
        DailyValue(Metric.FLOORS, day(1), 300),  # a metric not asked for
        DailyValue(Metric.STEPS, day(2), 4_000),  # a day not asked for
    ]
    await world.run_at(local(day(2), 9))
    [post] = world.messenger.posts
    assert "Alice · no data yet" in post.embed.description
    rows = await world.db.fetch_all("SELECT metric, day FROM daily_values")
    assert [tuple(row) for row in rows] == []


async def test_players_in_several_challenges_are_fetched_once(world: World) -> None:
    steps = await world.add_challenge(name="Steps")
    floors = await world.add_challenge(name="Floors", metric=Metric.FLOORS)
    manual = await world.add_challenge(name="Anything goes", allow_manual=True)
    alice = await world.add_player(steps, 1, "Alice")
    await world.add_player(floors, 1, "Alice")
    await world.add_player(manual, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set_manual(alice, day(1), 2_000)
    world.provider.set(alice, day(1), 12, metric=Metric.FLOORS)

    await world.run_at(local(day(2), 9))

    calls = world.provider.calls_for(alice)
    # Once without manual entries (Steps, Floors), once with them (Anything goes).
    assert sorted(call.include_manual for call in calls) == [False, True]
    assert all(set(call.metrics) == {Metric.STEPS, Metric.FLOORS} for call in calls)
    by_channel = [post.embed.description for post in world.messenger.posts]
    assert len(by_channel) == 3
    assert "5,000 steps" in by_channel[0]
    assert "12 floors" in by_channel[1]
    assert "7,000 steps" in by_channel[2]


async def test_fetches_run_on_a_bounded_pool(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher, concurrency=4)
    challenge = await world.add_challenge()
    for player in range(1, 31):
        user = await world.add_player(challenge, player, f"P{player}")
        world.provider.set(user, day(1), 1_000 * player)
    world.provider.hold_until = 4
    tasks_before = len(asyncio.all_tasks())
    await world.run_at(local(day(2), 9))
    assert len(world.provider.calls) == 30
    assert world.provider.max_in_flight == 4  # four at once, never more
    # A pool, not a task per player; on PostgreSQL asyncpg also hands each pooled connection
    # back in a short task of its own (at most one per connection, never one per player).
    engine_tasks = POOL_SIZE if db.engine == "postgresql" else 0
    assert world.provider.max_tasks <= tasks_before + 4 + engine_tasks
    [post] = world.messenger.posts
    assert post.embed.description.count("\n`") >= 25


async def test_the_first_run_fetches_every_players_baseline_once(world: World) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    for n in range(1, 15):
        world.provider.set(alice, JUNE_1 - dt.timedelta(days=n), 5_000)
        world.provider.set(bob, JUNE_1 - dt.timedelta(days=n), 10_000)
    world.provider.set(alice, day(1), 7_500)  # +50 % on her usual
    world.provider.set(bob, day(1), 11_000)  # +10 %
    await world.run_at(local(day(2), 9))
    first_call = world.provider.calls_for(alice)[0]
    assert (first_call.start, first_call.end) == (JUNE_1 - dt.timedelta(days=14), day(1))
    rows = world.messenger.posts[0].embed.description.splitlines()
    assert next(row for row in rows if "Alice" in row).startswith("`1.`")
    assert "+50.0%" in world.messenger.posts[0].embed.description
    # Kept: the next runs fetch only the days (day 1 again, still provisional).
    await world.run_at(local(day(3), 9))
    second_call = world.provider.calls_for(alice)[1]
    assert (second_call.start, second_call.end) == (day(1), day(2))
    assert "+50.0%" in world.messenger.posts[1].embed.description


async def test_players_days_are_their_own_civil_dates(world: World) -> None:
    """An Auckland player in a Los Angeles challenge: their provider reports days in
    Auckland, and those dates count as they come."""
    challenge = await world.add_challenge(tz="America/Los_Angeles")
    kiwi = await world.add_player(challenge, 1, "Kiwi", tz="Pacific/Auckland")
    local_player = await world.add_player(challenge, 2, "Angeleno", tz="America/Los_Angeles")
    world.provider.set(kiwi, day(1), 9_000)
    world.provider.set(local_player, day(1), 4_000)
    await world.run_at(local(day(2), 9, tz="America/Los_Angeles"))
    [kiwi_call] = world.provider.calls_for(kiwi)
    assert kiwi_call.user_tz == ZoneInfo("Pacific/Auckland")
    assert world.provider.calls_for(local_player)[0].user_tz == ZoneInfo("America/Los_Angeles")
    assert (await world.scores(challenge.id))[(1, day(1))] == (9_000, False)


async def test_fair_play_flags_new_values_and_leaves_excluded_days_out(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 150_000)  # above any plausible day
    world.provider.set(bob, day(1), 9_000)
    await world.run_at(local(day(2), 9))
    [flag] = await world.challenges.pending_reviews(challenge.id)
    assert (flag.discord_id, flag.day, flag.value) == (1, day(1), 150_000)
    assert world.messenger.posts[0].embed.description.index("Alice") < (
        world.messenger.posts[0].embed.description.index("Bob")
    )  # pending flags still count until an admin decides

    await world.challenges.decide_review(
        challenge.guild_id, flag.review_id, exclude=True, reviewed_by=99
    )
    world.provider.set(alice, day(2), 3_000)
    await world.run_at(local(day(3), 9))
    text = world.messenger.posts[-1].embed.description
    alice_row = next(row for row in text.splitlines() if "Alice" in row)
    assert "**3,000 steps**" in alice_row
    assert next(row for row in text.splitlines() if "Bob" in row).startswith("`1.`")


def fetched_fortnight(discord_id: int, values: tuple[DailyValue, ...]) -> FetchOutcome:
    """What one fetch of a player's fortnight before 1 Jun answered, asked both ways."""
    now = dt.datetime(2026, 6, 2, 9, tzinfo=UTC)
    account = LinkedAccount(
        discord_id, discord_id, "fake", f"user{discord_id}", AccountStatus.ACTIVE, now, (),
        None, None, now,
    )  # fmt: skip
    window = (JUNE_1 - dt.timedelta(days=14), day(1))
    job = FetchJob(account, ZoneInfo("UTC"), {Metric.STEPS}, *window, {False, True})
    return FetchOutcome(job, values)


async def test_a_baseline_comes_from_its_own_challenges_answer_alone(world: World) -> None:
    """One fetch for two challenges asks the provider with and without manual entries: each
    challenge's baseline comes from the answer asked for it, even where the other is higher
    (the values stored for both are merged by max, so reading them back would mix them)."""
    manual = await world.add_challenge(
        name="Manual", mode=ScoringMode.IMPROVEMENT, allow_manual=True
    )
    strict = await world.add_challenge(name="Strict", mode=ScoringMode.IMPROVEMENT)
    fortnight = [JUNE_1 - dt.timedelta(days=n) for n in range(1, 15)]
    alice = fetched_fortnight(
        1,
        tuple(DailyValue(Metric.STEPS, d, 6_000, includes_manual=True) for d in fortnight)
        + tuple(DailyValue(Metric.STEPS, d, 9_000, includes_manual=False) for d in fortnight),
    )
    bob = FetchOutcome(fetched_fortnight(2, ()).job, failure=FetchFailure.UNAVAILABLE)
    providers = {"fake": world.provider}

    def baselines(challenge: Challenge) -> list[BaselineRow]:
        rules = world.challenges.rules(challenge)
        return own_baselines(challenge, rules, {1, 2, 3}, [alice, bob], providers)

    # Bob's fetch failed and Carol has no account: theirs wait for the next fetch.
    assert baselines(manual) == [BaselineRow(manual.id, 1, 6_000)]
    assert baselines(strict) == [BaselineRow(strict.id, 1, 9_000)]
