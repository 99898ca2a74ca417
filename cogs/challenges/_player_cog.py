"""`/challenges`, `/join` and `/leave`: the commands every member sees.

The `/challenge` group is hidden from members without Manage Server, and Discord can only hide
whole top-level commands; players browse challenges with `/challenges` instead.
"""

from __future__ import annotations

import datetime as dt

from discord import app_commands
from discord.ext import commands

from bot.challenges.service import ChallengeService
from bot.discord_bot import StrideBot
from bot.render.text import format_date
from cogs._autocomplete import active_challenge_names, challenge_names
from cogs._checks import Interaction, guild_id_of
from cogs.challenges._browse import send_info, send_listing
from cogs.challenges._embeds import challenge_card, escaped_name


class PlayerCog(commands.Cog):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _challenges(self) -> ChallengeService:
        return self.bot.services.challenges

    def _now(self) -> dt.datetime:
        return self.bot.services.clock.now()

    @app_commands.command(
        name="challenges", description="This server's challenges, or one challenge's rules"
    )
    @app_commands.guild_only()
    @app_commands.describe(challenge="Show this challenge's rules and players (empty: the list)")
    @app_commands.autocomplete(challenge=challenge_names)
    async def challenges_public(
        self, interaction: Interaction, challenge: str | None = None
    ) -> None:
        if challenge is None:
            await send_listing(interaction)
        else:
            await send_info(interaction, challenge)

    @app_commands.command(name="join", description="Join a challenge")
    @app_commands.describe(challenge="The challenge to join (not needed when only one is open)")
    @app_commands.autocomplete(challenge=active_challenge_names)
    @app_commands.guild_only()
    async def join(self, interaction: Interaction, challenge: str | None = None) -> None:
        joined = await self._challenges.join(
            guild_id_of(interaction),
            challenge,
            interaction.user.id,
            interaction.user.display_name,
        )
        found = joined.challenge
        if found.start > found.today(self._now()):
            when = f"It starts on {format_date(found.start, padded=True)}."
        elif joined.participant.joined_on > found.start:
            when = (
                "You joined late: your days count from today, "
                f"{format_date(joined.participant.joined_on, padded=True)}."
            )
        else:
            when = "Your days count from the start."
        players = len(await self._challenges.participants(found.id))
        units = (await self._challenges.guild_settings(found.guild_id)).units
        await interaction.response.send_message(
            f"You are in **{escaped_name(found)}**! {when}",
            embed=challenge_card(found, units=units, players=players),
            ephemeral=True,
        )

    @app_commands.command(name="leave", description="Leave a challenge")
    @app_commands.describe(challenge="The challenge to leave (not needed when you are in one)")
    @app_commands.autocomplete(challenge=active_challenge_names)
    @app_commands.guild_only()
    async def leave(self, interaction: Interaction, challenge: str | None = None) -> None:
        left = await self._challenges.leave(
            guild_id_of(interaction), challenge, interaction.user.id
        )
        await interaction.response.send_message(
            f"You left **{escaped_name(left)}**; your scores in it are gone.", ephemeral=True
        )
