"""The `/challenge` group itself, shared by the modules that add subcommands to it
(`_admin_cog`, `_corrections`, `_recaps`): `ChallengeAdminCog` holds it, and discord.py binds
every subcommand to that cog, whose class inherits the other modules' mixins."""

from __future__ import annotations

import discord
from discord import app_commands

CHALLENGE_GROUP = app_commands.Group(
    name="challenge",
    description="Create and run fitness challenges (admins)",
    guild_only=True,
    allowed_contexts=app_commands.AppCommandContext(
        guild=True, dm_channel=False, private_channel=False
    ),
    default_permissions=discord.Permissions(manage_guild=True),
)
