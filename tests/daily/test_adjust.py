"""Corrections by admins (`AdjustmentService`) through the daily run: a corrected day counts
its new value in every standing from then on (a late sync cannot undo it), the player gets a
DM, the next post marks it, a final day can be corrected too (its frozen scores rewritten,
and the next post says so), the record is kept and exported; and what is refused, with a
message saying why.

The world (`tests.daily.world`): a 7-day challenge from Monday 1 June in UTC, posting at
09:00; day 1 becomes final 24 h after it ends (3 June, 00:00).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.challenges.model import Challenge
from bot.daily.adjust import AdjustmentService
from bot.errors import UserError
from bot.storage.privacy import PrivacyRepo
from tests.daily.world import World, day, local

ADMIN = 99
ALICE, BOB = 1, 2


@pytest.fixture
def adjustments(world: World) -> AdjustmentService:
    return AdjustmentService(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        messenger=world.hub,
    )


async def _alice_and_bob(world: World, **options: object) -> tuple[Challenge, str, str]:
    """Day 1: Alice 8,000 steps, Bob 9,000; posted on day 2 at 09:00."""
    challenge = await world.add_challenge(**options)  # type: ignore[arg-type]
    alice = await world.add_player(challenge, ALICE, "Alice")
    bob = await world.add_player(challenge, BOB, "Bob")
    world.provider.set(alice, day(1), 8_000)
    world.provider.set(bob, day(1), 9_000)
    await world.run_at(local(day(2), 9))
    return challenge, alice, bob


def rows_of(world: World, index: int = -1) -> list[str]:
    post = world.messenger.posts[index]
    assert post.embed is not None
    return post.embed.description.splitlines()


async def test_a_corrected_day_counts_its_new_value_and_the_next_post_marks_it(
    world: World, adjustments: AdjustmentService
) -> None:
    challenge, alice, _bob = await _alice_and_bob(world)
    assert any(row.startswith("`1.` Bob") for row in rows_of(world))

    world.clock.set(local(day(2), 10))
    adjusted = await adjustments.adjust(
        1, "june steps", ALICE, day(1), "12000", "watch lost a sync", by=ADMIN
    )

    adjustment = adjusted.adjustment
    assert (adjustment.old_value, adjustment.new_value, adjustment.was_final) == (
        8_000,
        12_000,
        False,
    )
    assert (adjustment.reason, adjustment.adjusted_by) == ("watch lost a sync", ADMIN)
    assert adjusted.member_told
    assert [dm.text for dm in world.messenger.to(ALICE)] == [
        "✏️ An admin corrected your Mon 1 Jun 2026 in **June Steps**: 8,000 steps → 12,000 "
        "steps.\nReason: watch lost a sync"
    ]
    live = await world.standings.current(challenge)
    assert [(p.player_id, p.score) for p in live.standings.players] == [
        (ALICE, 12_000),
        (BOB, 9_000),
    ]

    # A late sync of the same day changes nothing: the correction stands.
    world.provider.set(alice, day(1), 8_500)
    await world.run_at(local(day(3), 9))
    post = world.messenger.posts[-1]
    assert post.embed is not None
    assert any(row.startswith("`1.` Alice") and "12,000 steps" in row for row in rows_of(world))
    assert (
        "† corrected by an admin: Alice, Mon 1 Jun: 8,000 steps → 12,000 steps" in post.embed.footer
    )
    # The post after that one has nothing new to say about it.
    await world.run_at(local(day(4), 9))
    assert world.messenger.posts[-1].embed is not None
    assert "†" not in world.messenger.posts[-1].embed.footer


async def test_a_final_day_can_be_corrected_and_the_next_post_says_so(
    world: World, adjustments: AdjustmentService
) -> None:
    challenge, _alice, _bob = await _alice_and_bob(world)
    await world.run_at(local(day(3), 9))  # day 1 is final (3 June, 00:00)
    assert (await world.scores(challenge.id))[(BOB, day(1))] == (9_000, True)

    world.clock.set(local(day(3), 10))
    adjusted = await adjustments.adjust(
        1, "June Steps", BOB, day(1), 3_000.0, "double count", by=ADMIN
    )

    assert adjusted.adjustment.was_final
    assert (await world.scores(challenge.id))[(BOB, day(1))] == (3_000, True)  # rewritten
    assert "That day was already final" in world.messenger.to(BOB)[0].text
    await world.run_at(local(day(4), 9))
    post = world.messenger.posts[-1]
    assert post.embed is not None
    assert "Bob, Mon 1 Jun: 9,000 steps → 3,000 steps (a final day)" in post.embed.footer
    assert any(row.startswith("`1.` Alice") for row in rows_of(world))


async def test_a_day_without_data_can_be_set(world: World, adjustments: AdjustmentService) -> None:
    challenge, _alice, _bob = await _alice_and_bob(world)
    world.clock.set(local(day(2), 10))
    adjusted = await adjustments.adjust(
        1, "June Steps", ALICE, day(2), "4,000", "forgot the watch", by=ADMIN
    )
    assert adjusted.adjustment.old_value is None
    assert "no data → 4,000 steps" in world.messenger.to(ALICE)[0].text
    live = await world.standings.current(challenge)
    assert live.standings.player(ALICE).daily_values[day(2)] == 4_000


async def test_every_adjustment_is_kept_and_exported(
    world: World, adjustments: AdjustmentService
) -> None:
    challenge, _alice, _bob = await _alice_and_bob(world)
    world.clock.set(local(day(2), 10))
    await adjustments.adjust(1, "June Steps", ALICE, day(1), "12000", "lost sync", by=ADMIN)
    world.clock.set(local(day(2), 11))
    await adjustments.adjust(1, "June Steps", ALICE, day(1), "11000", "typo", by=ADMIN)

    kept = await adjustments.of_challenge(challenge.id)
    assert [(a.old_value, a.new_value, a.reason) for a in kept] == [
        (8_000, 12_000, "lost sync"),
        (12_000, 11_000, "typo"),
    ]
    live = await world.standings.current(challenge)
    assert live.standings.player(ALICE).score == 11_000  # the latest counts

    mine = (await PrivacyRepo(world.db).export(ALICE))["score_adjustments"]
    assert [(row["reason"], row["old_value"], row["new_value"]) for row in mine] == [
        ("lost sync", 8_000, 12_000),
        ("typo", 12_000, 11_000),
    ]
    # The admin's export shows the corrections they made, too.
    assert len((await PrivacyRepo(world.db).export(ADMIN))["score_adjustments"]) == 2


@pytest.mark.parametrize(
    ("member", "when", "value", "reason", "message"),
    [
        (ALICE, day(3), "12000", "x", "is in the future"),
        (ALICE, day(0), "12000", "x", "is not a day of “June Steps”"),
        (3, day(1), "12000", "x", "<@3> is not playing in “June Steps”"),
        (ALICE, day(1), "-5", "x", "is not an amount"),
        (ALICE, day(1), "250000", "x", "must be between 0 steps and 100,000 steps"),
        (ALICE, day(1), "12000", "   ", "Give a reason"),
        (ALICE, day(1), "12000", "x" * 201, "keep it to 200"),
    ],
)
async def test_what_cannot_be_adjusted_is_refused_with_why(
    world: World,
    adjustments: AdjustmentService,
    member: int,
    when: dt.date,
    value: str,
    reason: str,
    message: str,
) -> None:
    challenge, _alice, _bob = await _alice_and_bob(world)
    world.clock.set(local(day(2), 10))
    with pytest.raises(UserError, match=message):
        await adjustments.adjust(1, "June Steps", member, when, value, reason, by=ADMIN)
    assert await adjustments.of_challenge(challenge.id) == []
    assert world.messenger.dms == []


async def test_no_correction_once_the_results_are_posted(
    world: World, adjustments: AdjustmentService
) -> None:
    await _alice_and_bob(world, days=1)
    await world.run_at(local(day(3), 9))  # day 1 final: the results post
    assert "results" in world.messenger.posts[-1].files[0].filename
    with pytest.raises(UserError, match="The results of “June Steps” are posted"):
        await adjustments.adjust(1, "June Steps", ALICE, day(1), "1", "late", by=ADMIN)
