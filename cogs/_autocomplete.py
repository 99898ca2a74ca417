"""Autocomplete for the options every cog shares: challenges, teams, time zones.

Each answers from one quick query and offers at most `AUTOCOMPLETE_LIMIT` (25) choices, the
most Discord shows.
"""

from __future__ import annotations

from discord import app_commands

from bot.challenges.inputs import AUTOCOMPLETE_LIMIT, match_time_zones
from cogs._checks import Interaction


def _choices(names: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=n, value=n) for n in names[:AUTOCOMPLETE_LIMIT]]


async def challenge_names(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Any challenge of this guild."""
    if interaction.guild_id is None:
        return []
    return _choices(
        await interaction.client.services.challenges.challenge_names(interaction.guild_id, current)
    )


async def active_challenge_names(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Challenges of this guild that have not ended."""
    if interaction.guild_id is None:
        return []
    return _choices(
        await interaction.client.services.challenges.challenge_names(
            interaction.guild_id, current, active_only=True
        )
    )


async def time_zones(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _choices(match_time_zones(current, AUTOCOMPLETE_LIMIT))


async def team_names(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Teams of the challenge picked in the same command."""
    name = getattr(interaction.namespace, "challenge", None)
    if interaction.guild_id is None or not name:
        return []
    return _choices(
        await interaction.client.services.challenges.team_name_choices(
            interaction.guild_id, str(name), current
        )
    )
