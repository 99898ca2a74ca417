"""`/challenge adjust`: an admin sets or fixes a player's value for one day, until the
challenge's results are posted (`bot.daily.adjust.AdjustmentService`); and the corrections
field of `/challenge info`.

A mixin of `ChallengeAdminCog` (the subcommand joins the shared `/challenge` group, `_group`).
"""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.challenges.model import Challenge
from bot.daily.adjust import MAX_REASON_LENGTH, Adjusted
from bot.daily.corrections import MARK, amount_change
from bot.discord_bot import StrideBot
from bot.domain import Units
from bot.render.text import FIELD_VALUE_LIMIT, escape_markdown, fit_lines, format_date
from bot.storage.adjustments import Adjustment
from cogs._autocomplete import active_challenge_names
from cogs._checks import Interaction, admin_only, guild_id_of
from cogs._transformers import DateArg
from cogs.challenges._group import CHALLENGE_GROUP
from cogs.challenges._options import AmountArg

ReasonArg = app_commands.Range[str, 1, MAX_REASON_LENGTH]
CORRECTIONS_SHOWN = 15


def adjust_reply(adjusted: Adjusted) -> str:
    """What the admin reads after an adjustment."""
    adjustment = adjusted.adjustment
    name = escape_markdown(adjusted.challenge.name)
    change = amount_change(adjustment, adjusted.challenge.metric, adjusted.units)
    final = (
        " That day was already final: its scores are rewritten, and the next post says so."
        if adjustment.was_final
        else ""
    )
    told = (
        "They got a DM about it."
        if adjusted.member_told
        else "Stride could not reach them by DM (closed DMs?): tell them yourself."
    )
    return (
        f"Corrected <@{adjustment.discord_id}>'s "
        f"{format_date(adjustment.day, year=True, padded=True)} in **{name}**: {change}. "
        f"The standings are rescored, and the next post marks it with {MARK}.{final} {told}"
    )


def correction_line(adjustment: Adjustment, challenge: Challenge, units: Units) -> str:
    """'<@1> · Tue 02 Jun: 8,000 steps → 10,000 steps · by <@2> on 03 Jun · “lost sync”'."""
    by = "an admin" if adjustment.adjusted_by is None else f"<@{adjustment.adjusted_by}>"
    return (
        f"<@{adjustment.discord_id}> · {format_date(adjustment.day, padded=True)}: "
        f"{amount_change(adjustment, challenge.metric, units)} · by {by} on "
        f"{format_date(adjustment.adjusted_at.date(), weekday=False, padded=True)} · "
        f"“{escape_markdown(adjustment.reason)}”"
    )


def corrections_field(
    embed: discord.Embed, adjustments: Sequence[Adjustment], challenge: Challenge, units: Units
) -> None:
    """Add the challenge's corrections, the latest first, to its info card."""
    if not adjustments:
        return
    lines = [correction_line(a, challenge, units) for a in reversed(adjustments)]
    embed.add_field(
        name=f"Corrections by admins {MARK}",
        value=fit_lines(lines[:CORRECTIONS_SHOWN], FIELD_VALUE_LIMIT),
        inline=False,
    )


class CorrectionsCommands(commands.Cog):
    """`/challenge adjust` (a mixin of `ChallengeAdminCog`)."""

    bot: StrideBot

    @CHALLENGE_GROUP.command(name="adjust", description="Set or fix a player's value for one day")
    @app_commands.describe(
        challenge="The challenge (until its results are posted)",
        member="The player whose day to correct",
        day="The day, YYYY-MM-DD (from their first day to today)",
        value="What the day counts, e.g. 12000, 8 km or 5 mi (a bare number: the server's units)",
        reason="Why (the player is told; /challenge info shows it)",
    )
    @app_commands.autocomplete(challenge=active_challenge_names)
    @admin_only
    async def adjust(
        self,
        interaction: Interaction,
        challenge: str,
        member: discord.Member,
        day: DateArg,
        value: AmountArg,
        reason: ReasonArg,
    ) -> None:
        adjusted = await self.bot.services.adjustments.adjust(
            guild_id_of(interaction), challenge, member.id, day, value, reason,
            by=interaction.user.id,
        )  # fmt: skip
        await interaction.response.send_message(adjust_reply(adjusted), ephemeral=True)
