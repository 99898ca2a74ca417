"""Posting: the daily, catch-up and results posts, their limits, failures and retries."""

from __future__ import annotations

import pytest

from bot.challenges.model import Challenge, ChallengeStatus
from bot.crypto import TokenCipher
from bot.notify import ChannelUnavailable
from bot.render.leaderboard import EmbedContent
from bot.render.text import (
    DESCRIPTION_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    discord_length,
)
from bot.storage import Database
from bot.storage.runs import RunStatus
from tests.daily.world import CHANNEL, World, day, local
from tests.doubles.messenger import Kill, Killed, Post


def check_limits(embed: EmbedContent) -> None:
    """Every Discord embed limit, field by field."""
    assert discord_length(embed.title) <= TITLE_LIMIT
    assert discord_length(embed.description) <= DESCRIPTION_LIMIT
    assert len(embed.fields) <= FIELD_COUNT_LIMIT
    for name, value, _inline in embed.fields:
        assert 0 < discord_length(name) <= FIELD_NAME_LIMIT
        assert 0 < discord_length(value) <= FIELD_VALUE_LIMIT
    assert discord_length(embed.footer) <= FOOTER_LIMIT
    assert embed.text_length() <= TOTAL_LIMIT


async def test_daily_post_shows_yesterday_with_a_chart(world: World) -> None:
    challenge = await world.add_challenge(goal=10_000)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    await world.add_player(challenge, 345678901234561234, None)  # no display name, no data
    world.provider.set(alice, day(1), 12_000)
    world.provider.set(bob, day(1), 8_000)

    await world.run_at(local(day(2), 8, 59))
    assert world.messenger.posts == []  # not yet its post time

    await world.run_at(local(day(2), 9, 0))
    [post] = world.messenger.posts
    assert post.channel_id == CHANNEL
    text = post.embed.description
    assert "Alice" in text and "12,000 steps ✓" in text
    assert "Bob" in text and "8,000 steps" in text
    assert "Player …1234 · no data yet" in text
    assert text.index("Alice") < text.index("Bob")
    assert "⏳" in post.embed.title  # yesterday is still provisional
    [chart] = post.files
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    check_limits(post.embed)


async def test_rank_changes_come_from_the_last_post(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 9_000)
    world.provider.set(bob, day(1), 5_000)
    await world.run_at(local(day(2), 9))
    world.provider.set(alice, day(2), 1_000)
    world.provider.set(bob, day(2), 9_000)
    await world.run_at(local(day(3), 9))

    first, second = world.messenger.posts
    assert "▲" not in first.embed.description  # nothing to compare with yet
    rows = second.embed.description.splitlines()
    bob_row = next(row for row in rows if "Bob" in row)
    alice_row = next(row for row in rows if "Alice" in row)
    assert bob_row.startswith("`1.`") and "▲1" in bob_row
    assert alice_row.startswith("`2.`") and "▼1" in alice_row


async def test_a_failed_post_is_recorded_and_retried_once(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.messenger.fail_with = ChannelUnavailable("I need Send Messages in <#555>")
    await world.run_at(local(day(2), 9))

    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.FAILED and record.error_code == "channel_unavailable"
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)

    world.messenger.fail_with = None
    await world.run_at(local(day(2), 12))
    await world.run_at(local(day(2), 13))
    assert len(world.messenger.posts) == 1
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.error_code is None


async def test_a_post_still_failing_next_day_becomes_one_catch_up(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 6_000)
    world.messenger.fail_with = ChannelUnavailable("gone")
    await world.run_at(local(day(2), 9))
    world.messenger.fail_with = None
    await world.run_at(local(day(3), 9))

    [post] = world.messenger.posts
    assert "Catching up on 2 days" in post.embed.description
    records = await world.runs.day_records(challenge.id)
    assert [r.status for r in records.values()] == [RunStatus.POSTED, RunStatus.POSTED]


async def test_posts_stay_within_discord_limits_with_many_long_names(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher, concurrency=32)
    challenge = await world.add_challenge(days=3, goal=8_000)
    for player in range(1, 301):
        name = f"🏃‍♀️ **Runner** {player} with a rather long name"
        user = await world.add_player(challenge, player, name)
        for n in range(1, 4):
            world.provider.set(user, day(n), 100 * player + n)
    await world.run_at(local(day(2), 9))  # daily post
    await world.run_at(local(day(4), 9, 30))  # catch-up of days 2 and 3
    await world.run_at(local(day(5), 9))  # results
    _daily, catch_up, results = world.messenger.posts
    assert "Catching up" in catch_up.embed.description
    assert "final results" in results.embed.title
    for post in world.messenger.posts:
        check_limits(post.embed)
        assert "…and" in post.embed.description  # the long tail is summarised, not cut off


async def test_results_post_once_when_the_last_day_is_final(world: World) -> None:
    challenge = await world.add_challenge(days=2, goal=6_000)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 7_000)
    world.provider.set(alice, day(2), 9_000)
    world.provider.set(bob, day(1), 6_500)
    world.provider.set(bob, day(2), 3_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 2's daily post; day 2 still provisional
    assert len(world.messenger.posts) == 2
    await world.run_at(local(day(4), 9))  # day 2 final since midnight: results
    await world.run_at(local(day(5), 9))
    assert len(world.messenger.posts) == 3
    results = world.messenger.posts[2].embed
    assert "final results" in results.title
    assert "🥇 **Alice**" in results.description
    awards = dict((name, value) for name, value, _ in results.fields)["Awards"]
    assert "Best single day: **Alice** — 9,000 steps" in awards
    assert "Longest streak: **Alice** — 2 days" in awards
    assert (await world.runs.results_record(challenge.id)) is not None
    assert world.finalised == [(challenge.id, day(1)), (challenge.id, day(2))]
    closed = await world.challenges.get(challenge.id)
    assert closed is not None and closed.status is ChallengeStatus.ENDED


async def test_a_post_due_before_discord_connects_waits_then_goes_out_once(
    db: Database, cipher: TokenCipher
) -> None:
    # Right after start-up the Discord client may not have connected yet: the post must not
    # be recorded as failed (an error code for nothing) nor as posted (never sent).
    world = World(db, cipher, client_connected=False)
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)

    for instant in (local(day(2), 9), local(day(2), 9, 30)):
        world.clock.set(instant)
        report = await world.runner.run_due()
        assert report.posts == {} and report.failed_posts == {} and report.errors == {}
        [record] = (await world.runs.day_records(challenge.id)).values()
        assert record.status is RunStatus.SCORED
        assert record.error_code is None and record.message_id is None
    assert world.messenger.posts == []
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)

    world.hub.attach(world.messenger)  # the client connects
    world.clock.set(local(day(2), 10))
    report = await world.runner.run_due()
    [post] = world.messenger.posts
    assert post.channel_id == CHANNEL
    assert "Alice · 5,000 steps" in post.embed.description
    assert report.posts == {challenge.id: post.message_id} and report.failed_posts == {}
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.message_id == post.message_id

    await world.run_at(local(day(2), 11))
    await world.run_at(local(day(3), 8))
    assert len(world.messenger.posts) == 1


# --- exactly once: a post in flight when the process dies ---------------------------------


async def _one_player_week(world: World) -> Challenge:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 8):
        world.provider.set(alice, day(n), 5_000 + 100 * n)
    return challenge


def _names(posts: list[Post]) -> list[str]:
    return [attachment.filename for post in posts for attachment in post.files]


async def test_a_post_sent_but_not_recorded_is_found_in_history_and_not_sent_again(
    world: World,
) -> None:
    challenge = await _one_player_week(world)
    world.messenger.kill = Kill.AFTER_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(2), 9))
    [sent] = world.messenger.posts
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.SCORED  # the process died before recording it

    # Restarted an hour later: Discord no longer de-duplicates the nonce, the history tells.
    await world.run_at(local(day(2), 10))
    assert world.messenger.posts == [sent]
    assert world.messenger.attempts == [sent.nonce]  # nothing was sent again
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.message_id == sent.message_id
    assert await world.runs.pending_intent(challenge.id) is None
    await world.run_at(local(day(3), 9))  # the next day's post shows rank changes as usual
    assert _names(world.messenger.posts) == [
        f"stride-{challenge.id}-{day(1)}.png",
        f"stride-{challenge.id}-{day(2)}.png",
    ]


async def test_a_post_killed_before_it_was_sent_is_sent_once_with_the_same_nonce(
    world: World,
) -> None:
    challenge = await _one_player_week(world)
    world.messenger.kill = Kill.BEFORE_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(2), 9))
    assert world.messenger.posts == []

    await world.run_at(local(day(2), 9, 1))
    [post] = world.messenger.posts
    first_try, second_try = world.messenger.attempts
    assert first_try is not None and first_try == second_try == post.nonce
    assert len(first_try) <= 25  # Discord's limit for a nonce
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.message_id == post.message_id


@pytest.mark.parametrize("kill", [Kill.AFTER_SEND, Kill.BEFORE_SEND])
async def test_days_due_since_a_post_was_left_in_flight_never_show_twice(
    world: World, kill: Kill
) -> None:
    challenge = await _one_player_week(world)
    world.messenger.kill = kill
    with pytest.raises(Killed):
        await world.run_at(local(day(2), 9))  # day 1's post
    # Down until day 4's post time: days 2 and 3 are due as well.
    await world.run_at(local(day(4), 9))

    day_1, catch_up = world.messenger.posts
    assert _names([day_1]) == [f"stride-{challenge.id}-{day(1)}.png"]
    assert _names([catch_up]) == [f"stride-{challenge.id}-{day(2)}-to-{day(3)}.png"]
    assert "Catching up on 2 days" in catch_up.embed.description
    records = await world.runs.day_records(challenge.id)
    assert {d: r.message_id for d, r in records.items()} == {
        day(1): day_1.message_id,
        day(2): catch_up.message_id,
        day(3): catch_up.message_id,
    }


async def test_a_send_with_an_unknown_outcome_is_settled_from_history(world: World) -> None:
    challenge = await _one_player_week(world)
    world.messenger.fail_after_sending = TimeoutError("no answer from Discord")
    await world.run_at(local(day(2), 9))
    [sent] = world.messenger.posts
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.FAILED and record.error_code == "post_failed"

    await world.run_at(local(day(2), 10))  # the retry finds it went out after all
    assert world.messenger.posts == [sent]
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.message_id == sent.message_id


async def test_a_pending_post_waits_while_the_history_cannot_be_read(world: World) -> None:
    challenge = await _one_player_week(world)
    world.messenger.kill = Kill.AFTER_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(2), 9))
    world.messenger.history_readable = False
    await world.run_at(local(day(2), 10))
    await world.run_at(local(day(3), 9))  # day 2 is scored, its post waits behind day 1's
    assert len(world.messenger.posts) == 1  # never sent blindly
    records = await world.runs.day_records(challenge.id)
    assert records[day(1)].error_code == "channel_unavailable"

    world.messenger.history_readable = True  # an admin grants Read Message History
    await world.run_at(local(day(3), 10))
    day_1, day_2 = world.messenger.posts
    records = await world.runs.day_records(challenge.id)
    assert [r.message_id for r in records.values()] == [day_1.message_id, day_2.message_id]


async def test_a_results_post_left_in_flight_is_recorded_and_closes_the_challenge(
    world: World,
) -> None:
    challenge = await world.add_challenge(days=2, grace_hours=0)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 7_000)
    world.provider.set(alice, day(2), 9_000)
    world.messenger.kill = Kill.AFTER_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(3), 9))  # days 1 and 2 are final: only the results
    await world.run_at(local(day(3), 10))
    await world.run_at(local(day(4), 9))

    [results] = world.messenger.posts
    assert "final results" in results.embed.title
    assert _names([results]) == [f"stride-{challenge.id}-results.png"]
    record = await world.runs.results_record(challenge.id)
    assert record is not None and record.message_id == results.message_id
    closed = await world.challenges.get(challenge.id)
    assert closed is not None and closed.status is ChallengeStatus.ENDED
