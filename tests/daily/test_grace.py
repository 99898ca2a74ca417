"""The grace period, enforced by the clock: a day is final at its end plus the grace period
(real hours), fetched one last time at that instant by a job of its own and frozen from that
fetch. Every sync before that instant counts, none after, whatever runs come later."""

from __future__ import annotations

import datetime as dt

from bot.daily import DailyRunner
from tests.daily.conftest import Step
from tests.daily.world import UTC, World, day, local


async def day_one(world: World, challenge_id: int) -> tuple[float | None, bool]:
    """Alice's day 1 in the challenge: (value, final)."""
    return (await world.scores(challenge_id))[(1, day(1))]


async def test_a_sync_23_5_hours_after_the_day_counts_and_one_24_5_hours_after_does_not(
    world: World, step: Step
) -> None:
    challenge = await world.add_challenge(grace_hours=24)  # posts at 09:00 UTC
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.runner.start()
    await step(local(day(2), 9))
    assert await day_one(world, challenge.id) == (5_000, False)

    await step(local(day(2), 23, 30))
    world.provider.set(alice, day(1), 8_000)  # synced 23.5 hours after day 1 ended
    calls = len(world.provider.calls)
    fired = await step(local(day(3), 0))  # day 1's grace period ends
    assert DailyRunner.final_job_id(challenge.id) in fired
    # Fetched one last time at that instant, frozen, and not posted (that is at 09:00).
    assert any(c.start <= day(1) <= c.end for c in world.provider.calls[calls:])
    assert await day_one(world, challenge.id) == (8_000, True)
    assert world.finalised == [(challenge.id, day(1))]
    assert len(world.messenger.posts) == 1

    await step(local(day(3), 0, 30))
    world.provider.set(alice, day(1), 9_000)  # synced 24.5 hours after: too late
    await step(local(day(3), 9))

    assert await day_one(world, challenge.id) == (8_000, True)
    world.provider.set(alice, day(2), 1_000)
    await step(local(day(4), 9))
    assert "**9,000 steps**" in world.messenger.posts[-1].embed.description  # 8,000 + 1,000


async def test_with_no_grace_a_day_is_frozen_from_a_fetch_at_its_end(
    world: World, step: Step
) -> None:
    challenge = await world.add_challenge(grace_hours=0)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.runner.start()

    fired = await step(local(day(2), 0))
    assert DailyRunner.final_job_id(challenge.id) in fired
    assert await day_one(world, challenge.id) == (5_000, True)
    assert world.messenger.posts == []  # a day becoming final is no post

    world.provider.set(alice, day(1), 6_000)  # synced after the day ended: does not count
    await step(local(day(2), 9))
    [post] = world.messenger.posts
    assert "⏳" not in post.embed.title  # posted from the frozen values, as final
    assert "**5,000 steps**" in post.embed.description
    assert await day_one(world, challenge.id) == (5_000, True)
    assert world.finalised == [(challenge.id, day(1))]


async def test_a_grace_period_across_a_dst_change_is_counted_in_real_hours(
    world: World, step: Step
) -> None:
    """Sat 7 Mar ends at 08:00 UTC (midnight PST); 24 real hours later is 08:00 UTC on Mon
    9 Mar, 01:00 PDT, not midnight local time."""
    la = "America/Los_Angeles"
    start = dt.date(2026, 3, 7)
    challenge = await world.add_challenge(start=start, days=3, tz=la)
    alice = await world.add_player(challenge, 1, "Alice", tz=la)
    world.provider.set(alice, start, 5_000)
    world.clock.set(local(start, 0, tz=la))
    await world.runner.start()
    await step(local(dt.date(2026, 3, 8), 9, tz=la))  # 7 Mar posted, provisional

    await step(dt.datetime(2026, 3, 9, 7, 30, tzinfo=UTC))  # 00:30 PDT: 23.5 real hours
    world.provider.set(alice, start, 8_000)
    fired = await step(dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    assert DailyRunner.final_job_id(challenge.id) in fired
    await step(dt.datetime(2026, 3, 9, 8, 30, tzinfo=UTC))  # 24.5 real hours: too late
    world.provider.set(alice, start, 9_000)
    await step(local(dt.date(2026, 3, 9), 9, tz=la))

    assert (await world.scores(challenge.id))[(1, start)] == (8_000, True)
    assert world.finalised == [(challenge.id, start)]


async def test_the_day_is_frozen_at_the_grace_end_itself_not_at_the_next_hourly_sweep(
    world: World, step: Step
) -> None:
    """Kolkata is UTC+05:30: its days end at 18:30 UTC, half-way between two sweeps."""
    kolkata = "Asia/Kolkata"
    challenge = await world.add_challenge(tz=kolkata, grace_hours=24)
    alice = await world.add_player(challenge, 1, "Alice", tz=kolkata)
    world.provider.set(alice, day(1), 5_000)
    world.clock.set(local(day(1), 0, tz=kolkata))
    await world.runner.start()
    await step(local(day(2), 9, tz=kolkata))

    grace_end = dt.datetime(2026, 6, 2, 18, 30, tzinfo=UTC)
    assert grace_end == local(day(3), 0, tz=kolkata)
    await step(grace_end - dt.timedelta(minutes=30))  # the sweep at 18:00 UTC
    fired = await step(grace_end)
    assert fired == [DailyRunner.final_job_id(challenge.id)]
    await step(grace_end + dt.timedelta(minutes=10))
    world.provider.set(alice, day(1), 7_000)  # ten minutes too late
    fired = await step(grace_end + dt.timedelta(minutes=30))  # the sweep at 19:00 UTC
    assert "daily-run-sweep" in fired

    assert await day_one(world, challenge.id) == (5_000, True)


async def test_a_run_that_happens_later_never_changes_a_frozen_day(
    world: World, step: Step
) -> None:
    challenge = await world.add_challenge(grace_hours=24)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(bob, day(1), 4_000)
    world.runner.subscribe(world.events)
    await world.runner.start()
    await step(local(day(2), 9))  # day 1 posted, provisional
    await step(local(day(3), 0))  # its grace period ends: frozen
    frozen = await world.scores(challenge.id)
    assert frozen[(1, day(1))] == (5_000, True)

    world.provider.set(alice, day(1), 20_000)  # a late sync, after the grace period
    await step(local(day(3), 0, 5))
    await world.runner.run_due()  # by hand
    await step(local(day(3), 9))  # day 2's post
    await world.scheduler.run_now(DailyRunner.job_id(challenge.id))  # the job, fired again
    await step(local(day(4), 9))
    world.clock.set(local(day(4), 15))
    await world.challenges.end(challenge.guild_id, challenge.name)  # results of days 1-3
    await world.runner.wait_background()

    scores = await world.scores(challenge.id)
    assert {key: scores[key] for key in frozen if key[1] == day(1)} == {
        (1, day(1)): (5_000, True),
        (2, day(1)): (4_000, True),
    }
    assert world.finalised.count((challenge.id, day(1))) == 1
    results = world.messenger.posts[-1].embed
    assert "final results" in results.title
    assert "20,000" not in results.description
    assert results.description.index("Alice") < results.description.index("Bob")
