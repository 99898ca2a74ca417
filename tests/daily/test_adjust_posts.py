"""Corrections by admins in the posts, through the daily run: the corrected amount is marked †
wherever its day's value shows (the daily post's row, the catch-up post's day field, the
results' best day), and each correction is said on exactly one post, the first that goes out
after it: daily, catch-up or results (a recap in "weekly only" mode: tests/daily/test_recap.py),
across a stop in the middle of a post and a post the channel refused.

The world (`tests.daily.world`): a 7-day challenge from Monday 1 June in UTC, posting at
09:00; a day becomes final 24 h after it ends.
"""

from __future__ import annotations

import pytest

from bot.challenges.model import Challenge
from bot.daily.adjust import AdjustmentService
from bot.daily.corrections import NOTE_LIMIT, footnote
from bot.domain import Metric, Units
from bot.notify import ChannelUnavailable
from bot.render.leaderboard import EmbedContent
from bot.storage.adjustments import Adjustment
from tests.daily.world import World, day, local
from tests.doubles.messenger import Kill, Killed

ADMIN = 99
ALICE, BOB = 1, 2
# Corrected on Tuesday evening, before Tuesday was fetched.
ALICE_TUESDAY = "† corrected by an admin: Alice, Tue 2 Jun: no data → 12,000 steps"
BOB_MONDAY = "† corrected by an admin: Bob, Mon 1 Jun: 9,000 steps → 1,000 steps (a final day)"


@pytest.fixture
def adjustments(world: World) -> AdjustmentService:
    return AdjustmentService(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        messenger=world.hub,
    )


async def _alice_and_bob(world: World, **options: object) -> Challenge:
    """Alice 8,000 then 8,500 steps, Bob 9,000 then 9,500; day 1 posted on day 2 at 09:00."""
    challenge = await world.add_challenge(**options)  # type: ignore[arg-type]
    alice = await world.add_player(challenge, ALICE, "Alice")
    bob = await world.add_player(challenge, BOB, "Bob")
    for n in range(1, 8):
        world.provider.set(alice, day(n), 8_000 + 500 * (n - 1))
        world.provider.set(bob, day(n), 9_000 + 500 * (n - 1))
    await world.run_at(local(day(2), 9))
    return challenge


def embeds(world: World) -> list[EmbedContent]:
    shown = [post.embed for post in world.messenger.posts]
    assert all(embed is not None for embed in shown)
    return [embed for embed in shown if embed is not None]


def notes(embed: EmbedContent) -> list[str]:
    """The parts of a post's footer."""
    return embed.footer.split(" · ")


def row(embed: EmbedContent, name: str) -> str:
    [line] = [line for line in embed.description.splitlines() if f" {name} · " in line]
    return line


async def _correct_alice_tuesday(world: World, adjustments: AdjustmentService) -> None:
    world.clock.set(local(day(2), 20))
    await adjustments.adjust(1, "June Steps", ALICE, day(2), "12000", "lost sync", by=ADMIN)


async def test_the_daily_post_marks_the_corrected_amount_and_says_it_once(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world)
    await _correct_alice_tuesday(world, adjustments)

    await world.run_at(local(day(3), 9))  # Tuesday's post
    tuesday = embeds(world)[-1]
    assert row(tuesday, "Alice").startswith("`1.` Alice · 12,000 steps† · ")
    assert row(tuesday, "Bob").startswith("`2.` Bob · 9,500 steps · ")
    assert ALICE_TUESDAY in notes(tuesday)

    await world.run_at(local(day(4), 9))
    assert "†" not in embeds(world)[-1].footer  # said once; Wednesday shows no corrected amount


async def test_a_catch_up_post_marks_and_says_a_correction(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world)
    await _correct_alice_tuesday(world, adjustments)

    await world.run_at(local(day(4), 9))  # down on Wednesday: Tuesday and Wednesday together
    catch_up = embeds(world)[-1]
    assert "Catching up on 2 days" in catch_up.description
    tuesday = dict((name, value) for name, value, _ in catch_up.fields)["Tue 2 Jun"]
    assert tuesday.splitlines()[0] == "🥇 Alice 12,000 steps†"
    assert ALICE_TUESDAY in notes(catch_up)

    await world.run_at(local(day(5), 9))
    assert "†" not in embeds(world)[-1].footer


async def test_a_post_the_channel_refused_leaves_the_correction_to_the_next_one(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world)
    await _correct_alice_tuesday(world, adjustments)
    world.messenger.fail_with = ChannelUnavailable("I need Send Messages in <#555>")
    await world.run_at(local(day(3), 9))
    world.messenger.fail_with = None

    await world.run_at(local(day(4), 9))  # the catch-up of Tuesday and Wednesday
    assert len(world.messenger.posts) == 2
    assert ALICE_TUESDAY in notes(embeds(world)[-1])


async def test_a_stop_after_the_send_neither_repeats_nor_loses_a_correction(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world)
    await _correct_alice_tuesday(world, adjustments)
    world.messenger.kill = Kill.AFTER_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(3), 9))  # Tuesday's post went out, then the process died
    assert ALICE_TUESDAY in notes(embeds(world)[-1])
    world.clock.set(local(day(3), 9, 30))  # corrected while Stride was down
    await adjustments.adjust(1, "June Steps", BOB, day(1), "1000", "double count", by=ADMIN)

    await world.run_at(local(day(3), 10))  # restarted: the post is found, not sent again
    assert len(world.messenger.posts) == 2
    await world.run_at(local(day(4), 9))
    wednesday = embeds(world)[-1]
    assert BOB_MONDAY in notes(wednesday)
    assert "Alice" not in wednesday.footer


async def test_a_stop_before_the_send_sends_the_same_footer_once(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world)
    await _correct_alice_tuesday(world, adjustments)
    world.messenger.kill = Kill.BEFORE_SEND
    with pytest.raises(Killed):
        await world.run_at(local(day(3), 9))
    world.clock.set(local(day(3), 9, 1))  # made while the post was in flight: the next post's
    await adjustments.adjust(1, "June Steps", BOB, day(1), "1000", "double count", by=ADMIN)

    await world.run_at(local(day(3), 9, 2))
    [_monday, tuesday] = embeds(world)
    assert ALICE_TUESDAY in notes(tuesday)
    await world.run_at(local(day(4), 9))
    assert BOB_MONDAY in notes(embeds(world)[-1])
    assert "Alice" not in embeds(world)[-1].footer


async def test_a_final_day_corrected_before_the_results_is_said_on_the_results(
    world: World, adjustments: AdjustmentService
) -> None:
    challenge = await _alice_and_bob(world, days=2)
    await world.run_at(local(day(3), 9))  # Tuesday's post
    await world.run_at(local(day(4), 0, 1))  # Tuesday becomes final; the results come at 09:00
    assert "final results" not in embeds(world)[-1].title
    world.clock.set(local(day(4), 0, 30))
    await adjustments.adjust(1, "June Steps", BOB, day(2), "30000", "treadmill", by=ADMIN)

    await world.run_at(local(day(4), 9))
    results = embeds(world)[-1]
    assert "final results" in results.title
    awards = dict((name, value) for name, value, _ in results.fields)["Awards"]
    assert "Best single day: **Bob** — 30,000 steps† on Tue 2 Jun" in awards
    assert results.footer.endswith(
        "† corrected by an admin: Bob, Tue 2 Jun: 9,500 steps → 30,000 steps (a final day)"
    )
    assert (await world.scores(challenge.id))[(BOB, day(2))] == (30_000, True)


def test_many_corrections_are_listed_as_far_as_they_fit() -> None:
    at = local(day(2), 10)
    many = [
        Adjustment(n, 1, n, day(1), 1_000.0, 2_000.0, "r", False, ADMIN, at) for n in range(1, 200)
    ]
    names = {n: f"Player number {n}" for n in range(1, 200)}
    note = footnote(many, names, Metric.STEPS, Units.METRIC)
    assert note is not None
    assert len(note) <= NOTE_LIMIT
    assert note.startswith("† corrected by an admin: Player number 1, Mon 1 Jun: 1,000 steps")
    assert note.split("; ")[-1].startswith("…and ") and note.endswith(" more")


async def test_correcting_a_final_day_publishes_nothing_again(
    world: World, adjustments: AdjustmentService
) -> None:
    """Published aggregates are not revised (README, "Publishing"): the publish cog queues a
    day when it becomes final (`day_finalised`), and a correction never finalises it again."""
    challenge = await _alice_and_bob(world)
    await world.run_at(local(day(3), 9))  # Monday is final
    assert world.finalised == [(challenge.id, day(1))]
    world.clock.set(local(day(3), 10))
    await adjustments.adjust(1, "June Steps", BOB, day(1), "1000", "double count", by=ADMIN)
    await world.run_at(local(day(4), 9))
    assert world.finalised == [(challenge.id, day(1)), (challenge.id, day(2))]
