"""Per-guild defaults (`guild_settings`): time zone, leaderboard channel, post time, admin role,
units (metric or imperial)."""

from __future__ import annotations

import datetime as dt

from bot.challenges.model import GuildSettings, format_post_time, parse_post_time
from bot.domain import Units
from bot.storage.db import Database


class GuildSettingsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetch_one(
            "SELECT guild_id, time_zone, leaderboard_channel_id, post_time, admin_role_id, units "
            "FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return GuildSettings(guild_id)
        return GuildSettings(
            guild_id=row["guild_id"],
            time_zone=row["time_zone"],
            leaderboard_channel_id=row["leaderboard_channel_id"],
            post_time=parse_post_time(row["post_time"]),
            admin_role_id=row["admin_role_id"],
            units=Units(row["units"]),
        )

    async def units(self, guild_id: int) -> Units:
        """How the guild shows distances (metric when never set)."""
        value = await self._db.fetch_value(
            "SELECT units FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return Units.METRIC if value is None else Units(value)

    async def save(self, settings: GuildSettings, now: dt.datetime) -> None:
        """Insert or replace the guild's defaults (other columns, e.g. publishing, are kept)."""
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, time_zone, leaderboard_channel_id, post_time, "
            "admin_role_id, units, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET time_zone = excluded.time_zone, "
            "leaderboard_channel_id = excluded.leaderboard_channel_id, "
            "post_time = excluded.post_time, admin_role_id = excluded.admin_role_id, "
            "units = excluded.units, updated_at = excluded.updated_at",
            (
                settings.guild_id,
                settings.time_zone,
                settings.leaderboard_channel_id,
                format_post_time(settings.post_time),
                settings.admin_role_id,
                settings.units.value,
                now.astimezone(dt.UTC).isoformat(),
            ),
        )
