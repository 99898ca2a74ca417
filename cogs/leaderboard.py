"""`/leaderboard [challenge]` and `/me`: the standings on demand, for the caller's eyes only.

Discord only: the standings come from `services.standings` (stored data, no provider call) and
are laid out by `bot.render.leaderboard`, exactly as the daily post shows them. `/me` works in a
DM with the bot too: it lists every challenge the caller plays in, whichever server it is in.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.challenges.model import Challenge
from bot.challenges.service import ChallengeListing, ChallengeService
from bot.daily import PlayerSummary, StandingsReader
from bot.discord_bot import StrideBot, to_discord_embed
from bot.errors import UserError
from bot.render.standings import day_cell, format_score
from bot.render.text import (
    FIELD_COUNT_LIMIT,
    FIELD_VALUE_LIMIT,
    TOTAL_LIMIT,
    discord_length,
    escape_markdown,
    format_date,
    truncate,
)
from cogs._autocomplete import challenge_names

Interaction = discord.Interaction[StrideBot]

COLOUR_ME = 0x2E9E6B


def pick_default(listing: ChallengeListing, mine: set[int]) -> Challenge:
    """Without a challenge option: the guild's only running challenge, or the only running
    one the caller plays in, or else the one that ended last; otherwise ask them to pick."""
    running = listing.running
    for candidates in (running, [c for c in running if c.id in mine]):
        if len(candidates) == 1:
            return candidates[0]
    if running:
        names = ", ".join(f"“{c.name}”" for c in running[:5])
        raise UserError(f"Several challenges are running ({names}): pick one with the option.")
    if listing.past:
        return listing.past[0]
    raise UserError("This server has no challenge with standings yet: /challenge list shows them.")


def summary_field(summary: PlayerSummary) -> tuple[str, str]:
    """'June Steps' → 'Rank **2** of 12 · **45,210 steps**', the last day, the streak."""
    board, me = summary.board, summary.standing
    standings = board.standings
    name = truncate(escape_markdown(board.challenge.name), 200)
    if board.final:
        name += " 🏁"
    if board.day is None:
        return name, f"Starts {format_date(board.challenge.start)}: no standings yet."
    lines = [
        f"Rank **{me.rank}** of {len(standings.players)} · "
        f"**{format_score(me.score, standings.rules)}**"
        if me.has_data
        else f"No data yet · {len(standings.players)} players"
    ]
    last = board.day
    marker = " ⏳" if last in standings.provisional_days else ""
    lines.append(f"{format_date(last)}{marker}: {day_cell(standings, me, last)}")
    lines.append(f"Streak: {me.current_streak} · best {me.best_streak}")
    return name, truncate("\n".join(lines), FIELD_VALUE_LIMIT)


def me_embed(summaries: list[PlayerSummary]) -> discord.Embed:
    embed = discord.Embed(title="Your challenges", colour=COLOUR_ME)
    if not summaries:
        embed.description = "You are not in any challenge yet: /join one in your server."
        return embed
    used = discord_length(embed.title or "")
    shown = 0
    for summary in summaries[:FIELD_COUNT_LIMIT]:
        name, value = summary_field(summary)
        if used + discord_length(name) + discord_length(value) > TOTAL_LIMIT - 100:
            break
        embed.add_field(name=name, value=value, inline=False)
        used += discord_length(name) + discord_length(value)
        shown += 1
    if shown < len(summaries):
        embed.set_footer(text=f"…and {len(summaries) - shown} more")
    else:
        embed.set_footer(text="⏳ provisional: late syncs can still change that day")
    return embed


class LeaderboardCog(commands.Cog):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _standings(self) -> StandingsReader:
        return self.bot.services.standings

    @property
    def _challenges(self) -> ChallengeService:
        return self.bot.services.challenges

    @app_commands.command(name="leaderboard", description="The standings of a challenge, now")
    @app_commands.describe(challenge="The challenge (not needed when one is running)")
    @app_commands.autocomplete(challenge=challenge_names)
    @app_commands.guild_only()
    async def leaderboard(self, interaction: Interaction, challenge: str | None = None) -> None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        if challenge:
            found = await self._challenges.find(guild_id, challenge)
        else:
            listing = await self._challenges.listing(guild_id)
            mine = set(await self._standings.challenge_ids_of(interaction.user.id))
            found = pick_default(listing, mine)
        # Scoring a big challenge from stored data can take longer than the 3 s Discord
        # allows for an answer.
        await interaction.response.defer(ephemeral=True, thinking=True)
        board = await self._standings.current(found)
        post = board.post()
        if post is None:
            await interaction.followup.send(
                f"**{escape_markdown(found.name)}** starts on {format_date(found.start)}: the "
                "first standings come the morning after its first day.",
                ephemeral=True,
            )
            return
        await interaction.followup.send(embed=to_discord_embed(post), ephemeral=True)

    @app_commands.command(name="me", description="Your values, points, ranks and streaks")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def me(self, interaction: Interaction) -> None:
        # One standings computation per challenge: may take longer than 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        summaries = await self._standings.summaries_for(interaction.user.id)
        await interaction.followup.send(embed=me_embed(summaries), ephemeral=True)


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(LeaderboardCog(bot))
