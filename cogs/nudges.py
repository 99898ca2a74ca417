"""`/nudges [on|off]`: a member's own switch for nudge DMs (off until they turn it on).

Discord only: the switch is `services.nudges` (`bot.nudges.NudgeService`). Without an option
the reply says whether nudges are on, what they reveal and how often they come.
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import StrideBot
from bot.nudges import NudgePolicy, NudgeService

Interaction = discord.Interaction[StrideBot]


def what_nudges_are(policy: NudgePolicy) -> str:
    return (
        "A nudge is a DM when someone passes you in a challenge (it names them and by how "
        "much, which also tells you they just synced), or how far you are from today's goal; "
        f"at most one every {policy.interval_hours} h, only from {policy.window} in the "
        "challenge's time zone, and only in challenges whose admins allow them."
    )


def nudges_reply(enabled: bool, policy: NudgePolicy, *, changed: bool) -> str:
    if enabled:
        head = "Nudges are on." if changed else "Your nudges are on."
        return f"{head} {what_nudges_are(policy)} /nudges off stops them."
    head = "Nudges are off: Stride sends you none." if changed else "Your nudges are off."
    return head if changed else f"{head} {what_nudges_are(policy)} /nudges on turns them on."


class NudgesCog(commands.Cog):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _nudges(self) -> NudgeService:
        # Until `Services` has `nudges` (the issue 12 wiring); then this ignore goes.
        nudges: NudgeService = self.bot.services.nudges
        return nudges

    @app_commands.command(
        name="nudges", description="DMs when someone passes you, or how far today's goal is"
    )
    @app_commands.describe(state="on: send me nudges; off: never (leave out to see yours)")
    @app_commands.guild_only()
    async def nudges(
        self, interaction: Interaction, state: Literal["on", "off"] | None = None
    ) -> None:
        member = interaction.user.id
        if state is None:
            enabled = await self._nudges.member_enabled(member)
        else:
            enabled = state == "on"
            await self._nudges.set_member(member, enabled=enabled)
        await interaction.response.send_message(
            nudges_reply(enabled, self._nudges.policy, changed=state is not None),
            ephemeral=True,
        )


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(NudgesCog(bot))
