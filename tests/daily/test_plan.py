"""Planning: which days are due and when, catching up after downtime, never doing a day twice."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.notify import ChannelUnavailable
from bot.storage.runs import RunKind, RunStatus
from tests.daily.world import UTC, World, day, local


async def test_running_the_same_day_twice_changes_and_posts_nothing(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9, 0))
    before = await world.snapshot()
    calls = len(world.provider.calls)

    world.provider.set(alice, day(1), 7_000)  # even with new data, the day is done
    await world.run_at(local(day(2), 9, 0))
    await world.run_at(local(day(2), 17, 30))

    assert len(world.messenger.posts) == 1
    assert len(world.provider.calls) == calls
    assert await world.snapshot() == before


async def test_three_day_outage_scores_each_day_once_in_order_and_posts_once(
    world: World,
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 6):
        world.provider.set(alice, day(n), 1_000 * n)
    await world.run_at(local(day(2), 9))  # posts day 1
    # Down from before day 3's post until after day 5's: days 2, 3 and 4 were missed.
    await world.run_at(local(day(5), 10, 30))

    assert len(world.messenger.posts) == 2
    catch_up = world.messenger.posts[1].embed
    assert "Catching up on 3 days" in catch_up.description
    assert [name for name, _, _ in catch_up.fields] == ["Tue 2 Jun", "Wed 3 Jun", "Thu 4 Jun ⏳"]
    records = await world.runs.day_records(challenge.id)
    assert sorted(records) == [day(1), day(2), day(3), day(4)]
    assert [records[day(n)].kind for n in (2, 3, 4)] == [RunKind.CATCH_UP] * 3
    assert all(r.status is RunStatus.POSTED for r in records.values())
    assert records[day(4)].message_id == records[day(2)].message_id
    # One fetch for the missed days, not one per day.
    assert len(world.provider.calls_for(alice)) == 2
    # Days whose grace period passed were finalised once each, in order.
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]
    scores = await world.scores(challenge.id)
    assert scores[(1, day(3))] == (3_000, True)
    assert scores[(1, day(4))] == (4_000, False)

    await world.run_at(local(day(5), 11))
    assert len(world.messenger.posts) == 2


@pytest.mark.parametrize(
    ("tz", "start", "post_instants_utc"),
    [
        # Los Angeles springs forward on Sun 8 Mar 2026: 09:00 local is 17:00 UTC, then 16:00.
        (
            "America/Los_Angeles",
            dt.date(2026, 3, 6),
            [
                dt.datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
                dt.datetime(2026, 3, 8, 16, 0, tzinfo=UTC),
                dt.datetime(2026, 3, 9, 16, 0, tzinfo=UTC),
            ],
        ),
        # Auckland falls back on Sun 5 Apr 2026: 09:00 local is 20:00 UTC the day before,
        # then 21:00.
        (
            "Pacific/Auckland",
            dt.date(2026, 4, 3),
            [
                dt.datetime(2026, 4, 3, 20, 0, tzinfo=UTC),
                dt.datetime(2026, 4, 4, 21, 0, tzinfo=UTC),
                dt.datetime(2026, 4, 5, 21, 0, tzinfo=UTC),
            ],
        ),
    ],
)
async def test_posts_follow_local_post_time_across_dst(
    world: World, tz: str, start: dt.date, post_instants_utc: list[dt.datetime]
) -> None:
    challenge = await world.add_challenge(start=start, days=3, tz=tz)
    alice = await world.add_player(challenge, 1, "Alice", tz=tz)
    for n in range(1, 4):
        world.provider.set(alice, day(n, start), 1_000 * n)
    minute = dt.timedelta(minutes=1)
    for n, instant in enumerate(post_instants_utc, start=1):
        await world.run_at(instant - minute)
        assert len(world.messenger.posts) == n - 1
        await world.run_at(instant)
        assert len(world.messenger.posts) == n
        assert f"day {n} of 3" in world.messenger.posts[-1].embed.description


async def test_results_post_that_failed_after_an_early_end_is_retried(world: World) -> None:
    challenge = await world.add_challenge(days=7)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 4_000)
    world.runner.subscribe(world.events)
    world.clock.set(local(day(2), 15))
    world.messenger.fail_with = ChannelUnavailable("gone")
    await world.challenges.end(challenge.guild_id, challenge.name)
    await world.runner.wait_background()
    record = await world.runs.results_record(challenge.id)
    assert record is not None and record.status is RunStatus.FAILED

    world.messenger.fail_with = None
    await world.run_at(local(day(3), 9))
    await world.run_at(local(day(4), 9))
    [post] = world.messenger.posts
    assert "final results" in post.embed.title
