"""How members are shown in a server (`member_profiles`): a nickname for public posts and pages,
or hidden from them. One row per (guild, member); no row means shown under their display name.

The rows carry `discord_id`, so `/privacy export` includes them and `/privacy delete` removes
them (`bot.storage.privacy`).
"""

from __future__ import annotations

import datetime as dt

from bot.profiles.model import MemberProfile
from bot.storage.accounts import to_db_time
from bot.storage.db import Database


class ProfilesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, discord_id: int) -> MemberProfile:
        row = await self._db.fetch_one(
            "SELECT nickname, hidden FROM member_profiles WHERE guild_id = ? AND discord_id = ?",
            (guild_id, discord_id),
        )
        if row is None:
            return MemberProfile(guild_id, discord_id)
        return MemberProfile(guild_id, discord_id, row["nickname"], bool(row["hidden"]))

    async def for_guild(self, guild_id: int) -> dict[int, MemberProfile]:
        """Every member of the guild with a nickname or hidden, by Discord id."""
        rows = await self._db.fetch_all(
            "SELECT discord_id, nickname, hidden FROM member_profiles WHERE guild_id = ?",
            (guild_id,),
        )
        return {
            int(row["discord_id"]): MemberProfile(
                guild_id, int(row["discord_id"]), row["nickname"], bool(row["hidden"])
            )
            for row in rows
        }

    async def save(self, profile: MemberProfile, now: dt.datetime) -> None:
        """Store the profile; one with no nickname that is not hidden is removed instead."""
        if profile.is_default:
            await self._db.execute(
                "DELETE FROM member_profiles WHERE guild_id = ? AND discord_id = ?",
                (profile.guild_id, profile.discord_id),
            )
            return
        await self._db.execute(
            "INSERT INTO member_profiles (guild_id, discord_id, nickname, hidden, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, discord_id) DO UPDATE SET "
            "nickname = excluded.nickname, hidden = excluded.hidden, "
            "updated_at = excluded.updated_at",
            (
                profile.guild_id,
                profile.discord_id,
                profile.nickname,
                int(profile.hidden),
                to_db_time(now),
            ),
        )
