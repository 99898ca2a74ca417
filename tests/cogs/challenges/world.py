"""The Discord side of the challenge cog tests: one guild with a channel the bot may post in.

Interactions, guilds, channels, members and roles are `create_autospec(..., spec_set=True)`
doubles of discord.py's classes, so an attribute the real classes lack fails the test. The
services behind the cogs are the real ones over a real (temporary) database; the clock is
fake (see `tests.challenges.fakes.START`: Monday morning in Auckland, Sunday in
Los Angeles).
"""

from __future__ import annotations

from typing import Any
from unittest.mock import create_autospec

import discord
from discord import app_commands

from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from tests.challenges.fakes import ADMIN, CHANNEL, GUILD

ADMIN_ROLE = 940_000_000_000_000_001
OTHER_ROLE = 940_000_000_000_000_002
LEADERBOARD = 910_000_000_000_000_002
ALL_POST_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True
)


# --------------------------------------------------------------------------- doubles


def role(role_id: int, *, default: bool = False) -> Any:
    double = create_autospec(discord.Role, instance=True, spec_set=True)
    double.id = role_id
    double.is_default.return_value = default
    return double


def member(user_id: int, *, roles: tuple[int, ...] = (), name: str = "Player") -> Any:
    double = create_autospec(discord.Member, instance=True, spec_set=True)
    double.id = user_id
    double.display_name = name
    double.mention = f"<@{user_id}>"
    double.roles = [role(r) for r in roles]
    return double


def guild() -> Any:
    double = create_autospec(discord.Guild, instance=True, spec_set=True)
    double.id = GUILD
    double.me = member(1, name="Stride")
    double.get_channel.return_value = None
    return double


def text_channel(
    server: Any, channel_id: int = CHANNEL, perms: discord.Permissions = ALL_POST_PERMISSIONS
) -> Any:
    double = create_autospec(discord.TextChannel, instance=True, spec_set=True)
    double.id = channel_id
    double.mention = f"<#{channel_id}>"
    double.guild = server
    double.permissions_for.return_value = perms
    return double


class Discord:
    """One guild with a channel the bot may post in, and a way to make interactions."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.guild = guild()
        self.channel = text_channel(self.guild)

    def interaction(
        self,
        user_id: int = ADMIN,
        *,
        manage_guild: bool = True,
        roles: tuple[int, ...] = (),
        name: str = "Admin",
    ) -> Any:
        double = create_autospec(discord.Interaction, instance=True, spec_set=True)
        double.response = create_autospec(discord.InteractionResponse, instance=True, spec_set=True)
        double.response.is_done.return_value = False
        double.followup = create_autospec(discord.Webhook, instance=True, spec_set=True)
        double.user = member(user_id, roles=roles, name=name)
        double.permissions = discord.Permissions(manage_guild=manage_guild)
        double.client = self.bot
        double.guild = self.guild
        double.guild_id = GUILD
        double.channel = self.channel
        double.channel_id = CHANNEL
        double.command = None
        return double


def only_reply(double: Any) -> tuple[str, dict[str, Any]]:
    """The one message the user saw: a direct response or a follow-up after a defer."""
    calls = [*double.response.send_message.await_args_list, *double.followup.send.await_args_list]
    assert len(calls) == 1, calls
    call = calls[0]
    text = call.args[0] if call.args else call.kwargs.get("content", "") or ""
    return text, call.kwargs


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}: {field.value}" for field in embed.fields]
    return "\n".join(parts)


async def create(cog: ChallengeAdminCog, world: Discord, **options: Any) -> Any:
    """Run /challenge create as an admin in the world's channel; returns the interaction."""
    double = world.interaction()
    values: dict[str, Any] = {"name": "Spring Steps", "channel": world.channel}
    values.update(options)
    await cog.create.callback(cog, double, **values)
    return double


def choice(value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=value, value=value)


async def stored_challenges(db: Database) -> int:
    return int(await db.fetch_value("SELECT COUNT(*) FROM challenges"))


async def run_checks(command: Any, interaction: Any) -> bool:
    """Run a command's checks as discord.py does before calling it."""
    return all([await check(interaction) for check in command.checks])
