"""The Discord side of the challenge cog tests: one guild with a channel the bot may post in.

Interactions, guilds, channels, members and roles are the `spec_set` doubles of
`tests.doubles.interaction`, so an attribute the real classes lack fails the test. The
services behind the cogs are the real ones over a real (temporary) database; the clock is
fake (see `tests.challenges.fakes.START`: Monday morning in Auckland, Sunday in
Los Angeles).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from tests.challenges.fakes import ADMIN, CHANNEL, GUILD
from tests.doubles.interaction import guild, interaction, member, text_channel

ADMIN_ROLE = 940_000_000_000_000_001
OTHER_ROLE = 940_000_000_000_000_002
LEADERBOARD = 910_000_000_000_000_002


class Discord:
    """One guild with a channel the bot may post in, and a way to make interactions."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.guild = guild(GUILD)
        self.channel = text_channel(self.guild, CHANNEL)

    def interaction(
        self,
        user_id: int = ADMIN,
        *,
        manage_guild: bool = True,
        roles: tuple[int, ...] = (),
        name: str = "Admin",
    ) -> Any:
        """A command of the member `user_id` in the world's channel."""
        return interaction(
            invoker=member(user_id, roles=roles, name=name),
            guild_id=GUILD,
            guild=self.guild,
            channel=self.channel,
            permissions=discord.Permissions(manage_guild=manage_guild),
            client=self.bot,
        )


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


async def run_checks(command: Any, double: Any) -> bool:
    """Run a command's checks on the interaction `double` as discord.py does before calling
    the command."""
    return all([await check(double) for check in command.checks])
