"""The nudges' tables: defaults, the claim, and what a privacy export or deletion does."""

from __future__ import annotations

import datetime as dt

from bot.crypto import TokenCipher
from bot.storage import Database
from bot.storage.nudges import NudgesRepo
from bot.storage.privacy import PrivacyRepo
from tests.daily.world import World
from tests.nudges.world import ANA, BOB

NOW = dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)


async def test_members_are_off_and_challenges_on_by_default(db: Database) -> None:
    repo = NudgesRepo(db)
    assert not await repo.member_enabled(ANA)
    assert await repo.challenge_enabled(12345)


async def test_a_claim_holds_for_the_interval(db: Database) -> None:
    repo = NudgesRepo(db)
    assert not await repo.claim(ANA, NOW, last_before=NOW)  # nudges off: nothing to claim
    await repo.set_member(ANA, enabled=True, now=NOW)
    assert await repo.claim(ANA, NOW, last_before=NOW - dt.timedelta(hours=3))
    later = NOW + dt.timedelta(hours=2)
    assert not await repo.claim(ANA, later, last_before=later - dt.timedelta(hours=3))
    later = NOW + dt.timedelta(hours=3)
    assert await repo.claim(ANA, later, last_before=later - dt.timedelta(hours=3))


async def test_swapping_ranks_returns_the_ones_before(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    repo = NudgesRepo(db)
    assert await repo.swap_ranks(challenge.id, {ANA: 1, BOB: 2}) == {}
    assert await repo.swap_ranks(challenge.id, {BOB: 1}) == {ANA: 1, BOB: 2}
    assert await repo.swap_ranks(challenge.id, {}) == {BOB: 1}


async def test_privacy_exports_and_deletes_a_members_nudge_rows(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    await world.add_player(challenge, ANA, "Ana")
    repo = NudgesRepo(db)
    await repo.set_member(ANA, enabled=True, now=NOW)
    await repo.claim(ANA, NOW, last_before=NOW)
    await repo.swap_ranks(challenge.id, {ANA: 1})
    privacy = PrivacyRepo(db)

    exported = await privacy.export(ANA)
    assert exported["nudge_members"] == [
        {
            "discord_id": ANA,
            "enabled": 1,
            "last_nudged_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(),
        }
    ]
    assert exported["nudge_ranks"] == [{"challenge_id": challenge.id, "discord_id": ANA, "rank": 1}]

    await privacy.delete_user(ANA)
    assert await db.fetch_value("SELECT COUNT(*) FROM nudge_members") == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM nudge_ranks") == 0


async def test_deleting_a_challenge_deletes_its_nudge_rows(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    repo = NudgesRepo(db)
    await repo.set_challenge(challenge.id, enabled=False, now=NOW)
    await repo.swap_ranks(challenge.id, {ANA: 1})

    await world.repo.delete(challenge.id)

    assert await db.fetch_value("SELECT COUNT(*) FROM challenge_nudges") == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM nudge_ranks") == 0
