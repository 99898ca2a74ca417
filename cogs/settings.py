"""`/settings`: a server's defaults for new challenges, and who counts as a challenge admin.

Without options it shows the current settings. The time zone, post time and leaderboard
channel are the defaults of `/challenge create`; the admin role lets its members run the admin
commands without Manage Server. `units` (metric or imperial) is how every distance is shown and
how a bare number typed as a distance goal or cap is read (stored values stay in km). Only
members with Manage Server can change the admin role (a role holder must not be able to hand
the role's powers to another role).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.challenges.model import GuildSettings, format_post_time
from bot.discord_bot import StrideBot
from bot.domain import Units
from bot.errors import UserError
from cogs._autocomplete import time_zones
from cogs._checks import Interaction, admin_only, ensure_can_post, guild_id_of
from cogs._colours import COLOUR_CHALLENGES
from cogs._transformers import TimeArg

UNIT_LABELS = {
    Units.METRIC: "Metric: kilometres (km)",
    Units.IMPERIAL: "Imperial: miles (mi)",
}
UNIT_CHOICES = [
    app_commands.Choice(name=label, value=units.value) for units, label in UNIT_LABELS.items()
]


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Stride settings for this server", colour=COLOUR_CHALLENGES)
    embed.add_field(name="Time zone", value=settings.time_zone, inline=True)
    embed.add_field(name="Daily post", value=format_post_time(settings.post_time), inline=True)
    channel = (
        f"<#{settings.leaderboard_channel_id}>"
        if settings.leaderboard_channel_id
        else "Not set (the channel /challenge create is run in)"
    )
    embed.add_field(name="Leaderboard channel", value=channel, inline=False)
    role = (
        f"<@&{settings.admin_role_id}>"
        if settings.admin_role_id
        else "Not set (Manage Server only)"
    )
    embed.add_field(name="Admin role", value=role, inline=False)
    embed.add_field(name="Units", value=UNIT_LABELS[settings.units], inline=False)
    embed.set_footer(text="These are the defaults of /challenge create.")
    return embed


class SettingsCog(commands.Cog):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description="This server's defaults for challenges")
    @app_commands.describe(
        time_zone="Default time zone of new challenges, e.g. Europe/London",
        post_time="Default time of the daily leaderboard post, HH:MM",
        leaderboard_channel="Default channel for leaderboards",
        admin_role="A role whose members may run the challenge admin commands",
        clear_admin_role="Remove the admin role (Manage Server only)",
        units="How distances are shown and typed: km (metric) or miles (imperial)",
    )
    @app_commands.choices(units=UNIT_CHOICES)
    @app_commands.autocomplete(time_zone=time_zones)
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only
    async def settings(
        self,
        interaction: Interaction,
        time_zone: str | None = None,
        post_time: TimeArg | None = None,
        leaderboard_channel: discord.TextChannel | None = None,
        admin_role: discord.Role | None = None,
        clear_admin_role: bool = False,
        units: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        service = self.bot.services.challenges
        if (
            admin_role is not None or clear_admin_role
        ) and not interaction.permissions.manage_guild:
            raise UserError(
                "Only members with the Manage Server permission can change the admin role."
            )
        if admin_role is not None and admin_role.is_default():
            raise UserError("@everyone cannot be the admin role: pick a role only admins have.")
        if leaderboard_channel is not None:
            ensure_can_post(leaderboard_channel)
        unchanged = (
            time_zone is None
            and post_time is None
            and leaderboard_channel is None
            and admin_role is None
            and not clear_admin_role
            and units is None
        )
        if unchanged:
            current = await service.guild_settings(guild_id)
            await interaction.response.send_message(embed=settings_embed(current), ephemeral=True)
            return
        updated = await service.update_guild_settings(
            guild_id,
            time_zone=time_zone,
            post_time=post_time,
            leaderboard_channel_id=None if leaderboard_channel is None else leaderboard_channel.id,
            admin_role_id=None if admin_role is None else admin_role.id,
            clear_admin_role=clear_admin_role,
            units=None if units is None else Units(units.value),
        )
        await interaction.response.send_message(
            "Saved.", embed=settings_embed(updated), ephemeral=True
        )


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(SettingsCog(bot))
