"""ChallengesRepo: a challenge's name is unique in its guild whatever its case, and storage says
so with its own `DuplicateChallengeName`."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.challenges.model import Challenge, ChallengeStatus
from bot.domain import Metric, ScoringMode, TeamMode
from bot.storage import Database
from bot.storage.challenges import ChallengesRepo, DuplicateChallengeName

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
