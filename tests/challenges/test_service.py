"""ChallengeService: presets, validation, events, players, teams, the daily run's API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from bot.challenges.describe import rule_sentences
from bot.challenges.inputs import ChallengeEdit
from bot.challenges.model import Challenge, ChallengeStatus
from bot.challenges.presets import Preset
from bot.challenges.rulebook import rules
from bot.challenges.service import MAX_ACTIVE_CHALLENGES, ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric, ScoringMode, TeamMode
from bot.errors import UserError
from bot.events import EventBus
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.challenges import ChallengesRepo
from tests.challenges.fakes import (
    ADMIN,
    ALICE,
    AUCKLAND,
    BOB,
    CAROL,
    DAVE,
    GUILD,
    LOS_ANGELES,
    OTHER_GUILD,
    START,
    D,
    add_values,
    days_before,
    draft,
    link_account,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def events() -> EventBus:
    return EventBus()


@pytest.fixture
def service(
    db: Database, clock: FakeClock, events: EventBus, cipher: TokenCipher
) -> ChallengeService:
    return ChallengeService(db, clock, events, AccountsRepo(db, cipher))


async def challenge_count(db: Database) -> int:
    return int(await db.fetch_value("SELECT COUNT(*) FROM challenges"))


def record(events: EventBus, name: str) -> list[int]:
    seen: list[int] = []

    async def handler(challenge_id: int) -> None:
        seen.append(challenge_id)

    events.on(name, handler)
    return seen


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize(
    ("preset", "zone", "post_time", "start", "end"),
    [
        # Auckland: Monday 6 May, 08:00.
        (Preset.DAILY_SHOWDOWN, AUCKLAND, dt.time(9), D(2024, 5, 6), D(2024, 5, 6)),
        (Preset.DAILY_SHOWDOWN, AUCKLAND, dt.time(7), D(2024, 5, 7), D(2024, 5, 7)),
        (Preset.WORKWEEK_HUSTLE, AUCKLAND, dt.time(9), D(2024, 5, 6), D(2024, 5, 10)),
        (Preset.WORKWEEK_HUSTLE, AUCKLAND, dt.time(7), D(2024, 5, 13), D(2024, 5, 17)),
        (Preset.WEEKEND_WARRIOR, AUCKLAND, dt.time(9), D(2024, 5, 11), D(2024, 5, 12)),
        (Preset.GOAL_DAY, AUCKLAND, dt.time(7), D(2024, 5, 7), D(2024, 5, 7)),
        (Preset.STREAK, AUCKLAND, dt.time(9), D(2024, 5, 6), D(2024, 6, 4)),
        # Los Angeles: Sunday 5 May, 13:00.
        (Preset.DAILY_SHOWDOWN, LOS_ANGELES, dt.time(14), D(2024, 5, 5), D(2024, 5, 5)),
        (Preset.DAILY_SHOWDOWN, LOS_ANGELES, dt.time(9), D(2024, 5, 6), D(2024, 5, 6)),
        (Preset.WORKWEEK_HUSTLE, LOS_ANGELES, dt.time(14), D(2024, 5, 6), D(2024, 5, 10)),
        (Preset.WEEKEND_WARRIOR, LOS_ANGELES, dt.time(14), D(2024, 5, 11), D(2024, 5, 12)),
        (Preset.GOAL_DAY, LOS_ANGELES, dt.time(14), D(2024, 5, 5), D(2024, 5, 5)),
        (Preset.STREAK, LOS_ANGELES, dt.time(9), D(2024, 5, 6), D(2024, 6, 4)),
    ],
)
async def test_preset_dates_follow_the_challenges_time_zone(
    service: ChallengeService,
    preset: Preset,
    zone: str,
    post_time: dt.time,
    start: dt.date,
    end: dt.date,
) -> None:
    created = await service.create(
        GUILD,
        ADMIN,
        draft(preset=preset, mode=None, start=None, end=None, time_zone=zone, post_time=post_time),
    )

    stored = await service.get(created.id)
    assert stored is not None
    assert (stored.start, stored.end) == (start, end)
    assert stored.mode is preset.mode
    assert stored.preset == preset.value
    assert stored.time_zone == zone


async def test_the_same_instant_gives_different_preset_days_in_two_zones(
    service: ChallengeService,
) -> None:
    auckland = await service.create(
        GUILD, ADMIN, draft(name="A", preset=Preset.DAILY_SHOWDOWN, mode=None, start=None,
                            end=None, time_zone=AUCKLAND, post_time=dt.time(7)),
    )  # fmt: skip
    los_angeles = await service.create(
        GUILD, ADMIN, draft(name="B", preset=Preset.DAILY_SHOWDOWN, mode=None, start=None,
                            end=None, time_zone=LOS_ANGELES, post_time=dt.time(7)),
    )  # fmt: skip
    assert auckland.start == D(2024, 5, 7)
    assert los_angeles.start == D(2024, 5, 6)


async def test_goal_presets_get_a_default_goal_and_describe_how_to_win(
    service: ChallengeService,
) -> None:
    goal_day = await service.create(
        GUILD, ADMIN, draft(name="Goal", preset=Preset.GOAL_DAY, mode=None, start=None, end=None)
    )
    streak = await service.create(
        GUILD,
        ADMIN,
        draft(name="Run", preset=Preset.STREAK, mode=None, start=None, end=None,
              metric=Metric.ACTIVE_MINUTES, daily_goal=45),
    )  # fmt: skip
    assert goal_day.daily_goal == 10_000
    assert rule_sentences(goal_day)[0] == "Everyone who reaches 10,000 steps wins."
    assert streak.daily_goal == 45
    assert rule_sentences(streak)[0] == (
        "The longest run of days in a row with at least 45 min wins."
    )


async def test_explicit_start_for_a_weekly_preset_must_be_the_right_weekday(
    service: ChallengeService, db: Database
) -> None:
    with pytest.raises(UserError, match="is a Wednesday: pick a Monday"):
        await service.create(
            GUILD, ADMIN, draft(preset=Preset.WORKWEEK_HUSTLE, mode=None, start=D(2024, 5, 8),
                                end=None),
        )  # fmt: skip
    weekend = await service.create(
        GUILD, ADMIN, draft(preset=Preset.WEEKEND_WARRIOR, mode=None, start=D(2024, 5, 18),
                            end=None),
    )  # fmt: skip
    assert (weekend.start, weekend.end) == (D(2024, 5, 18), D(2024, 5, 19))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": D(2024, 5, 10), "end": D(2024, 5, 8)},
         "The end date 2024-05-08 is before the start date 2024-05-10: pick an end date on or "
         "after the start."),
        ({"start": D(2024, 5, 5), "end": D(2024, 5, 8), "time_zone": AUCKLAND},
         "The start date 2024-05-05 is in the past in Pacific/Auckland (today is 2024-05-06 "
         "there): pick today or a later date."),
        ({"time_zone": "Mars/Olympus_Mons"}, "“Mars/Olympus_Mons” is not a time zone I know"),
        ({"daily_goal": 50},
         "The daily goal for steps must be between 100 steps and 100,000 steps."),
        ({"metric": Metric.DISTANCE, "daily_cap": 500},
         "The daily cap for distance must be between 0.1 km and 300.0 km."),
        ({"mode": ScoringMode.IMPROVEMENT, "metric": Metric.SLEEP_MINUTES},
         "Improvement scoring rewards doing more than usual, which does not suit sleep"),
        ({"mode": ScoringMode.GOAL_DAYS}, "Goal-days scoring needs a daily goal."),
        ({"daily_goal": 20_000, "daily_cap": 15_000},
         "The daily goal cannot be above the daily cap, nobody could meet it."),
        ({"points_table": "5,3,1"}, "A points table is only used with daily-rank scoring"),
        ({"mode": ScoringMode.DAILY_RANK, "points_table": "five, three"},
         "Write the points table as up to 25 points"),
        ({"mode": ScoringMode.TIERS, "tiers": "10000:2,5000:1"},
         "Tier thresholds must go up from one tier to the next"),
        ({"mode": ScoringMode.TIERS, "metric": Metric.ACTIVE_MINUTES},
         "The default tiers are step counts: give tiers for active minutes"),
        ({"end": D(2025, 6, 1)}, "A challenge can last at most 366 days"),
        # The daily run's date arithmetic would overflow near the year 9999 (for every guild).
        ({"start": D(9999, 12, 30), "end": D(9999, 12, 31)},
         "The start date 9999-12-30 is more than 366 days away: pick an earlier date."),
        ({"preset": Preset.STREAK, "start": D(9999, 12, 20), "end": None, "mode": None},
         "The start date 9999-12-20 is more than 366 days away"),
        ({"preset": Preset.GOAL_DAY, "start": None, "end": None, "mode": ScoringMode.TOTAL},
         "The Goal Day preset uses goal days scoring"),
        ({"preset": Preset.DAILY_SHOWDOWN, "start": None}, "sets its own end date"),
        ({"mode": None}, "Pick a scoring mode"),
        ({"end": None}, "Give a start date and an end date"),
        ({"name": "   "}, "The name cannot be empty"),
        ({"grace_hours": 100}, "Grace hours must be between 0 and 72."),
        ({"max_players": 1}, "Max players must be between 2 and 500."),
    ],
)  # fmt: skip
async def test_bad_values_get_one_line_saying_what_to_change_and_nothing_is_stored(
    service: ChallengeService, db: Database, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as caught:
        await service.create(GUILD, ADMIN, draft(**overrides))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert await challenge_count(db) == 0


async def test_a_start_date_past_in_one_zone_is_fine_in_another(service: ChallengeService) -> None:
    created = await service.create(
        GUILD, ADMIN, draft(start=D(2024, 5, 5), end=D(2024, 5, 8), time_zone=LOS_ANGELES)
    )
    assert created.start == D(2024, 5, 5)


async def test_sleep_with_daily_rank_is_allowed(service: ChallengeService) -> None:
    created = await service.create(
        GUILD, ADMIN, draft(metric=Metric.SLEEP_MINUTES, mode=ScoringMode.DAILY_RANK,
                            points_table="5, 3, 1"),
    )  # fmt: skip
    assert rules(created).points_table == (5.0, 3.0, 1.0)


async def test_time_zone_names_are_matched_without_case(service: ChallengeService) -> None:
    created = await service.create(GUILD, ADMIN, draft(time_zone="europe/berlin"))
    assert created.time_zone == "Europe/Berlin"


async def test_duplicate_names_are_refused_per_guild_ignoring_case(
    service: ChallengeService, db: Database
) -> None:
    await service.create(GUILD, ADMIN, draft(name="Spring Steps"))
    with pytest.raises(UserError, match="already has a challenge called “spring STEPS”"):
        await service.create(GUILD, ADMIN, draft(name="spring  STEPS"))
    await service.create(OTHER_GUILD, ADMIN, draft(name="Spring Steps"))  # another server
    assert await challenge_count(db) == 2


async def test_a_duplicate_only_the_database_catches_is_the_same_user_error(
    service: ChallengeService, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the check before the write miss a taken name, the unique index refuses it
    (`DuplicateChallengeName` from storage) and the admin sees the same one line."""
    await service.create(GUILD, ADMIN, draft(name="Spring Steps"))
    await service.create(GUILD, ADMIN, draft(name="Autumn Walk"))
    real_get_by_name = ChallengesRepo.get_by_name

    async def misses_spring_steps(
        repo: ChallengesRepo, guild_id: int, name: str
    ) -> Challenge | None:
        if name.strip().casefold() == "spring steps":
            return None
        return await real_get_by_name(repo, guild_id, name)

    monkeypatch.setattr(ChallengesRepo, "get_by_name", misses_spring_steps)
    with pytest.raises(
        UserError, match="already has a challenge called “spring steps”: pick another name"
    ):
        await service.create(GUILD, ADMIN, draft(name="spring steps"))
    with pytest.raises(
        UserError, match="already has a challenge called “SPRING STEPS”: pick another name"
    ):
        await service.edit(GUILD, "Autumn Walk", ChallengeEdit(name="SPRING STEPS"))
    assert await challenge_count(db) == 2
    assert (await service.find(GUILD, "Autumn Walk")).name == "Autumn Walk"


async def test_at_most_ten_challenges_that_have_not_ended(
    service: ChallengeService, db: Database
) -> None:
    for number in range(MAX_ACTIVE_CHALLENGES):
        await service.create(GUILD, ADMIN, draft(name=f"C{number}"))
    with pytest.raises(UserError, match="already has 10 challenges that have not ended"):
        await service.create(GUILD, ADMIN, draft(name="One too many"))
    assert await challenge_count(db) == MAX_ACTIVE_CHALLENGES


async def test_a_failing_challenge_changed_handler_leaves_nothing_behind(
    service: ChallengeService, events: EventBus, db: Database
) -> None:
    async def scheduler_down(challenge_id: int) -> None:
        raise RuntimeError("scheduler is down")

    events.on("challenge_changed", scheduler_down)
    with pytest.raises(RuntimeError):
        await service.create(GUILD, ADMIN, draft())
    assert await challenge_count(db) == 0


async def test_create_emits_challenge_changed_with_the_stored_challenge_visible(
    service: ChallengeService, events: EventBus
) -> None:
    seen: list[str] = []

    async def handler(challenge_id: int) -> None:
        challenge = await service.get(challenge_id)
        assert challenge is not None
        seen.append(challenge.name)

    events.on("challenge_changed", handler)
    await service.create(GUILD, ADMIN, draft())
    assert seen == ["Spring Steps"]


# --------------------------------------------------------------------------- editing


async def test_edit_changes_and_revalidates_and_emits(
    service: ChallengeService, events: EventBus
) -> None:
    created = await service.create(GUILD, ADMIN, draft(daily_cap=30_000))
    changed = record(events, "challenge_changed")

    edited = await service.edit(
        GUILD, "spring steps", ChallengeEdit(name="Summer Steps", daily_cap=0, post_time=dt.time(7))
    )

    assert (edited.name, edited.daily_cap, edited.post_time) == ("Summer Steps", None, dt.time(7))
    assert changed == [created.id]
    with pytest.raises(UserError, match="before the start date"):
        await service.edit(GUILD, "Summer Steps", ChallengeEdit(end=D(2024, 5, 1)))
    stored = await service.get(created.id)
    assert stored is not None and stored.end == D(2024, 5, 12)


async def test_after_the_start_metric_and_start_are_locked_and_end_cannot_go_back(
    service: ChallengeService, clock: FakeClock
) -> None:
    await service.create(GUILD, ADMIN, draft())
    clock.set(dt.datetime(2024, 5, 8, 12, tzinfo=dt.UTC))
    with pytest.raises(UserError, match="already started, so its metric can no longer change"):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit(metric=Metric.FLOORS))
    with pytest.raises(
        UserError, match="in the past: to stop the challenge now, use /challenge end"
    ):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit(end=D(2024, 5, 7)))
    longer = await service.edit(GUILD, "Spring Steps", ChallengeEdit(end=D(2024, 5, 19)))
    assert longer.end == D(2024, 5, 19)


async def test_max_players_cannot_go_below_the_players_already_in(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    await service.create(GUILD, ADMIN, draft())
    for user in (ALICE, BOB, CAROL):
        await link_account(db, cipher, user, START)
        await service.join(GUILD, "Spring Steps", user, None)
    with pytest.raises(UserError, match="already has 3 players: set max players to at least 3"):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit(max_players=2))


async def test_switching_scoring_mode_drops_the_old_modes_table(
    service: ChallengeService,
) -> None:
    await service.create(GUILD, ADMIN, draft(mode=ScoringMode.DAILY_RANK, points_table="5,3,1"))
    total = await service.edit(GUILD, "Spring Steps", ChallengeEdit(mode=ScoringMode.TOTAL))
    assert (total.mode, total.points_table) == (ScoringMode.TOTAL, None)

    tiered = await service.edit(
        GUILD, "Spring Steps", ChallengeEdit(mode=ScoringMode.TIERS, tiers="5000:1,9000:2")
    )
    assert tiered.tiers == ((5000, 1), (9000, 2))
    ranked = await service.edit(GUILD, "Spring Steps", ChallengeEdit(mode=ScoringMode.DAILY_RANK))
    assert (ranked.tiers, ranked.points_table) == (None, None)  # the default points table
    await service.edit(GUILD, "Spring Steps", ChallengeEdit(points_table="3,2,1"))
    kept = await service.edit(GUILD, "Spring Steps", ChallengeEdit(daily_cap=30_000))
    assert kept.points_table == (3, 2, 1)  # other edits keep the table


async def test_edit_refuses_a_rename_onto_another_challenges_name(
    service: ChallengeService, events: EventBus
) -> None:
    await service.create(GUILD, ADMIN, draft(name="Spring Steps"))
    autumn = await service.create(GUILD, ADMIN, draft(name="Autumn Walk"))
    await service.create(OTHER_GUILD, ADMIN, draft(name="Winter Wander"))
    changed = record(events, "challenge_changed")
    with pytest.raises(UserError, match="already has a challenge called “spring steps”"):
        await service.edit(GUILD, "Autumn Walk", ChallengeEdit(name="spring steps"))
    assert changed == []
    assert (await service.find(GUILD, "Autumn Walk")).id == autumn.id
    # Another server's names are not taken here, and a challenge keeps its own in any case.
    assert (await service.edit(GUILD, "Autumn Walk", ChallengeEdit(name="Winter Wander"))).id == (
        autumn.id
    )
    renamed = await service.edit(GUILD, "winter wander", ChallengeEdit(name="WINTER WANDER"))
    assert renamed.name == "WINTER WANDER"


async def test_edit_with_nothing_to_change_says_so(service: ChallengeService) -> None:
    await service.create(GUILD, ADMIN, draft())
    with pytest.raises(UserError, match="Nothing to change"):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit())


# --------------------------------------------------------------------------- end and delete


async def test_end_makes_yesterday_in_its_zone_the_last_day_and_emits_after_the_commit(
    service: ChallengeService, events: EventBus, clock: FakeClock
) -> None:
    await service.create(GUILD, ADMIN, draft(time_zone=AUCKLAND, start=D(2024, 5, 6),
                                             end=D(2024, 5, 31)))  # fmt: skip
    clock.set(dt.datetime(2024, 5, 9, 13, tzinfo=dt.UTC))  # Friday 10 May 01:00 in Auckland
    statuses: list[tuple[ChallengeStatus, dt.date]] = []

    async def handler(challenge_id: int) -> None:
        challenge = await service.get(challenge_id)
        assert challenge is not None
        statuses.append((challenge.status, challenge.end))

    events.on("challenge_ended", handler)
    ended = await service.end(GUILD, "Spring Steps")

    assert ended.announced
    # Friday is not over: the results (and so the challenge) stop after Thursday.
    assert statuses == [(ChallengeStatus.ENDED, D(2024, 5, 9))]
    with pytest.raises(UserError, match="has already ended"):
        await service.end(GUILD, "Spring Steps")
    with pytest.raises(UserError, match="has ended: it can no longer be edited"):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit(name="Again"))


async def test_ending_a_challenge_that_has_not_started_points_to_delete(
    service: ChallengeService,
) -> None:
    await service.create(GUILD, ADMIN, draft())
    with pytest.raises(UserError, match="has not started yet: use /challenge delete"):
        await service.end(GUILD, "Spring Steps")


async def test_ending_a_challenge_on_its_first_day_points_to_delete(
    service: ChallengeService, events: EventBus, clock: FakeClock
) -> None:
    await service.create(GUILD, ADMIN, draft())
    clock.set(dt.datetime(2024, 5, 6, 18, tzinfo=dt.UTC))  # its first day, not over yet
    ended = record(events, "challenge_ended")
    with pytest.raises(UserError, match="started today, so no day of it is over"):
        await service.end(GUILD, "Spring Steps")
    stored = await service.get(1)
    assert stored is not None and stored.status is ChallengeStatus.ACTIVE
    assert ended == []  # no results post that would never come is promised


async def test_a_failing_results_handler_does_not_undo_the_end(
    service: ChallengeService, events: EventBus, clock: FakeClock
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    clock.set(dt.datetime(2024, 5, 7, 12, tzinfo=dt.UTC))

    async def broken(challenge_id: int) -> None:
        raise RuntimeError("Discord is down")

    events.on("challenge_ended", broken)
    ended = await service.end(GUILD, "Spring Steps")
    assert not ended.announced
    stored = await service.get(created.id)
    assert stored is not None and stored.status is ChallengeStatus.ENDED


async def test_delete_removes_players_and_emits_ended_once_gone(
    service: ChallengeService, events: EventBus, db: Database, cipher: TokenCipher
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    await link_account(db, cipher, ALICE, START)
    await service.join(GUILD, None, ALICE, "Alice")
    found_in_handler: list[object] = []

    async def handler(challenge_id: int) -> None:
        found_in_handler.append(await service.get(challenge_id))

    events.on("challenge_ended", handler)
    with pytest.raises(UserError, match="no longer exists"):
        await service.delete(OTHER_GUILD, created.id)  # another server's admin
    await service.delete(GUILD, created.id)

    assert found_in_handler == [None]
    assert await challenge_count(db) == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0


# --------------------------------------------------------------------------- players


async def test_join_needs_a_linked_account(service: ChallengeService, db: Database) -> None:
    await service.create(GUILD, ADMIN, draft())
    with pytest.raises(UserError, match="Link a fitness account first: run /link"):
        await service.join(GUILD, "Spring Steps", ALICE, "Alice")
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0


async def test_joining_before_the_start_counts_from_the_start(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    await service.create(GUILD, ADMIN, draft())
    await link_account(db, cipher, ALICE, START)
    joined = await service.join(GUILD, None, ALICE, "Alice")  # the only open challenge
    assert joined.participant.joined_on == D(2024, 5, 6)
    assert not joined.late
    with pytest.raises(UserError, match="already in “Spring Steps”"):
        await service.join(GUILD, "Spring Steps", ALICE, "Alice")
    [player] = await service.participants(joined.challenge.id)
    assert (player.discord_id, player.display_name, player.team) == (ALICE, "Alice", None)


@pytest.mark.parametrize(("backfill", "first_day"), [(False, D(2024, 5, 9)), (True, D(2024, 5, 6))])
async def test_late_joiners_count_from_today_unless_the_challenge_backfills(
    service: ChallengeService,
    db: Database,
    cipher: TokenCipher,
    clock: FakeClock,
    backfill: bool,
    first_day: dt.date,
) -> None:
    await service.create(GUILD, ADMIN, draft(late_join_backfill=backfill))
    await link_account(db, cipher, ALICE, START)
    clock.set(dt.datetime(2024, 5, 9, 10, tzinfo=dt.UTC))
    joined = await service.join(GUILD, "Spring Steps", ALICE, None)
    assert joined.late
    assert joined.participant.joined_on == first_day


async def test_max_players_is_enforced(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    await service.create(GUILD, ADMIN, draft(max_players=2))
    for user in (ALICE, BOB, CAROL):
        await link_account(db, cipher, user, START)
    await service.join(GUILD, "Spring Steps", ALICE, None)
    await service.join(GUILD, "Spring Steps", BOB, None)
    with pytest.raises(UserError, match="is full \\(2 players\\)"):
        await service.join(GUILD, "Spring Steps", CAROL, None)


async def test_a_finished_challenge_cannot_be_joined_or_left(
    service: ChallengeService, db: Database, cipher: TokenCipher, clock: FakeClock
) -> None:
    await service.create(GUILD, ADMIN, draft())
    await link_account(db, cipher, ALICE, START)
    await link_account(db, cipher, BOB, START)
    await service.join(GUILD, "Spring Steps", ALICE, None)
    clock.set(dt.datetime(2024, 5, 13, 10, tzinfo=dt.UTC))
    with pytest.raises(UserError, match="is over: it can no longer be joined"):
        await service.join(GUILD, "Spring Steps", BOB, None)
    with pytest.raises(UserError, match="is over: its results stay"):
        await service.leave(GUILD, "Spring Steps", ALICE)


async def test_several_open_challenges_need_a_name(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    await service.create(GUILD, ADMIN, draft(name="One"))
    await service.create(GUILD, ADMIN, draft(name="Two"))
    await link_account(db, cipher, ALICE, START)
    with pytest.raises(UserError, match="Several challenges are open"):
        await service.join(GUILD, None, ALICE, None)


async def test_leave_and_kick_remove_the_player_and_their_scores(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    for user in (ALICE, BOB):
        await link_account(db, cipher, user, START)
        await service.join(GUILD, "Spring Steps", user, None)
    await db.execute(
        "INSERT INTO daily_scores VALUES (?, ?, '2024-05-06', 9000, 9000, 0, 1)", (created.id, BOB)
    )
    await service.leave(GUILD, None, ALICE)
    await service.kick(GUILD, "Spring Steps", BOB)
    assert await service.participants(created.id) == []
    assert await db.fetch_value("SELECT COUNT(*) FROM daily_scores") == 0
    with pytest.raises(UserError, match="not in “Spring Steps”"):
        await service.leave(GUILD, "Spring Steps", ALICE)


# --------------------------------------------------------------------------- teams


async def test_auto_teams_balances_by_recent_averages(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    averages = {ALICE: 14_000, BOB: 12_000, CAROL: 6_000, DAVE: 5_000}
    today = D(2024, 5, 5)
    for user, average in averages.items():
        await link_account(db, cipher, user, START)
        await service.join(GUILD, "Spring Steps", user, None)
        await add_values(
            db, user, Metric.STEPS, dict.fromkeys(days_before(today, 10), average), START
        )
    # Too old to count for the recent average:
    await add_values(db, DAVE, Metric.STEPS, {today - dt.timedelta(days=40): 99_000}, START)

    plan = await service.auto_teams(GUILD, "Spring Steps", 2)

    by_player = {p.discord_id: p.team for p in await service.participants(created.id)}
    assert by_player[ALICE] != by_player[BOB]  # the two strongest are split
    assert by_player[ALICE] == by_player[DAVE]
    assert {player: avg for members in plan.teams.values() for player, avg in members} == averages


async def test_auto_teams_needs_enough_players(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    await service.create(GUILD, ADMIN, draft())
    await link_account(db, cipher, ALICE, START)
    await service.join(GUILD, "Spring Steps", ALICE, None)
    with pytest.raises(UserError, match="has 1 players: 2 teams need at least 2"):
        await service.auto_teams(GUILD, "Spring Steps", 2)


async def test_assign_and_rename_teams(
    service: ChallengeService, db: Database, cipher: TokenCipher
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    for user in (ALICE, BOB):
        await link_account(db, cipher, user, START)
        await service.join(GUILD, "Spring Steps", user, None)
    await service.assign_team(GUILD, "Spring Steps", ALICE, "Lions")
    _, team = await service.assign_team(GUILD, "Spring Steps", BOB, "  lions ")
    assert team == "Lions"  # one spelling per team
    _, renamed = await service.rename_team(GUILD, "Spring Steps", "LIONS", "Tigers")
    assert renamed == 2
    assert {p.team for p in await service.participants(created.id)} == {"Tigers"}
    with pytest.raises(UserError, match="has no team called “Lions”"):
        await service.rename_team(GUILD, "Spring Steps", "Lions", "Bears")
    with pytest.raises(UserError, match="not in “Spring Steps”"):
        await service.assign_team(GUILD, "Spring Steps", CAROL, "Bears")


# --------------------------------------------------------------------------- reading


async def test_listing_splits_running_upcoming_and_past(
    service: ChallengeService, clock: FakeClock
) -> None:
    await service.create(GUILD, ADMIN, draft(name="Past", end=D(2024, 5, 7)))
    await service.create(GUILD, ADMIN, draft(name="Running", end=D(2024, 5, 20)))
    await service.create(
        GUILD, ADMIN, draft(name="Upcoming", start=D(2024, 5, 15), end=D(2024, 5, 20))
    )
    await service.create(GUILD, ADMIN, draft(name="Elsewhere"))
    await service.delete(GUILD, (await service.find(GUILD, "Elsewhere")).id)
    clock.set(dt.datetime(2024, 5, 10, 12, tzinfo=dt.UTC))

    listing = await service.listing(GUILD)

    assert [c.name for c in listing.running] == ["Running"]
    assert [c.name for c in listing.upcoming] == ["Upcoming"]
    assert [c.name for c in listing.past] == ["Past"]


async def test_daily_run_api(service: ChallengeService, clock: FakeClock) -> None:
    first = await service.create(GUILD, ADMIN, draft(name="A", daily_goal=8_000))
    await service.create(GUILD, ADMIN, draft(name="B", start=D(2024, 5, 20), end=D(2024, 5, 25)))
    assert [c.name for c in await service.active_challenges()] == ["A", "B"]
    assert [c.name for c in await service.active_challenges(on=D(2024, 5, 7))] == ["A"]
    converted = service.rules(first)
    assert (converted.metric, converted.mode, converted.start, converted.end) == (
        Metric.STEPS, ScoringMode.TOTAL, D(2024, 5, 6), D(2024, 5, 12),
    )  # fmt: skip
    assert converted.daily_goal == 8_000 and converted.team_mode is TeamMode.SUM
    await service.finish(first.id)
    assert [c.name for c in await service.active_challenges()] == ["B"]


async def test_challenge_name_autocomplete_is_limited_to_25_and_matches_substrings(
    service: ChallengeService, db: Database
) -> None:
    repo = ChallengesRepo(db)
    template = await service.create(GUILD, ADMIN, draft(name="Template"))
    for number in range(30):
        await repo.insert(
            dataclasses.replace(template, name=f"Walk {number:02d}", status=ChallengeStatus.ENDED)
        )
    names = await service.challenge_names(GUILD, "walk")
    assert len(names) == 25
    assert await service.challenge_names(GUILD, "alk 1") == [f"Walk {n}" for n in range(10, 20)]
    assert await service.challenge_names(GUILD, "temp") == ["Template"]
    assert await service.challenge_names(GUILD, "walk", active_only=True) == []
    assert await service.challenge_names(OTHER_GUILD, "") == []
    assert await service.challenge_names(GUILD, "%") == []  # LIKE wildcards are literal


async def test_settings_are_the_defaults_of_new_challenges(service: ChallengeService) -> None:
    await service.update_guild_settings(GUILD, time_zone=AUCKLAND, post_time=dt.time(18, 30))
    created = await service.create(GUILD, ADMIN, draft(time_zone=None, start=D(2024, 5, 7)))
    assert (created.time_zone, created.post_time) == (AUCKLAND, dt.time(18, 30))
    with pytest.raises(UserError, match="is not a time zone I know"):
        await service.update_guild_settings(GUILD, time_zone="Nowhere/Special")
    settings = await service.guild_settings(GUILD)
    assert settings.time_zone == AUCKLAND
    assert (await service.guild_settings(OTHER_GUILD)).time_zone == "UTC"
