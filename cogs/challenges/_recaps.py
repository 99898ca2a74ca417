"""`/challenge recap`: the day a challenge's weekly recap is posted, and whether its days are
posted daily or only in the recap ("weekly only"); `bot.daily.recap.RecapService`.

A mixin of `ChallengeAdminCog` (the subcommand joins the shared `/challenge` group, `_group`).
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.challenges.model import Challenge
from bot.discord_bot import StrideBot
from bot.storage.recaps import DailyPosts, RecapSettings
from cogs._autocomplete import active_challenge_names
from cogs._checks import Interaction, admin_only, guild_id_of
from cogs.challenges._embeds import escaped_name
from cogs.challenges._group import CHALLENGE_GROUP

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_CHOICES = [app_commands.Choice(name=name, value=index) for index, name in enumerate(WEEKDAYS)]
POSTS_CHOICES = [
    app_commands.Choice(name="Every day, and the weekly recap", value=DailyPosts.DAILY.value),
    app_commands.Choice(
        name="Weekly recap only (days are still scored daily)", value=DailyPosts.WEEKLY_ONLY.value
    ),
]


def recap_reply(challenge: Challenge, settings: RecapSettings) -> str:
    name = escaped_name(challenge)
    day = WEEKDAYS[settings.recap_day]
    if settings.daily_posts is DailyPosts.WEEKLY_ONLY:
        posts = (
            "its days are no longer posted one by one (they are still scored every day, and "
            "the results post still comes)"
        )
    else:
        posts = "every day is posted too"
    text = f"**{name}**: the weekly recap is posted on {day}s, after that day's post; {posts}."
    if challenge.days <= 7:
        text += " It runs a week or less, so it has no weekly recap."
    return text


def recap_field(embed: discord.Embed, challenge: Challenge, settings: RecapSettings) -> None:
    """Add when the weekly recap comes to a challenge's info card (longer than a week only)."""
    if challenge.days <= 7:
        return
    day = WEEKDAYS[settings.recap_day]
    value = f"{day}s, after the daily post"
    if settings.daily_posts is DailyPosts.WEEKLY_ONLY:
        value = f"{day}s; the days are not posted one by one (weekly only)"
    embed.add_field(name="Weekly recap", value=value, inline=False)


class RecapCommands(commands.Cog):
    """`/challenge recap` (a mixin of `ChallengeAdminCog`)."""

    bot: StrideBot

    @CHALLENGE_GROUP.command(
        name="recap", description="The weekly recap's day, and whether each day is posted"
    )
    @app_commands.describe(
        challenge="The challenge (longer than a week)",
        day="The day the weekly recap is posted, after that day's post (default: Monday)",
        posts="Post every day and the recap (the default), or only the weekly recap",
    )
    @app_commands.choices(day=DAY_CHOICES)
    @app_commands.choices(posts=POSTS_CHOICES)
    @app_commands.autocomplete(challenge=active_challenge_names)
    @admin_only
    async def recap(
        self,
        interaction: Interaction,
        challenge: str,
        day: app_commands.Choice[int] | None = None,
        posts: app_commands.Choice[str] | None = None,
    ) -> None:
        found, settings = await self.bot.services.recaps.configure(
            guild_id_of(interaction),
            challenge,
            recap_day=None if day is None else day.value,
            daily_posts=None if posts is None else DailyPosts(posts.value),
            by=interaction.user.id,
        )
        await interaction.response.send_message(recap_reply(found, settings), ephemeral=True)
