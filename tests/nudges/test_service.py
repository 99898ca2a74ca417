"""`NudgeService.after_sync` as the live sync calls it: who gets which DM, and when not.

The standings are the real ones (`StandingsReader` over a real database); values are stored
as a sync stores them, then `after_sync` runs for the member whose values they are. The
challenge runs 1 to 7 June in UTC with its post at 09:00, so at 10:00 on day 3 the standings
count days 1 and 2 (and today, once the live standings show today's provisional values).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.challenges.model import Challenge
from bot.crypto import TokenCipher
from bot.events import EventBus
from bot.nudges import NudgePolicy, NudgeService
from bot.storage import Database
from tests.daily.world import World, day, local
from tests.doubles.messenger import RecordingTransport
from tests.nudges.world import ANA, BOB, CY, nudge_service, store

TURN_OFF = "/nudges off stops these."


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    world = World(db, cipher)
    world.clock.set(local(day(3), 10))
    return world


@pytest.fixture
def discord(world: World) -> RecordingTransport:
    return RecordingTransport(world.clock)


@pytest.fixture
def nudges(world: World, discord: RecordingTransport) -> NudgeService:
    return nudge_service(world, discord, NudgePolicy())


def dms_to(discord: RecordingTransport, member: int) -> list[str]:
    """The text of every DM that reached `member`."""
    return [dm.text for dm in discord.to(member)]


async def _players(world: World, challenge: Challenge) -> None:
    for member, name in ((ANA, "Ana"), (BOB, "Bob"), (CY, "Cy")):
        await world.add_player(challenge, member, name)


async def _ana_passes_bob(world: World, nudges: NudgeService) -> None:
    """Day 1: Bob 8,000, Ana 5,000, Cy 3,000; a sync of Ana's sets the ranks; then her day 2
    (7,000) puts her 4,000 ahead of Bob."""
    now = world.clock.now()
    await store(world.db, ANA, day(1), 5_000, now=now)
    await store(world.db, BOB, day(1), 8_000, now=now)
    await store(world.db, CY, day(1), 3_000, now=now)
    await nudges.after_sync(ANA)
    await store(world.db, ANA, day(2), 7_000, now=now)
    await nudges.after_sync(ANA)


async def test_a_member_who_turned_nudges_on_hears_who_just_passed_them(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge()
    await _players(world, challenge)
    await nudges.set_member(BOB, enabled=True)
    await nudges.set_member(CY, enabled=True)

    await _ana_passes_bob(world, nudges)

    assert dms_to(discord, BOB) == [
        "🏃 **Ana** just passed you in **June Steps**: 4,000 steps ahead of you now.\n"
        f"-# {TURN_OFF}"
    ]
    # Ana was ahead of Cy already: passing is going from behind to ahead.
    assert dms_to(discord, CY) == []
    assert dms_to(discord, ANA) == []


async def test_nudges_are_off_for_every_member_until_they_turn_them_on(
    world: World, nudges: NudgeService, discord: RecordingTransport, db: Database
) -> None:
    challenge = await world.add_challenge(goal=10_000)
    await _players(world, challenge)

    await _ana_passes_bob(world, nudges)

    assert discord.dms == []
    assert not await nudges.member_enabled(BOB)
    # With nobody to nudge, nothing is read or kept about the challenge.
    assert await db.fetch_value("SELECT COUNT(*) FROM nudge_ranks") == 0


async def test_a_member_who_turned_nudges_off_gets_none(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge()
    await _players(world, challenge)
    await nudges.set_member(BOB, enabled=True)
    await nudges.set_member(CY, enabled=True)  # someone still has them on
    await nudges.set_member(BOB, enabled=False)

    await _ana_passes_bob(world, nudges)

    assert dms_to(discord, BOB) == []


async def test_an_admin_can_turn_nudges_off_for_a_challenge(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge()
    await _players(world, challenge)
    await nudges.set_member(BOB, enabled=True)
    assert await nudges.challenge_enabled(challenge.id)  # on by default

    await nudges.set_challenge(challenge, enabled=False)
    await _ana_passes_bob(world, nudges)

    assert discord.dms == []
    assert not await nudges.challenge_enabled(challenge.id)


async def test_turning_a_challenge_back_on_never_compares_with_ranks_from_before(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge()
    await _players(world, challenge)
    await nudges.set_member(BOB, enabled=True)
    now = world.clock.now()
    await store(world.db, BOB, day(1), 8_000, now=now)
    await nudges.after_sync(ANA)  # ranks seen: Bob ahead of Ana
    await nudges.set_challenge(challenge, enabled=False)
    await store(world.db, ANA, day(1), 9_000, now=now)  # passed while nudges were off
    await nudges.set_challenge(challenge, enabled=True)

    await nudges.after_sync(ANA)

    assert discord.dms == []


async def test_goal_gap_counts_today_as_the_standings_do(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge(goal=10_000)
    await _players(world, challenge)
    await nudges.set_member(ANA, enabled=True)
    now = world.clock.now()
    today = day(3)
    await store(world.db, ANA, today, 7_700, now=now)
    # Manual entries do not count in this challenge; nor does another metric.
    await store(world.db, ANA, today, 9_900, now=now, manual=True)

    await nudges.after_sync(ANA)

    assert dms_to(discord, ANA) == [
        f"🎯 2,300 steps to today's goal in **June Steps**.\n-# {TURN_OFF}"
    ]


async def test_no_goal_nudge_once_the_goal_is_met_or_without_a_goal(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    with_goal = await world.add_challenge(goal=10_000)
    without = await world.add_challenge(name="No Goal")
    for challenge in (with_goal, without):
        await world.add_player(challenge, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)
    await store(world.db, ANA, day(3), 10_000, now=world.clock.now())

    await nudges.after_sync(ANA)

    assert discord.dms == []


async def test_never_at_night_in_the_challenges_time_zone(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    # 10:00 UTC is 22:00 in Auckland (NZST, UTC+12 in June).
    challenge = await world.add_challenge(tz="Pacific/Auckland", goal=10_000)
    await _players(world, challenge)
    await nudges.set_member(ANA, enabled=True)
    await nudges.set_member(BOB, enabled=True)

    await _ana_passes_bob(world, nudges)

    assert discord.dms == []
    # A pass seen at night is not kept for the morning: the next sync compares with it.
    world.clock.set(local(day(4), 8, 30, tz="Pacific/Auckland"))
    await nudges.after_sync(ANA)
    assert dms_to(discord, BOB) == []


async def test_at_most_one_nudge_per_member_every_few_hours(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    first = await world.add_challenge(goal=10_000)
    second = await world.add_challenge(name="Second", goal=12_000)
    for challenge in (first, second):
        await world.add_player(challenge, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)
    await store(world.db, ANA, day(3), 1_000, now=world.clock.now())

    await nudges.after_sync(ANA)  # due in both challenges: one DM
    world.clock.advance(dt.timedelta(hours=2, minutes=59))
    await nudges.after_sync(ANA)  # too soon
    assert dms_to(discord, ANA) == [
        f"🎯 9,000 steps to today's goal in **June Steps**.\n-# {TURN_OFF}"
    ]

    world.clock.advance(dt.timedelta(minutes=1))  # three hours after the first
    await nudges.after_sync(ANA)
    assert len(dms_to(discord, ANA)) == 2


async def test_a_nudge_is_recorded_before_it_is_sent_so_none_goes_twice(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge(goal=10_000)
    await world.add_player(challenge, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)
    await store(world.db, ANA, day(3), 1_000, now=world.clock.now())
    discord.fail_next_dm = ConnectionResetError("Discord went away mid-request")

    await nudges.after_sync(ANA)  # the failure stays here: the sync goes on
    await nudges.after_sync(ANA)  # it may have gone out: not again within the interval

    assert discord.dms == []


async def test_two_syncs_at_once_send_one_nudge(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge(goal=10_000)
    await world.add_player(challenge, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)
    await store(world.db, ANA, day(3), 1_000, now=world.clock.now())

    await asyncio.gather(nudges.after_sync(ANA), nudges.after_sync(ANA))

    assert len(dms_to(discord, ANA)) == 1


async def test_names_in_a_nudge_are_shown_as_typed(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge(name="*Spring* Steps")
    await world.add_player(challenge, ANA, "@everyone **Ana**")
    await world.add_player(challenge, BOB, "Bob")
    await nudges.set_member(BOB, enabled=True)
    now = world.clock.now()
    await store(world.db, BOB, day(1), 8_000, now=now)
    await nudges.after_sync(ANA)
    await store(world.db, ANA, day(1), 8_500, now=now)

    await nudges.after_sync(ANA)

    assert dms_to(discord, BOB) == [
        "🏃 **\\@everyone \\*\\*Ana\\*\\*** just passed you in **\\*Spring\\* Steps**: "
        f"500 steps ahead of you now.\n-# {TURN_OFF}"
    ]


async def test_challenges_not_running_today_send_nothing(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    upcoming = await world.add_challenge(start=day(10), goal=10_000)
    await world.add_player(upcoming, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)

    await nudges.after_sync(ANA)

    assert discord.dms == []


async def test_after_sync_is_a_handler_of_the_sync_queues_member_synced_event(
    world: World, nudges: NudgeService, discord: RecordingTransport
) -> None:
    challenge = await world.add_challenge(goal=10_000)
    await world.add_player(challenge, ANA, "Ana")
    await nudges.set_member(ANA, enabled=True)
    await store(world.db, ANA, day(3), 4_000, now=world.clock.now())
    bus = EventBus()
    bus.on("member_synced", nudges.after_sync)  # the wiring `build_services` is to add

    await bus.emit("member_synced", discord_id=ANA)

    assert dms_to(discord, ANA) == [
        f"🎯 6,000 steps to today's goal in **June Steps**.\n-# {TURN_OFF}"
    ]
