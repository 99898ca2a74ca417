"""`Profiles`: a member's nickname and hidden switch in a guild, as `/privacy` changes them."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.clock import Clock
from bot.profiles.model import MemberProfile, validated_nickname
from bot.storage.db import Database
from bot.storage.profiles import ProfilesRepo

log = logging.getLogger(__name__)


class Profiles:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._repo = ProfilesRepo(db)
        self._clock = clock

    async def profile(self, guild_id: int, discord_id: int) -> MemberProfile:
        return await self._repo.get(guild_id, discord_id)

    async def hidden_in(self, guild_id: int) -> frozenset[int]:
        """The guild's members who chose to hide."""
        profiles = await self._repo.for_guild(guild_id)
        return frozenset(member for member, profile in profiles.items() if profile.hidden)

    async def set_nickname(
        self, guild_id: int, discord_id: int, nickname: str | None
    ) -> MemberProfile:
        """Show the member as `nickname` (validated) in the guild; None: their display name."""
        name = None if nickname is None else validated_nickname(nickname)
        current = await self._repo.get(guild_id, discord_id)
        updated = replace(current, nickname=name)
        await self._repo.save(updated, self._clock.now())
        log.info("member profile updated in guild %d (nickname)", guild_id)
        return updated

    async def set_hidden(self, guild_id: int, discord_id: int, *, hidden: bool) -> MemberProfile:
        """Leave the member out of the guild's public posts and pages, or show them again."""
        current = await self._repo.get(guild_id, discord_id)
        updated = replace(current, hidden=hidden)
        await self._repo.save(updated, self._clock.now())
        log.info("member profile updated in guild %d (hidden=%s)", guild_id, hidden)
        return updated
