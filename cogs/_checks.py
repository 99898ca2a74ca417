"""The interaction type the cogs' commands take, and the checks the admin commands share.

`admin_check` (`admin_only` as a decorator) lets in members with Manage Server or the guild's
configured admin role (`/settings admin_role`) and refuses everyone else with one ephemeral
line. `ensure_can_post` names exactly which permissions the bot lacks in a leaderboard channel.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord_bot import StrideBot, missing_post_permissions
from bot.errors import UserError

Interaction = discord.Interaction[StrideBot]


def guild_id_of(interaction: Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def admin_check(interaction: Interaction) -> bool:
    """Manage Server, or the guild's configured admin role; otherwise a plain refusal."""
    guild_id = guild_id_of(interaction)
    if interaction.permissions.manage_guild:
        return True
    settings = await interaction.client.services.challenges.guild_settings(guild_id)
    role_id = settings.admin_role_id
    member = interaction.user
    if (
        role_id is not None
        and isinstance(member, discord.Member)
        and any(role.id == role_id for role in member.roles)
    ):
        return True
    if role_id is None:
        raise app_commands.CheckFailure(
            "Only members with the Manage Server permission can use this command."
        )
    raise app_commands.CheckFailure(
        f"Only members with the Manage Server permission or the <@&{role_id}> role can use "
        "this command."
    )


admin_only = app_commands.check(admin_check)


def ensure_can_post(channel: object) -> discord.TextChannel:
    """The channel, if the bot can post the leaderboard there (messages, embeds, the chart);
    otherwise a UserError naming exactly which permissions it lacks."""
    if not isinstance(channel, discord.TextChannel):
        raise UserError("Pick a text channel for the leaderboard with the channel option.")
    missing = missing_post_permissions(channel, needs_files=True)
    if missing:
        raise UserError(
            f"I cannot post the leaderboard in {channel.mention}: I need {', '.join(missing)} "
            "there. Give my role those permissions in the channel's settings, or pick another "
            "channel."
        )
    return channel
