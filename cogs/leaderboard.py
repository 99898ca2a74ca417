"""`/leaderboard [challenge]`, `/me` and `/sync`: the live standings, for the caller's eyes only.

Discord only: the standings come from `services.standings` (stored data, no provider call:
through today, today provisional) and are laid out by `bot.render.leaderboard` as the daily
post lays them out, each player's row saying when their data was last synced, in the
challenge's time zone. `/me` works in a DM with the bot too: it lists every challenge the
caller plays in, whichever server it is in. `/sync` fetches the caller's own data now
(`services.member_sync`), once per cooldown, and says how it went.
"""

from __future__ import annotations

import datetime as dt

import discord
from discord import app_commands
from discord.ext import commands

from bot.challenges.model import Challenge
from bot.challenges.service import ChallengeListing, ChallengeService
from bot.daily import Board, PlayerSummary, StandingsReader
from bot.daily.fetch import FetchFailure
from bot.discord_bot import StrideBot, to_discord_embed
from bot.errors import UserError
from bot.providers.apple_health import NAME as APPLE_HEALTH
from bot.render.leaderboard import EmbedContent, render_daily_post
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
from bot.sync.member import AccountRefresh, Refresh, RefreshStatus
from bot.sync.worker import SyncStatus
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


def discord_time(instant: dt.datetime) -> str:
    """A Discord timestamp that reads 'in 5 minutes' in every viewer's own language."""
    return f"<t:{int(instant.timestamp())}:R>"


def synced_label(board: Board, player_id: int) -> str:
    """'synced 14:05' (on the board's day, in the challenge's time zone), 'synced Tue 2 Jun
    14:05' (before it), or 'not synced yet'."""
    synced = board.synced_at.get(player_id)
    if synced is None:
        return "not synced yet"
    local = synced.astimezone(board.challenge.zone)
    when = (
        f"{local:%H:%M}"
        if local.date() == board.day
        else f"{format_date(local.date())} {local:%H:%M}"
    )
    return f"synced {when}"


def live_post(board: Board) -> EmbedContent | None:
    """The live standings as the daily post lays them out (today's values, ⏳ provisional),
    each player's row ending with when their data was last synced; the results unchanged."""
    if board.day is None or board.final:
        return board.post()
    return render_daily_post(
        board.standings,
        board.names,
        challenge_name=board.challenge.name,
        day=board.day,
        units=board.units,
        hidden=board.hidden,
        previous_ranks=board.previous_ranks,
        row_note=lambda player_id: synced_label(board, player_id),
        footer_note=f"sync times in {board.challenge.time_zone}",
        corrected=board.corrected,
    )


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
        f"**{format_score(me.score, standings.rules, board.units)}**"
        if me.has_data
        else f"No data yet · {len(standings.players)} players"
    ]
    last = board.day
    marker = " ⏳" if last in standings.provisional_days else ""
    lines.append(f"{format_date(last)}{marker}: {day_cell(standings, me, last, board.units)}")
    lines.append(f"Streak: {me.current_streak} · best {me.best_streak}")
    if me.player_id in board.hidden:
        lines.append("Hidden from this server's posts and pages (/privacy hide)")
    if not board.final:
        label = synced_label(board, me.player_id)
        lines.append(f"{label[0].upper()}{label[1:]} ({board.challenge.time_zone})")
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


def account_line(account: AccountRefresh, display_name: str) -> str:
    """How one account's fetch went, in words the member can act on."""
    outcome = account.outcome
    if account.provider == APPLE_HEALTH:  # nothing to fetch: the phone uploads by itself
        return (
            f"**{display_name}**: your iPhone sends its data itself; run its automation or "
            "shortcut to send it now."
        )
    if outcome is None:
        return f"⏳ **{display_name}**: still fetching; /leaderboard shows it once it is in."
    if outcome.status is SyncStatus.SYNCED:
        return f"✓ **{display_name}**: synced."
    if outcome.status is SyncStatus.NOTHING_TO_FETCH:
        return f"**{display_name}**: nothing to fetch, no running challenge needs its data."
    if outcome.status is SyncStatus.RETRYING and outcome.retry_at is not None:
        return f"**{display_name}** did not answer: I try again {discord_time(outcome.retry_at)}."
    if outcome.failure is FetchFailure.REVOKED:
        return f"**{display_name}** needs linking again: use /link."
    return f"**{display_name}** answered something I could not use; the next sync tries again."


def refresh_message(refresh: Refresh, display_names: dict[str, str]) -> str:
    """The /sync reply: what happened to each account, and when the next /sync is possible."""
    if refresh.status is RefreshStatus.NO_ACCOUNTS:
        return "You have no linked account to sync: /link one first."
    if refresh.status is RefreshStatus.COOLING_DOWN and refresh.try_again_at is not None:
        return f"You synced a moment ago: you can /sync again {discord_time(refresh.try_again_at)}."
    lines = [
        account_line(account, display_names.get(account.provider, account.provider))
        for account in refresh.accounts
    ]
    if refresh.try_again_at is not None:
        lines.append(f"You can /sync again {discord_time(refresh.try_again_at)}.")
    return "\n".join(lines)


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
        # First: Discord allows 3 s for an answer, and the database may be busy (a storm of
        # notifications being queued, a big challenge being scored).
        await interaction.response.defer(ephemeral=True, thinking=True)
        if challenge:
            found = await self._challenges.find(guild_id, challenge)
        else:
            listing = await self._challenges.listing(guild_id)
            mine = set(await self._standings.challenge_ids_of(interaction.user.id))
            found = pick_default(listing, mine)
        post = live_post(await self._standings.current(found))
        if post is None:
            await interaction.followup.send(
                f"**{escape_markdown(found.name)}** starts on {format_date(found.start)}: the "
                "standings begin with its first day.",
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

    @app_commands.command(name="sync", description="Fetch your latest data from your devices now")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def sync(self, interaction: Interaction) -> None:
        # The fetch takes a moment (and is waited for a bounded time): answer first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        refresh = await self.bot.services.member_sync.refresh(interaction.user.id)
        names = {name: p.info.display_name for name, p in self.bot.services.providers.items()}
        await interaction.followup.send(refresh_message(refresh, names), ephemeral=True)


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(LeaderboardCog(bot))
