"""The orchestrator: scheduler jobs, start-up catch-up, an early end, players leaving mid-run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.daily import DailyRunner
from bot.daily.runner import SWEEP_JOB_ID
from bot.storage.privacy import PrivacyRepo
from bot.storage.runs import RunStatus
from tests.daily.conftest import Step
from tests.daily.world import CHANNEL, World, day, local


async def test_start_up_schedules_every_challenge_and_catches_up(world: World) -> None:
    first = await world.add_challenge(name="One")
    second = await world.add_challenge(name="Two", tz="Pacific/Auckland", post_time=dt.time(7, 30))
    await world.add_player(first, 1, "Alice")
    world.clock.set(local(day(3), 12))

    await world.runner.start()

    assert world.scheduler.job_ids() == sorted(
        [
            DailyRunner.job_id(first.id),
            DailyRunner.job_id(second.id),
            DailyRunner.final_job_id(first.id),
            DailyRunner.final_job_id(second.id),
            SWEEP_JOB_ID,
        ]
    )
    # One catch-up post per challenge, each for the two days missed in its own time zone.
    assert sorted(post.embed.title.split(" — ")[0] for post in world.messenger.posts) == [
        "One",
        "Two",
    ]
    for post in world.messenger.posts:
        assert post.channel_id == CHANNEL
        assert "Catching up on 2 days" in post.embed.description
    assert sorted(await world.runs.day_records(first.id)) == [day(1), day(2)]
    assert sorted(await world.runs.day_records(second.id)) == [day(1), day(2)]


async def test_a_post_time_that_does_not_exist_on_a_dst_day_still_gets_its_post(
    world: World,
) -> None:
    # Chile springs forward at 00:00 on 2026-09-06: that day has no 00:00, so the challenge's
    # own cron job does not fire then; the hourly sweep posts as soon as the day is due.
    santiago = "America/Santiago"
    challenge = await world.add_challenge(
        start=dt.date(2026, 9, 3), days=7, tz=santiago, post_time=dt.time(0, 0)
    )
    alice = await world.add_player(challenge, 1, "Alice", tz=santiago)
    for n in range(3, 6):
        world.provider.set(alice, dt.date(2026, 9, n), 5_000 + n)
    world.clock.set(local(dt.date(2026, 9, 5), 0, 30, tz=santiago))
    await world.runner.start()  # posts Sep 3 and Sep 4, and schedules the jobs
    posted = len(world.messenger.posts)

    since = world.clock.now()
    until = local(dt.date(2026, 9, 6), 2, 0, tz=santiago)
    world.clock.set(until)
    fired = await world.scheduler.fire_due(since, until)

    assert DailyRunner.job_id(challenge.id) not in fired  # APScheduler skipped the day
    assert SWEEP_JOB_ID in fired
    assert len(world.messenger.posts) == posted + 1
    assert "Sat 5 Sep" in world.messenger.posts[-1].embed.description


async def test_admin_ending_early_posts_results_for_the_days_played(world: World) -> None:
    challenge = await world.add_challenge(days=7)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 4_000)
    world.provider.set(alice, day(2), 5_000)
    world.provider.set(alice, day(3), 6_000)
    world.runner.subscribe(world.events)
    world.runner.schedule(challenge)
    await world.run_at(local(day(2), 9))

    world.clock.set(local(day(3), 15))
    await world.challenges.end(challenge.guild_id, challenge.name)
    await world.runner.wait_background()

    assert world.scheduler.job_ids() == []
    results = world.messenger.posts[-1].embed
    assert "final results" in results.title
    assert "9,000 steps" in results.description  # days 1 and 2; day 3 was not over
    scores = await world.scores(challenge.id)
    assert scores[(1, day(2))] == (5_000, True)
    assert (1, day(3)) not in scores
    await world.run_at(local(day(4), 9))
    assert len(world.messenger.posts) == 2


async def rows_about(world: World, discord_id: int) -> dict[str, int]:
    counts = {}
    for table in ("daily_values", "daily_scores", "streaks", "posted_ranks"):
        counts[table] = await world.db.fetch_value(
            f"SELECT COUNT(*) FROM {table} WHERE discord_id = ?",
            (discord_id,),
        )
    return {table: count for table, count in counts.items() if count}


def leaving_during(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
    user: str,
    leave: Callable[[], Awaitable[object]],
) -> None:
    """`leave()` runs at `moment` of the run: while the provider's answer for `user` is on its
    way back ("fetch"), while the standings are computed ("score"), or while the post is being
    sent ("post")."""
    if moment == "fetch":
        fetch = world.provider.fetch_daily

        async def fetch_then_leave(access_token: str, *args: Any, **kwargs: Any) -> Any:
            theirs = await world.provider.whoami(access_token) == user
            values = await fetch(access_token, *args, **kwargs)
            if theirs:
                await leave()
            return values

        monkeypatch.setattr(world.provider, "fetch_daily", fetch_then_leave)
    elif moment == "score":
        excluded_days = world.challenges.excluded_days

        async def leave_then_excluded(challenge_id: int) -> Any:
            await leave()
            return await excluded_days(challenge_id)

        monkeypatch.setattr(world.challenges, "excluded_days", leave_then_excluded)
    else:
        post = world.messenger.post

        async def post_then_leave(channel_id: int, **kwargs: Any) -> int:
            message_id = await post(channel_id, **kwargs)
            await leave()
            return message_id

        monkeypatch.setattr(world.messenger, "post", post_then_leave)


@pytest.mark.parametrize("moment", ["fetch", "score", "post"])
async def test_a_player_deleting_their_data_during_the_run_does_not_stop_the_post(
    world: World, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    # /privacy delete while the run is going used to break it on the foreign keys (values,
    # scores or posted ranks written for a user already gone): no post for anyone that day,
    # or a post sent but not recorded, so sent again by the next run.
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    for user in (alice, bob):
        world.provider.set(user, day(1), 6_000)
        world.provider.set(user, day(2), 7_000)
    leaving_during(world, monkeypatch, moment, bob, lambda: PrivacyRepo(world.db).delete_user(2))

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    assert "Alice · 6,000 steps" in post.embed.description
    if moment == "fetch":
        assert "Bob" not in post.embed.description  # gone before the standings were made
    assert await rows_about(world, 2) == {}
    records = await world.runs.day_records(challenge.id)
    assert records[day(1)].status is RunStatus.POSTED

    await world.run_at(local(day(3), 9))
    assert len(world.messenger.posts) == 2
    assert "Bob" not in world.messenger.posts[1].embed.description
    assert await rows_about(world, 2) == {}


async def test_a_player_leaving_during_the_run_gets_no_scores_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 6_000)
    world.provider.set(bob, day(1), 9_000)
    leaving_during(world, monkeypatch, "fetch", bob, lambda: world.players.remove(challenge.id, 2))

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    assert "Bob" not in post.embed.description
    assert await rows_about(world, 2) == {"daily_values": 1}  # his values are his and stay


async def test_results_come_at_the_post_time_after_the_last_day_is_final(
    world: World, step: Step
) -> None:
    # Grace 24 h, posts at 09:00: the last day (3 Jun) is final at 00:00 on 5 Jun, and the
    # results come at 09:00 that morning, not at midnight with the hourly sweep.
    challenge = await world.add_challenge(days=3, grace_hours=24)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in (1, 2, 3):
        world.provider.set(alice, day(n), 1_000 * n)
    await world.runner.start()
    for n in (2, 3, 4):
        await step(local(day(n), 9))
    assert len(world.messenger.posts) == 3  # days 1, 2 and 3

    await step(local(day(5), 0))
    assert world.finalised[-1] == (challenge.id, day(3))  # frozen now, but no results yet
    await step(local(day(5), 8, 59))
    assert len(world.messenger.posts) == 3
    fired = await step(local(day(5), 9))

    assert DailyRunner.job_id(challenge.id) in fired
    [results] = world.messenger.posts[3:]
    assert "final results" in results.embed.title
    assert "6,000 steps" in results.embed.description
    assert world.scheduler.job_ids() == [SWEEP_JOB_ID]  # closed: its jobs are gone


async def test_with_no_grace_the_results_come_with_the_last_days_post(
    world: World, step: Step
) -> None:
    # Grace 0: the last day is final at 00:00 on 4 Jun, and the first post time at or after
    # that is 09:00 the same morning, the last day's own post time: one results post.
    challenge = await world.add_challenge(days=3, grace_hours=0)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in (1, 2, 3):
        world.provider.set(alice, day(n), 1_000 * n)
    await world.runner.start()
    for n in (2, 3):
        await step(local(day(n), 9))
    await step(local(day(4), 0))
    assert len(world.messenger.posts) == 2
    assert world.finalised[-1] == (challenge.id, day(3))
    await step(local(day(4), 8, 59))
    assert len(world.messenger.posts) == 2

    await step(local(day(4), 9))

    [results] = world.messenger.posts[2:]
    assert "final results" in results.embed.title
    assert await world.runs.results_record(challenge.id) is not None
