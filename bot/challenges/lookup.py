"""Finding a guild's challenge by the name someone typed, or a `UserError` saying there is none."""

from __future__ import annotations

from bot.challenges.model import Challenge
from bot.errors import UserError
from bot.storage.challenges import ChallengesRepo


async def find_challenge(challenges: ChallengesRepo, guild_id: int, name: str) -> Challenge:
    """The guild's challenge called `name` (any case), or a UserError."""
    challenge = await challenges.get_by_name(guild_id, name)
    if challenge is None:
        raise UserError(
            f"There is no challenge called “{name.strip()}” in this server: pick one from the list."
        )
    return challenge
