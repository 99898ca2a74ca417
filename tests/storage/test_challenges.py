"""ChallengesRepo: a challenge's name is unique in its guild whatever its case, and storage says
so with its own `DuplicateChallengeName`; the tie-break is stored, 'none' for older rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.challenges.model import Challenge, ChallengeStatus
from bot.domain import Metric, ScoringMode, TeamMode
from bot.scoring import TieBreak
from bot.storage import Database
from bot.storage.challenges import ChallengesRepo, DuplicateChallengeName
from bot.storage.db import default_migrations_dir, load_migrations
from tests.engines import Databases, integrity_error

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
GUILD = 900_000_000_000_000_001
OTHER_GUILD = 900_000_000_000_000_002


def challenge(name: str, guild_id: int = GUILD) -> Challenge:
    """A week of steps, not stored yet."""
    return Challenge(
        id=0, guild_id=guild_id, channel_id=910_000_000_000_000_001, name=name,
        metric=Metric.STEPS, mode=ScoringMode.TOTAL, start=dt.date(2026, 11, 23),
        end=dt.date(2026, 11, 29), time_zone="UTC", post_time=dt.time(9), daily_goal=None,
        daily_cap=None, allow_manual=False, grace_hours=24, team_mode=TeamMode.SUM,
        points_table=None, tiers=None, max_players=None, late_join_backfill=False, preset=None,
        status=ChallengeStatus.ACTIVE, ended_at=None, created_by=920_000_000_000_000_001,
        created_at=NOW,
    )  # fmt: skip


async def stored(repo: ChallengesRepo, challenge_id: int) -> Challenge:
    found = await repo.get(challenge_id)
    assert found is not None
    return found


async def test_insert_refuses_a_name_the_guild_has_in_any_case(db: Database) -> None:
    repo = ChallengesRepo(db)
    first = await repo.insert(challenge("Spring Steps"))
    with pytest.raises(DuplicateChallengeName):
        await repo.insert(challenge("SPRING steps"))
    assert [c.id for c in await repo.for_guild(GUILD)] == [first]


async def test_insert_takes_a_name_another_guild_uses(db: Database) -> None:
    repo = ChallengesRepo(db)
    await repo.insert(challenge("Spring Steps"))
    other = await repo.insert(challenge("spring steps", guild_id=OTHER_GUILD))
    found = await stored(repo, other)
    assert (found.guild_id, found.name) == (OTHER_GUILD, "spring steps")


async def test_update_refuses_a_rename_onto_another_challenge_of_the_guild(db: Database) -> None:
    repo = ChallengesRepo(db)
    await repo.insert(challenge("Spring Steps"))
    autumn = await stored(repo, await repo.insert(challenge("Autumn Walk")))
    with pytest.raises(DuplicateChallengeName):
        await repo.update(replace(autumn, name="spring STEPS"))
    assert (await stored(repo, autumn.id)).name == "Autumn Walk"
    await repo.update(replace(autumn, name="AUTUMN walk"))  # its own name, another case
    assert (await stored(repo, autumn.id)).name == "AUTUMN walk"


async def test_update_takes_a_name_another_guild_uses(db: Database) -> None:
    repo = ChallengesRepo(db)
    await repo.insert(challenge("Spring Steps", guild_id=OTHER_GUILD))
    autumn = await stored(repo, await repo.insert(challenge("Autumn Walk")))
    await repo.update(replace(autumn, name="Spring Steps"))
    assert [c.name for c in await repo.for_guild(GUILD)] == ["Spring Steps"]


async def test_the_tie_break_is_stored_and_updated(db: Database) -> None:
    repo = ChallengesRepo(db)
    first = await stored(
        repo, await repo.insert(replace(challenge("Ties"), tie_break=TieBreak.FIRST_TO_SCORE))
    )
    assert first.tie_break is TieBreak.FIRST_TO_SCORE
    await repo.update(replace(first, daily_goal=10_000.0, tie_break=TieBreak.GOAL_DAYS))
    assert (await stored(repo, first.id)).tie_break is TieBreak.GOAL_DAYS
    assert (await stored(repo, await repo.insert(challenge("Plain")))).tie_break is TieBreak.NONE


async def test_a_challenge_stored_before_the_tie_break_existed_shares_places(
    databases: Databases,
) -> None:
    migrations = load_migrations(default_migrations_dir())
    before = [m for m in migrations if m.name < "0006"]
    db = await databases.open(migrated=False)
    await db.migrate(before)
    old = challenge("Old")
    await db.execute(
        "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, "
        "start_date, end_date, time_zone, post_time, created_by, created_at) "
        "VALUES (?, ?, ?, 'steps', 'total', '2026-11-23', '2026-11-29', 'UTC', '09:00', ?, "
        "'2026-11-21T09:00:00+00:00')",
        (old.guild_id, old.channel_id, old.name, old.created_by),
    )
    await db.migrate(migrations)
    [found] = await ChallengesRepo(db).for_guild(GUILD)
    assert found.tie_break is TieBreak.NONE
    with pytest.raises(integrity_error(db)):
        await db.execute("UPDATE challenges SET tie_break = 'coin_toss'")


@pytest.mark.parametrize(
    ("stored_name", "same_name"),
    [
        ("Ärger im Büro", "ärger IM büro"),
        ("Straße", "STRASSE"),
        ("\uff33\uff34\uff25\uff30\uff33", "steps"),  # fullwidth "STEPS"
    ],
)
async def test_names_are_one_name_in_any_case_and_script(
    db: Database, stored_name: str, same_name: str
) -> None:
    """Beyond ASCII too (SQLite's NOCASE folds ASCII only), alike on both engines: the
    duplicate is refused, the lookup and the autocomplete find the stored name."""
    repo = ChallengesRepo(db)
    first = await repo.insert(challenge(stored_name))
    with pytest.raises(DuplicateChallengeName):
        await repo.insert(challenge(same_name))
    found = await repo.get_by_name(GUILD, f"  {same_name} ")
    assert found is not None and (found.id, found.name) == (first, stored_name)
    assert await repo.names(GUILD, same_name[1:4], active_only=False, limit=5) == [stored_name]
    other = await repo.insert(challenge(same_name, guild_id=OTHER_GUILD))
    assert other != first


async def test_names_differing_beyond_case_are_two_names(db: Database) -> None:
    repo = ChallengesRepo(db)
    await repo.insert(challenge("Ärger"))
    await repo.insert(challenge("Arger"))
    assert await repo.names(GUILD, "RGER", active_only=False, limit=5) == ["Arger", "Ärger"]
    assert [c.name for c in await repo.for_guild(GUILD)] == ["Arger", "Ärger"]


async def test_migrating_keys_the_names_already_stored(databases: Databases) -> None:
    """Names stored before 0010 get their key; two that only a full case fold tells apart
    (both allowed before) stay two challenges, the older one found by the name."""
    migrations = load_migrations(default_migrations_dir())
    db = await databases.open(migrated=False)
    await db.migrate([m for m in migrations if m.version < 10])
    for name in ("Ärger", "ärger", "Walk"):
        old = challenge(name)
        await db.execute(
            "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, "
            "start_date, end_date, time_zone, post_time, created_by, created_at) "
            "VALUES (?, ?, ?, 'steps', 'total', '2026-11-23', '2026-11-29', 'UTC', '09:00', ?, "
            "'2026-11-21T09:00:00+00:00')",
            (old.guild_id, old.channel_id, old.name, old.created_by),
        )
    await db.migrate(migrations)
    repo = ChallengesRepo(db)
    found = await repo.get_by_name(GUILD, "WALK")
    assert found is not None and found.name == "Walk"
    older = await repo.get_by_name(GUILD, "ÄRGER")
    assert older is not None and older.name == "Ärger"
    assert sorted(c.name for c in await repo.for_guild(GUILD)) == ["Walk", "Ärger", "ärger"]
    with pytest.raises(DuplicateChallengeName):
        await repo.insert(challenge("walk"))
