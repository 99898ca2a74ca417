"""`ReminderService` as the scheduler runs it: one DM at the member's local time when today's
goal is not met yet, none when it is, none without a running challenge, at most one a day
(across restarts too), and on time through a daylight-saving change.

The standings are the real ones over a real database (`tests.daily.world`); values are stored
as a sync stores them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.crypto import TokenCipher
from bot.domain import ScoringMode
from bot.profiles import MemberProfile
from bot.reminders import JOB_ID, JOB_SECONDS, ReminderService
from bot.storage import Database
from bot.storage.profiles import ProfilesRepo
from tests.daily.world import World, day, local
from tests.doubles.messenger import RecordingTransport
from tests.nudges.world import ANA, BOB, CY, store

TURN_OFF = "-# /remind off stops these."
BERLIN = "Europe/Berlin"
SPRING_FORWARD = dt.date(2026, 3, 29)  # Berlin: 02:00 CET -> 03:00 CEST


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    world = World(db, cipher)
    world.clock.set(local(day(3), 12))
    return world


def reminders_of(world: World) -> ReminderService:
    """A reminder service over the world (a new one is what a restart makes)."""
    return ReminderService(
        db=world.db,
        clock=world.clock,
        standings=world.standings,
        messenger=world.hub,
    )


def dms_to(discord: RecordingTransport, member: int) -> list[str]:
    return [dm.text for dm in discord.to(member)]


async def _ana_behind_bob(world: World, *, goal: float | None = 10_000, **options: object) -> None:
    """June Steps: today (day 3) Ana has 6,800 steps, Bob 7,600, Cy nothing."""
    challenge = await world.add_challenge(goal=goal, **options)  # type: ignore[arg-type]
    for member, name in ((ANA, "Ana"), (BOB, "Bob"), (CY, "Cy")):
        await world.add_player(challenge, member, name)
    now = world.clock.now()
    await store(world.db, ANA, day(3), 6_800, now=now)
    await store(world.db, BOB, day(3), 7_600, now=now)


async def test_at_the_chosen_time_a_member_hears_what_is_left_and_who_is_ahead(
    world: World,
) -> None:
    await _ana_behind_bob(world)
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)

    world.clock.set(local(day(3), 19, 59))
    await reminders.run()
    assert world.messenger.dms == []

    world.clock.set(local(day(3), 20))
    await reminders.run()
    assert dms_to(world.messenger, ANA) == [
        f"⏰ 3,200 steps to go in **June Steps** — you're 2nd, 800 steps behind Bob\n{TURN_OFF}"
    ]


async def test_one_reminder_a_day_also_after_a_restart(world: World) -> None:
    await _ana_behind_bob(world)
    await reminders_of(world).turn_on(ANA, dt.time(20), None)

    for minute in (0, 1, 30):
        world.clock.set(local(day(3), 20, minute))
        await reminders_of(world).run()  # a fresh service each time, as after a restart

    assert len(dms_to(world.messenger, ANA)) == 1
    world.clock.set(local(day(4), 20))
    await reminders_of(world).run()
    assert len(dms_to(world.messenger, ANA)) == 2  # the next day, the next one


async def test_no_reminder_once_the_goal_is_met(world: World) -> None:
    await _ana_behind_bob(world)
    await store(world.db, ANA, day(3), 10_200, now=world.clock.now())
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)

    world.clock.set(local(day(3), 20))
    await reminders.run()

    assert world.messenger.dms == []


async def test_no_reminder_without_a_running_challenge(world: World) -> None:
    await world.add_challenge(goal=10_000, start=day(10))  # not started yet
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)
    world.clock.set(local(day(3), 20))
    await reminders.run()
    assert world.messenger.dms == []


async def test_only_members_who_turned_them_on_and_not_after_they_turned_them_off(
    world: World,
) -> None:
    await _ana_behind_bob(world)
    reminders = reminders_of(world)
    await reminders.turn_on(CY, dt.time(20), None)
    await reminders.turn_on(BOB, dt.time(20), None)
    assert await reminders.turn_off(BOB)

    world.clock.set(local(day(3), 20))
    await reminders.run()

    assert [dm.user_id for dm in world.messenger.dms] == [CY]
    assert dms_to(world.messenger, CY) == [
        f"⏰ 10,000 steps to go in **June Steps** — you're 3rd, 6,800 steps behind Ana\n{TURN_OFF}"
    ]


async def test_without_a_daily_goal_the_gap_to_the_next_place_and_nothing_for_the_leader(
    world: World,
) -> None:
    await _ana_behind_bob(world, goal=None)
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)
    await reminders.turn_on(BOB, dt.time(20), None)

    world.clock.set(local(day(3), 20))
    await reminders.run()

    assert dms_to(world.messenger, ANA) == [
        f"⏰ You're 2nd in **June Steps**, 800 steps behind Bob\n{TURN_OFF}"
    ]
    assert dms_to(world.messenger, BOB) == []


async def test_one_dm_with_a_line_per_challenge(world: World) -> None:
    await _ana_behind_bob(world)
    goal_days = await world.add_challenge(name="Goal Club", goal=8_000, mode=ScoringMode.GOAL_DAYS)
    await world.add_player(goal_days, ANA, "Ana")
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)

    world.clock.set(local(day(3), 20))
    await reminders.run()

    assert dms_to(world.messenger, ANA) == [
        "⏰ 3,200 steps to go in **June Steps** — you're 2nd, 800 steps behind Bob\n"
        f"⏰ 1,200 steps to go in **Goal Club** — you're 1st\n{TURN_OFF}"
    ]


async def test_the_time_zone_the_member_gave_wins(world: World) -> None:
    await _ana_behind_bob(world)  # the challenge is in UTC
    reminders = reminders_of(world)
    status = await reminders.turn_on(ANA, dt.time(20), "america/new_york")
    assert (status.zone, status.own_zone) == ("America/New_York", True)

    world.clock.set(local(day(3), 20))  # 16:00 in New York
    await reminders.run()
    assert world.messenger.dms == []
    world.clock.set(local(day(3), 20, tz="America/New_York"))  # 00:00 UTC on day 4...
    await reminders.run()
    # ...but still day 3 in New York: one reminder; the challenge's today is day 4 in UTC,
    # where Ana has nothing yet.
    assert dms_to(world.messenger, ANA) == [
        f"⏰ 10,000 steps to go in **June Steps** — you're 2nd, 800 steps behind Bob\n{TURN_OFF}"
    ]


async def test_fires_once_at_the_local_time_across_a_daylight_saving_change(
    world: World,
) -> None:
    """A Berlin challenge over the night clocks go forward: the 20:00 reminder comes at
    19:00 UTC before the change and at 18:00 UTC after it, once each day, when the scheduler's
    job runs every minute."""
    challenge = await world.add_challenge(
        start=SPRING_FORWARD - dt.timedelta(days=2), days=7, tz=BERLIN, goal=10_000
    )
    await world.add_player(challenge, ANA, "Ana")
    reminders = reminders_of(world)
    world.scheduler.add_interval(JOB_ID, reminders.run, seconds=JOB_SECONDS)
    world.clock.set(dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC))
    await reminders.turn_on(ANA, dt.time(20), None)

    fired_at: list[dt.datetime] = []
    minute = dt.timedelta(minutes=1)
    end = dt.datetime(2026, 3, 30, 23, tzinfo=dt.UTC)
    while world.clock.now() < end:
        since = world.clock.now()
        # Minute by minute in the evenings; the rest of the day in one step.
        hour = since.hour
        step = minute if 16 <= hour < 22 else dt.timedelta(hours=1)
        world.clock.set(since + step)
        await world.scheduler.fire_due(since, world.clock.now())
        if len(world.messenger.dms) > len(fired_at):
            fired_at.append(world.clock.now())

    assert fired_at == [
        dt.datetime(2026, 3, 27, 19, tzinfo=dt.UTC),  # 20:00 CET
        dt.datetime(2026, 3, 28, 19, tzinfo=dt.UTC),  # 20:00 CET
        dt.datetime(2026, 3, 29, 18, tzinfo=dt.UTC),  # 20:00 CEST, the day the clocks moved
        dt.datetime(2026, 3, 30, 18, tzinfo=dt.UTC),  # 20:00 CEST
    ]
    assert all("10,000 steps to go" in dm.text for dm in world.messenger.dms)


async def test_a_member_who_chose_to_hide_is_not_named_in_someone_elses_reminder(
    world: World,
) -> None:
    await _ana_behind_bob(world)
    await ProfilesRepo(world.db).save(MemberProfile(1, BOB, hidden=True), world.clock.now())
    reminders = reminders_of(world)
    await reminders.turn_on(ANA, dt.time(20), None)
    world.clock.set(local(day(3), 20))
    await reminders.run()
    assert dms_to(world.messenger, ANA) == [
        f"⏰ 3,200 steps to go in **June Steps** — you're 2nd, 800 steps behind 1st place\n"
        f"{TURN_OFF}"
    ]


async def test_a_time_the_fall_back_repeats_fires_once(world: World) -> None:
    """New York on 1 November 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC
    (EST); the reminder comes the first time only, with the job running every minute."""
    challenge = await world.add_challenge(
        start=dt.date(2026, 10, 30), days=7, tz="America/New_York", goal=10_000
    )
    await world.add_player(challenge, ANA, "Ana")
    reminders = reminders_of(world)
    world.scheduler.add_interval(JOB_ID, reminders.run, seconds=JOB_SECONDS)
    world.clock.set(dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC))
    await reminders.turn_on(ANA, dt.time(1, 30), None)

    fired_at = []
    while world.clock.now() < dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC):
        since = world.clock.now()
        world.clock.set(since + dt.timedelta(minutes=1))
        await world.scheduler.fire_due(since, world.clock.now())
        if len(world.messenger.dms) > len(fired_at):
            fired_at.append(world.clock.now())

    assert fired_at == [dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)]
