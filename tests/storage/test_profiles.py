"""ProfilesRepo and the guild's units: a member's nickname and hidden switch per guild (a row
only while one is set), and units that default to metric."""

from __future__ import annotations

import datetime as dt

from bot.challenges.model import GuildSettings
from bot.domain import Units
from bot.profiles import MemberProfile
from bot.storage import Database
from bot.storage.guilds import GuildSettingsRepo
from bot.storage.profiles import ProfilesRepo

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
GUILD, OTHER_GUILD = 900_000_000_000_000_001, 900_000_000_000_000_002
MEMBER = 800_000_000_000_000_001


async def test_a_profile_is_per_guild_and_goes_away_when_back_to_default(db: Database) -> None:
    repo = ProfilesRepo(db)
    assert await repo.get(GUILD, MEMBER) == MemberProfile(GUILD, MEMBER)
    await repo.save(MemberProfile(GUILD, MEMBER, "Speedy", hidden=True), NOW)
    assert await repo.get(GUILD, MEMBER) == MemberProfile(GUILD, MEMBER, "Speedy", True)
    assert await repo.get(OTHER_GUILD, MEMBER) == MemberProfile(OTHER_GUILD, MEMBER)
    assert await repo.for_guild(GUILD) == {MEMBER: MemberProfile(GUILD, MEMBER, "Speedy", True)}
    await repo.save(MemberProfile(GUILD, MEMBER), NOW)
    assert await repo.for_guild(GUILD) == {}
    assert await db.fetch_value("SELECT COUNT(*) FROM member_profiles") == 0


async def test_units_default_to_metric_and_are_kept(db: Database) -> None:
    repo = GuildSettingsRepo(db)
    assert await repo.units(GUILD) is Units.METRIC
    assert (await repo.get(GUILD)).units is Units.METRIC
    await repo.save(GuildSettings(GUILD, units=Units.IMPERIAL), NOW)
    assert await repo.units(GUILD) is Units.IMPERIAL
    assert (await repo.get(GUILD)).units is Units.IMPERIAL
    assert await repo.units(OTHER_GUILD) is Units.METRIC
