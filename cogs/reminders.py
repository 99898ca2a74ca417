"""`/remind on|off|status`: a member's own daily reminder DM (off until they turn it on).

Discord only: the reminders are `services.reminders` (`bot.reminders.ReminderService`). `on`
takes the local time (HH:MM, a clear error otherwise) and, optionally, the member's time zone
(without one: the member's own, else their challenge's).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import StrideBot
from bot.reminders import ReminderService
from bot.reminders.messages import OFF_REPLY, status_reply
from cogs._autocomplete import time_zones
from cogs._transformers import TimeArg

Interaction = discord.Interaction[StrideBot]


class RemindersCog(commands.Cog):
    remind = app_commands.Group(
        name="remind",
        description="A daily DM when today's goal is not met yet",
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=False, private_channel=False
        ),
    )

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _reminders(self) -> ReminderService:
        return self.bot.services.reminders

    @remind.command(name="on", description="Remind me every day at this time if my goal is not met")
    @app_commands.describe(
        time="When, HH:MM on a 24-hour clock, e.g. 20:00",
        time_zone="Your time zone, e.g. Europe/Berlin (default: your challenge's)",
    )
    @app_commands.autocomplete(time_zone=time_zones)
    async def on(
        self, interaction: Interaction, time: TimeArg, time_zone: str | None = None
    ) -> None:
        status = await self._reminders.turn_on(interaction.user.id, time, time_zone)
        await interaction.response.send_message(
            status_reply(status.at, status.zone, own_zone=status.own_zone), ephemeral=True
        )

    @remind.command(name="off", description="No more reminder DMs")
    async def off(self, interaction: Interaction) -> None:
        was_on = await self._reminders.turn_off(interaction.user.id)
        text = "Reminders are off: Stride sends you none." if was_on else OFF_REPLY
        await interaction.response.send_message(text, ephemeral=True)

    @remind.command(name="status", description="Whether and when you get a reminder DM")
    async def status(self, interaction: Interaction) -> None:
        status = await self._reminders.status(interaction.user.id)
        text = (
            OFF_REPLY
            if status is None
            else status_reply(status.at, status.zone, own_zone=status.own_zone)
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(RemindersCog(bot))
