"""`/challenge …` for admins, `/join` and `/leave` for players.

Discord only: options are parsed (dates, times, choices, ranges) and handed to
`services.challenges` (`bot.challenges.ChallengeService`), whose answers are rendered here.

Permissions: the `/challenge` group is hidden by default from members without Manage Server
(Discord can only hide whole top-level commands, so `list` and `info` are hidden with it; a
server can show the group to more members under Server Settings → Integrations). Every admin
subcommand also runs `admin_check`, which lets in Manage Server or the guild's configured admin
role (`/settings admin_role`) and refuses everyone else with one ephemeral line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.challenges.describe import describe_dates, describe_rules, post_time_text
from bot.challenges.inputs import (
    MAX_GRACE_HOURS,
    MAX_NAME_LENGTH,
    MAX_PLAYERS_LIMIT,
    MAX_TEAM_NAME_LENGTH,
    ChallengeDraft,
    ChallengeEdit,
    match_time_zones,
    parse_day,
    parse_time_of_day,
    user_error_from,
)
from bot.challenges.model import Challenge, Participant, Phase
from bot.challenges.presets import Preset
from bot.challenges.service import ChallengeListing, ChallengeService
from bot.challenges.teams import TEAM_NAMES
from bot.discord_bot import StrideBot, missing_post_permissions
from bot.domain import Metric, ScoringMode, TeamMode
from bot.errors import UserError
from bot.fair_play import Flag, format_amount

Interaction = discord.Interaction[StrideBot]

MAX_CHOICES = 25
FIELD_LIMIT = 1024
EMBED_LIMIT = 6000  # characters Discord accepts in one embed, all fields together
VIEW_TIMEOUT = 300  # seconds the Delete / review buttons stay usable
COLOUR = discord.Colour.from_rgb(46, 160, 67)

METRIC_CHOICES = [app_commands.Choice(name=m.label, value=m.value) for m in Metric]
MODE_LABELS = {
    ScoringMode.TOTAL: "Total (most wins)",
    ScoringMode.AVERAGE: "Daily average",
    ScoringMode.GOAL_DAYS: "Goal days (days reaching the goal)",
    ScoringMode.DAILY_RANK: "Daily rank (points table)",
    ScoringMode.TIERS: "Tiers (points per level reached)",
    ScoringMode.IMPROVEMENT: "Improvement over usual",
}
MODE_CHOICES = [app_commands.Choice(name=label, value=m.value) for m, label in MODE_LABELS.items()]
PRESET_CHOICES = [app_commands.Choice(name=p.label, value=p.value) for p in Preset]
TEAM_MODE_CHOICES = [
    app_commands.Choice(name="Sum of members' scores", value=TeamMode.SUM.value),
    app_commands.Choice(name="Average of members' scores", value=TeamMode.MEAN.value),
]
MANUAL_CHOICES = [
    app_commands.Choice(name="Manual entries count", value="allow"),
    app_commands.Choice(name="Manual entries do not count", value="forbid"),
]
LATE_JOIN_CHOICES = [
    app_commands.Choice(name="Count from the day they join", value="join_day"),
    app_commands.Choice(name="Count from the start (backfill)", value="backfill"),
]
# The choices of the settings /challenge create and /challenge edit share.
SETTING_CHOICES = {
    "metric": METRIC_CHOICES,
    "scoring": MODE_CHOICES,
    "manual_entries": MANUAL_CHOICES,
    "team_mode": TEAM_MODE_CHOICES,
    "late_join": LATE_JOIN_CHOICES,
}


# --------------------------------------------------------------------------- option parsing


class OptionError(UserError, app_commands.AppCommandError):
    """A bad option value: a UserError (shown as written) that discord.py passes through
    transformers unwrapped (it re-raises AppCommandErrors as they are)."""


class DateOption(app_commands.Transformer):
    """A civil date written YYYY-MM-DD."""

    async def transform(self, interaction: discord.Interaction[Any], value: str) -> dt.date:
        try:
            return parse_day(str(value))
        except UserError as exc:
            raise OptionError(str(exc)) from None


class TimeOption(app_commands.Transformer):
    """A time of day written HH:MM."""

    async def transform(self, interaction: discord.Interaction[Any], value: str) -> dt.time:
        try:
            return parse_time_of_day(str(value))
        except UserError as exc:
            raise OptionError(str(exc)) from None


DateArg = app_commands.Transform[dt.date, DateOption]
TimeArg = app_commands.Transform[dt.time, TimeOption]
# Bounded by the limits the service enforces; a metric's own range is checked there.
NameArg = app_commands.Range[str, 1, MAX_NAME_LENGTH]
AmountArg = app_commands.Range[float, 0, 1_000_000]
GraceArg = app_commands.Range[int, 0, MAX_GRACE_HOURS]
TeamNameArg = app_commands.Range[str, 1, MAX_TEAM_NAME_LENGTH]


def _choice(choice: app_commands.Choice[str] | None) -> str | None:
    return None if choice is None else choice.value


# --------------------------------------------------------------------------- checks


def _service(interaction: Interaction) -> ChallengeService:
    return interaction.client.services.challenges


def guild_id_of(interaction: Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def admin_check(interaction: Interaction) -> bool:
    """Manage Server, or the guild's configured admin role; otherwise a plain refusal."""
    guild_id = guild_id_of(interaction)
    if interaction.permissions.manage_guild:
        return True
    settings = await _service(interaction).guild_settings(guild_id)
    role_id = settings.admin_role_id
    member = interaction.user
    if (
        role_id is not None
        and isinstance(member, discord.Member)
        and any(role.id == role_id for role in member.roles)
    ):
        return True
    if role_id is None:
        raise app_commands.CheckFailure(
            "Only members with the Manage Server permission can use this command."
        )
    raise app_commands.CheckFailure(
        f"Only members with the Manage Server permission or the <@&{role_id}> role can use "
        "this command."
    )


admin_only = app_commands.check(admin_check)


def ensure_can_post(channel: object) -> discord.TextChannel:
    """The channel, if the bot can post the leaderboard there (messages, embeds, the chart);
    otherwise a UserError naming exactly which permissions it lacks."""
    if not isinstance(channel, discord.TextChannel):
        raise UserError("Pick a text channel for the leaderboard with the channel option.")
    missing = missing_post_permissions(channel, needs_files=True)
    if missing:
        raise UserError(
            f"I cannot post the leaderboard in {channel.mention}: I need {', '.join(missing)} "
            "there. Give my role those permissions in the channel's settings, or pick another "
            "channel."
        )
    return channel


# --------------------------------------------------------------------------- autocomplete


async def challenge_names(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Any challenge of this guild (at most 25, one query)."""
    if interaction.guild_id is None:
        return []
    names = await _service(interaction).challenge_names(interaction.guild_id, current)
    return [app_commands.Choice(name=n, value=n) for n in names[:MAX_CHOICES]]


async def active_challenge_names(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Challenges of this guild that have not ended (at most 25, one query)."""
    if interaction.guild_id is None:
        return []
    names = await _service(interaction).challenge_names(
        interaction.guild_id, current, active_only=True
    )
    return [app_commands.Choice(name=n, value=n) for n in names[:MAX_CHOICES]]


async def time_zones(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=n, value=n) for n in match_time_zones(current, MAX_CHOICES)]


async def team_names(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Teams of the challenge picked in the same command (at most 25, one query)."""
    name = getattr(interaction.namespace, "challenge", None)
    if interaction.guild_id is None or not name:
        return []
    teams = await _service(interaction).team_name_choices(interaction.guild_id, str(name), current)
    return [app_commands.Choice(name=t, value=t) for t in teams[:MAX_CHOICES]]


# --------------------------------------------------------------------------- rendering


def _fit(lines: Sequence[str], limit: int = FIELD_LIMIT) -> str:
    text = ""
    for index, line in enumerate(lines):
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > limit - 20:
            return f"{text}\n… and {len(lines) - index} more"
        text = candidate
    return text or "None."


def _name(challenge: Challenge) -> str:
    return discord.utils.escape_markdown(challenge.name)


def _what(challenge: Challenge) -> str:
    mode = MODE_LABELS[challenge.mode].split(" (")[0]
    if challenge.preset:
        return f"{Preset(challenge.preset).label} · {challenge.metric.label} · {mode}"
    return f"{challenge.metric.label} · {mode}"


def challenge_card(
    challenge: Challenge,
    *,
    players: int = 0,
    title: str | None = None,
    has_teams: bool = False,
) -> discord.Embed:
    """The summary card: what, when, where, the rules in plain words, and how to join."""
    embed = discord.Embed(
        title=title or challenge.name,
        description="\n".join(describe_rules(challenge, has_teams=has_teams)),
        colour=COLOUR,
    )
    embed.add_field(name="What", value=_what(challenge), inline=False)
    embed.add_field(name="Dates", value=describe_dates(challenge), inline=False)
    embed.add_field(name="Leaderboard", value=f"<#{challenge.channel_id}>", inline=True)
    embed.add_field(name="Daily post", value=post_time_text(challenge), inline=True)
    limit = f" of {challenge.max_players}" if challenge.max_players else ""
    embed.add_field(name="Players", value=f"{players}{limit}", inline=True)
    embed.set_footer(text="Join with /join, leave with /leave.")
    return embed


def _status_line(challenge: Challenge, today: dt.date) -> str:
    phase = challenge.phase(today)
    if phase is Phase.UPCOMING:
        days = (challenge.start - today).days
        return f"Starts in {days} day{'s' if days != 1 else ''}."
    if phase is Phase.RUNNING:
        return f"Running: day {(today - challenge.start).days + 1} of {challenge.days}."
    return "Ended early." if challenge.ended_at else "Over."


def info_embed(
    challenge: Challenge, participants: Sequence[Participant], today: dt.date
) -> discord.Embed:
    has_teams = any(p.team for p in participants)
    embed = challenge_card(challenge, players=len(participants), has_teams=has_teams)
    embed.insert_field_at(0, name="Status", value=_status_line(challenge, today), inline=False)
    lines = [
        f"<@{p.discord_id}>"
        + (f" · {discord.utils.escape_markdown(p.team)}" if p.team else "")
        + (f" · from {p.joined_on:%d %b}" if p.joined_on > challenge.start else "")
        for p in participants
    ]
    embed.add_field(name="Who is in", value=_fit(lines) if lines else "Nobody yet.", inline=False)
    return embed


def _listing_line(challenge: Challenge, players: int) -> str:
    if challenge.start == challenge.end:
        when = f"{challenge.start:%d %b %Y}"
    else:
        when = f"{challenge.start:%d %b} to {challenge.end:%d %b %Y}"
    who = f"{players} player{'s' if players != 1 else ''}"
    return f"**{_name(challenge)}** · {when} · {_what(challenge)} · {who}"


def listing_embed(listing: ChallengeListing) -> discord.Embed:
    embed = discord.Embed(title="Challenges in this server", colour=COLOUR)
    for title, challenges in (
        ("Running", listing.running),
        ("Upcoming", listing.upcoming),
        ("Past", listing.past[:10]),
    ):
        lines = [_listing_line(c, listing.players.get(c.id, 0)) for c in challenges]
        embed.add_field(name=title, value=_fit(lines) if lines else "None.", inline=False)
    return embed


def flag_text(flag: Flag, position: int, total: int) -> str:
    return (
        f"Flag {position} of {total}: <@{flag.discord_id}> on {flag.day:%a %d %b %Y}: "
        f"{format_amount(flag.metric, flag.value)}.\nWhy: {flag.reason}.\n"
        "Exclude keeps the value stored but leaves it out of the scores; Accept lets it count."
    )


# --------------------------------------------------------------------------- views


class ConfirmDeleteChallenge(discord.ui.View):
    """Delete / Cancel for `/challenge delete`, usable only by the admin who asked."""

    def __init__(self, service: ChallengeService, challenge: Challenge, user_id: int) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self._service = service
        self._challenge = challenge
        self._user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._user_id:
            await interaction.response.send_message(
                "Only the admin who asked can press this.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        try:
            await self._service.delete(self._challenge.guild_id, self._challenge.id)
        except UserError as exc:
            await interaction.response.edit_message(content=str(exc), view=None)
            return
        await interaction.response.edit_message(
            content=f"Deleted “{_name(self._challenge)}” with its players and scores.", view=None
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class ReviewView(discord.ui.View):
    """Walks an admin through a challenge's pending flags, one at a time."""

    def __init__(
        self, service: ChallengeService, guild_id: int, flags: Sequence[Flag], user_id: int
    ) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self._service = service
        self._guild_id = guild_id
        self._flags = list(flags)
        self._index = 0
        self._user_id = user_id

    @property
    def current(self) -> Flag | None:
        return self._flags[self._index] if self._index < len(self._flags) else None

    def text(self) -> str:
        flag = self.current
        if flag is None:
            return "All flags are reviewed."
        return flag_text(flag, self._index + 1, len(self._flags))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._user_id:
            await interaction.response.send_message(
                "Only the admin who opened this review can press these.", ephemeral=True
            )
            return False
        return True

    async def _decide(self, interaction: discord.Interaction[Any], *, exclude: bool) -> None:
        flag = self.current
        if flag is None:
            await interaction.response.edit_message(content=self.text(), view=None)
            return
        try:
            await self._service.decide_review(
                self._guild_id, flag.review_id, exclude=exclude, reviewed_by=interaction.user.id
            )
        except UserError as exc:  # e.g. the challenge was deleted meanwhile
            self.stop()
            await interaction.response.edit_message(content=str(exc), view=None)
            return
        self._index += 1
        if self.current is None:
            self.stop()
            await interaction.response.edit_message(content=self.text(), view=None)
        else:
            await interaction.response.edit_message(content=self.text(), view=self)

    @discord.ui.button(label="Exclude", style=discord.ButtonStyle.danger)
    async def exclude(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._decide(interaction, exclude=True)

    @discord.ui.button(label="Accept", style=discord.ButtonStyle.success)
    async def accept(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._decide(interaction, exclude=False)


# --------------------------------------------------------------------------- the cog


class ChallengesCog(commands.Cog):
    challenge = app_commands.Group(
        name="challenge",
        description="Create and run fitness challenges (admins)",
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=False, private_channel=False
        ),
        default_permissions=discord.Permissions(manage_guild=True),
    )
    team = app_commands.Group(name="team", description="Put players in teams", parent=challenge)

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _challenges(self) -> ChallengeService:
        return self.bot.services.challenges

    def _now(self) -> dt.datetime:
        return self.bot.services.clock.now()

    # -- /challenge create -------------------------------------------------------------

    @challenge.command(name="create", description="Create a challenge (or start from a preset)")
    @app_commands.describe(
        name="What to call it (unique in this server)",
        preset="A classic format that sets the dates and scoring for you",
        metric="What counts (default: steps)",
        scoring="How the winner is decided (a preset sets this)",
        start_date="First day, YYYY-MM-DD, in the challenge's time zone (a preset sets this)",
        end_date="Last day, YYYY-MM-DD (a preset sets this)",
        channel="Where the daily leaderboard goes (default: the server's leaderboard channel)",
        post_time="When the daily leaderboard is posted, HH:MM (default: the server's)",
        time_zone="The challenge's time zone, e.g. Europe/London (default: the server's)",
        daily_goal="The daily goal in the metric's unit (goal days, streaks)",
        daily_cap="The most one day can count, in the metric's unit",
        manual_entries="Whether activity typed in by hand counts (default: it does not)",
        grace_hours="Hours after a day ends that late syncs still count (default 24)",
        team_mode="How team scores are made (default: sum)",
        points_table="Daily-rank points for 1st, 2nd, 3rd…, e.g. 5,3,1",
        tiers="Tier scoring as threshold:points pairs, e.g. 5000:1,10000:2,15000:3",
        max_players="The most players who can join",
        late_join="How a player who joins after the start is counted",
    )
    @app_commands.choices(preset=PRESET_CHOICES, **SETTING_CHOICES)
    @app_commands.autocomplete(time_zone=time_zones)
    @admin_only
    async def create(
        self,
        interaction: Interaction,
        name: NameArg,
        preset: app_commands.Choice[str] | None = None,
        metric: app_commands.Choice[str] | None = None,
        scoring: app_commands.Choice[str] | None = None,
        start_date: DateArg | None = None,
        end_date: DateArg | None = None,
        channel: discord.TextChannel | None = None,
        post_time: TimeArg | None = None,
        time_zone: str | None = None,
        daily_goal: AmountArg | None = None,
        daily_cap: AmountArg | None = None,
        manual_entries: app_commands.Choice[str] | None = None,
        grace_hours: GraceArg = 24,
        team_mode: app_commands.Choice[str] | None = None,
        points_table: str | None = None,
        tiers: str | None = None,
        max_players: app_commands.Range[int, 2, MAX_PLAYERS_LIMIT] | None = None,
        late_join: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        target = ensure_can_post(channel or await self._default_channel(interaction, guild_id))
        try:
            draft = ChallengeDraft(
                name=name,
                channel_id=target.id,
                preset=_choice(preset),
                metric=_choice(metric),
                mode=_choice(scoring),
                start=start_date,
                end=end_date,
                post_time=post_time,
                time_zone=time_zone,
                daily_goal=daily_goal,
                daily_cap=daily_cap,
                allow_manual=_choice(manual_entries) == "allow",
                grace_hours=grace_hours,
                team_mode=_choice(team_mode) or TeamMode.SUM.value,
                points_table=points_table,
                tiers=tiers,
                max_players=max_players,
                late_join_backfill=_choice(late_join) == "backfill",
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        created = await self._challenges.create(guild_id, interaction.user.id, draft)
        # Public on purpose: the card announces the challenge to the channel.
        await interaction.response.send_message(
            f"New challenge: **{_name(created)}**. Join with /join!",
            embed=challenge_card(created),
        )

    async def _default_channel(self, interaction: Interaction, guild_id: int) -> object:
        settings = await self._challenges.guild_settings(guild_id)
        if settings.leaderboard_channel_id is not None and interaction.guild is not None:
            channel = interaction.guild.get_channel(settings.leaderboard_channel_id)
            if channel is not None:
                return channel
        return interaction.channel

    # -- /challenge edit ---------------------------------------------------------------

    @challenge.command(name="edit", description="Change a challenge's settings")
    @app_commands.describe(
        challenge="The challenge to change",
        name="A new name",
        metric="What counts (only before the start)",
        scoring="How the winner is decided (only before the start)",
        start_date="New first day, YYYY-MM-DD (only before the start)",
        end_date="New last day, YYYY-MM-DD (to stop now, use /challenge end)",
        channel="Where the daily leaderboard goes",
        post_time="When the daily leaderboard is posted, HH:MM",
        time_zone="The challenge's time zone",
        daily_goal="The daily goal (0 removes it)",
        daily_cap="The most one day can count (0 removes the cap)",
        manual_entries="Whether activity typed in by hand counts",
        grace_hours="Hours after a day ends that late syncs still count",
        team_mode="How team scores are made",
        points_table="Daily-rank points for 1st, 2nd, 3rd…, e.g. 5,3,1",
        tiers="Tier scoring as threshold:points pairs, e.g. 5000:1,10000:2",
        max_players="The most players who can join (0 removes the limit)",
        late_join="How a player who joins after the start is counted",
    )
    @app_commands.choices(**SETTING_CHOICES)
    @app_commands.autocomplete(challenge=active_challenge_names, time_zone=time_zones)
    @admin_only
    async def edit(
        self,
        interaction: Interaction,
        challenge: str,
        name: NameArg | None = None,
        metric: app_commands.Choice[str] | None = None,
        scoring: app_commands.Choice[str] | None = None,
        start_date: DateArg | None = None,
        end_date: DateArg | None = None,
        channel: discord.TextChannel | None = None,
        post_time: TimeArg | None = None,
        time_zone: str | None = None,
        daily_goal: AmountArg | None = None,
        daily_cap: AmountArg | None = None,
        manual_entries: app_commands.Choice[str] | None = None,
        grace_hours: GraceArg | None = None,
        team_mode: app_commands.Choice[str] | None = None,
        points_table: str | None = None,
        tiers: str | None = None,
        max_players: app_commands.Range[int, 0, MAX_PLAYERS_LIMIT] | None = None,
        late_join: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        if channel is not None:
            ensure_can_post(channel)
        try:
            changes = ChallengeEdit(
                name=name,
                channel_id=None if channel is None else channel.id,
                metric=_choice(metric),
                mode=_choice(scoring),
                start=start_date,
                end=end_date,
                post_time=post_time,
                time_zone=time_zone,
                daily_goal=daily_goal,
                daily_cap=daily_cap,
                allow_manual=None if manual_entries is None else manual_entries.value == "allow",
                grace_hours=grace_hours,
                team_mode=_choice(team_mode),
                points_table=points_table,
                tiers=tiers,
                max_players=max_players,
                late_join_backfill=None if late_join is None else late_join.value == "backfill",
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        updated = await self._challenges.edit(guild_id, challenge, changes)
        players = await self._challenges.participants(updated.id)
        await interaction.response.send_message(
            f"Updated **{_name(updated)}**.",
            embed=challenge_card(
                updated, players=len(players), has_teams=any(p.team for p in players)
            ),
            ephemeral=True,
        )

    # -- /challenge end, delete --------------------------------------------------------

    @challenge.command(name="end", description="End a running challenge today and post results")
    @app_commands.describe(challenge="The challenge to end")
    @app_commands.autocomplete(challenge=active_challenge_names)
    @admin_only
    async def end(self, interaction: Interaction, challenge: str) -> None:
        guild_id = guild_id_of(interaction)
        # Ending notifies the daily run, which starts the results post: answer within 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        ended = await self._challenges.end(guild_id, challenge)
        text = (
            f"Ended **{_name(ended.challenge)}**: its last day is "
            f"{ended.challenge.end:%a %d %b %Y}. The results will be posted in "
            f"<#{ended.challenge.channel_id}>."
        )
        if not ended.announced:
            text = (
                f"Ended **{_name(ended.challenge)}**, but the results post could not be "
                "started: the bot's log has the details."
            )
        await interaction.followup.send(text, ephemeral=True)

    @challenge.command(name="delete", description="Delete a challenge with all its scores")
    @app_commands.describe(challenge="The challenge to delete")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def delete(self, interaction: Interaction, challenge: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self._challenges.find(guild_id, challenge)
        players = len(await self._challenges.participants(found.id))
        view = ConfirmDeleteChallenge(self._challenges, found, interaction.user.id)
        await interaction.response.send_message(
            f"Delete **{_name(found)}** with its {players} player(s) and all its scores? "
            "This cannot be undone.",
            view=view,
            ephemeral=True,
        )

    # -- /challenge list, info ---------------------------------------------------------

    @challenge.command(name="list", description="Running, upcoming and past challenges")
    async def list_(self, interaction: Interaction) -> None:
        await self._send_listing(interaction)

    @challenge.command(name="info", description="A challenge's rules, dates and players")
    @app_commands.describe(challenge="The challenge to show")
    @app_commands.autocomplete(challenge=challenge_names)
    async def info(self, interaction: Interaction, challenge: str) -> None:
        await self._send_info(interaction, challenge)

    # The /challenge group is hidden from members without Manage Server, and Discord can only
    # hide whole top-level commands; players browse challenges with this one instead.
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
            await self._send_listing(interaction)
        else:
            await self._send_info(interaction, challenge)

    async def _send_listing(self, interaction: Interaction) -> None:
        listing = await self._challenges.listing(guild_id_of(interaction))
        await interaction.response.send_message(embed=listing_embed(listing), ephemeral=True)

    async def _send_info(self, interaction: Interaction, challenge: str) -> None:
        found = await self._challenges.find(guild_id_of(interaction), challenge)
        participants = await self._challenges.participants(found.id)
        await interaction.response.send_message(
            embed=info_embed(found, participants, found.today(self._now())), ephemeral=True
        )

    # -- /challenge kick, review -------------------------------------------------------

    @challenge.command(name="kick", description="Remove a player from a challenge")
    @app_commands.describe(challenge="The challenge", member="The player to remove")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def kick(self, interaction: Interaction, challenge: str, member: discord.Member) -> None:
        found = await self._challenges.kick(guild_id_of(interaction), challenge, member.id)
        await interaction.response.send_message(
            f"Removed {member.mention} from **{_name(found)}** (their scores in it are gone; "
            "their activity data stays theirs).",
            ephemeral=True,
        )

    @challenge.command(name="review", description="Review suspicious values (fair play)")
    @app_commands.describe(challenge="The challenge whose flagged values to review")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def review(self, interaction: Interaction, challenge: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self._challenges.find(guild_id, challenge)
        flags = await self._challenges.pending_reviews(found.id)
        if not flags:
            await interaction.response.send_message(
                f"No values of **{_name(found)}** are waiting for review.", ephemeral=True
            )
            return
        view = ReviewView(self._challenges, guild_id, flags, interaction.user.id)
        await interaction.response.send_message(view.text(), view=view, ephemeral=True)

    # -- /challenge team … -------------------------------------------------------------

    @team.command(name="assign", description="Put a player in a team")
    @app_commands.describe(
        challenge="The challenge", member="The player", team="The team's name (new or existing)"
    )
    @app_commands.autocomplete(challenge=active_challenge_names, team=team_names)
    @admin_only
    async def team_assign(
        self,
        interaction: Interaction,
        challenge: str,
        member: discord.Member,
        team: TeamNameArg,
    ) -> None:
        found, team_name = await self._challenges.assign_team(
            guild_id_of(interaction), challenge, member.id, team
        )
        await interaction.response.send_message(
            f"{member.mention} is in team **{discord.utils.escape_markdown(team_name)}** of "
            f"**{_name(found)}**.",
            ephemeral=True,
        )

    @team.command(name="rename", description="Rename a team")
    @app_commands.describe(challenge="The challenge", team="The team", new_name="Its new name")
    @app_commands.autocomplete(challenge=active_challenge_names, team=team_names)
    @admin_only
    async def team_rename(
        self,
        interaction: Interaction,
        challenge: str,
        team: str,
        new_name: TeamNameArg,
    ) -> None:
        found, count = await self._challenges.rename_team(
            guild_id_of(interaction), challenge, team, new_name
        )
        await interaction.response.send_message(
            f"Renamed the team to **{discord.utils.escape_markdown(new_name.strip())}** in "
            f"**{_name(found)}** ({count} player(s)).",
            ephemeral=True,
        )

    @team.command(name="auto", description="Split all players into balanced teams")
    @app_commands.describe(
        challenge="The challenge", teams="How many teams (players' recent averages are balanced)"
    )
    @app_commands.autocomplete(challenge=active_challenge_names)
    @admin_only
    async def team_auto(
        self,
        interaction: Interaction,
        challenge: str,
        teams: app_commands.Range[int, 2, len(TEAM_NAMES)] = 2,
    ) -> None:
        guild_id = guild_id_of(interaction)
        found = await self._challenges.find(guild_id, challenge)
        plan = await self._challenges.auto_teams(guild_id, challenge, teams)
        embed = discord.Embed(title=f"Teams of {found.name}", colour=COLOUR)
        # Up to ten fields must fit in one embed together, not only each in a field.
        field_limit = min(FIELD_LIMIT, (EMBED_LIMIT - 500) // len(plan.teams))
        for team_name, members in plan.teams.items():
            lines = [
                f"<@{player}> · "
                + ("no recent data" if avg is None else f"{format_amount(found.metric, avg)}/day")
                for player, avg in members
            ]
            embed.add_field(name=team_name, value=_fit(lines, field_limit), inline=True)
        embed.set_footer(text="Balanced by each player's average over the last 28 days.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # -- /join, /leave -----------------------------------------------------------------

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
            when = f"It starts on {found.start:%a %d %b}."
        elif joined.participant.joined_on > found.start:
            when = (
                "You joined late: your days count from today, "
                f"{joined.participant.joined_on:%a %d %b}."
            )
        else:
            when = "Your days count from the start."
        players = len(await self._challenges.participants(found.id))
        await interaction.response.send_message(
            f"You are in **{_name(found)}**! {when}",
            embed=challenge_card(found, players=players),
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
            f"You left **{_name(left)}**; your scores in it are gone.", ephemeral=True
        )


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(ChallengesCog(bot))
