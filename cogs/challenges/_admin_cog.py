"""`/challenge …`: the group admins create and run challenges with.

Discord only: options are parsed (dates, times, choices, ranges) and handed to
`services.challenges` (`bot.challenges.ChallengeService`), whose answers are rendered by
`_embeds`. Every subcommand but `list` and `info` runs `admin_check`; the whole group is hidden
by default from members without Manage Server (see the package's docstring).

`share` and `unshare` make and revoke a challenge's live page link (`bot.web.share`), and
`nudges` switches the nudge DMs of one challenge (`bot.nudges`). They live here rather than
under `/leaderboard`, which is a command of its own: Discord does not let a command also be a
group. `adjust` and `recap` come from the `_corrections` and `_recaps` mixins (the group is
shared: `_group`).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands
from pydantic import ValidationError

from bot.challenges.inputs import ChallengeDraft, ChallengeEdit, user_error_from
from bot.challenges.model import Challenge
from bot.challenges.service import ChallengeService
from bot.discord_bot import StrideBot
from bot.domain import TeamMode
from bot.nudges import NudgeService
from bot.render.text import format_date
from bot.scoring import TieBreak
from bot.web.share import Shared, ShareLinks
from cogs._autocomplete import active_challenge_names, challenge_names, team_names, time_zones
from cogs._checks import Interaction, admin_only, ensure_can_post, guild_id_of
from cogs._transformers import DateArg, TimeArg
from cogs.challenges._browse import send_info, send_listing
from cogs.challenges._corrections import CorrectionsCommands
from cogs.challenges._embeds import challenge_card, escaped_name, teams_embed
from cogs.challenges._group import CHALLENGE_GROUP
from cogs.challenges._options import (
    PRESET_CHOICES,
    SETTING_CHOICES,
    AmountArg,
    GraceArg,
    MaxPlayersArg,
    MaxPlayersEditArg,
    NameArg,
    TeamCountArg,
    TeamNameArg,
    choice_value,
)
from cogs.challenges._recaps import RecapCommands
from cogs.challenges._views import ConfirmDeleteChallenge, ReviewView


def share_reply(challenge: Challenge, shared: Shared) -> str:
    """The link once, when it was just made; otherwise who shared it, and how to get a new one
    (Stride keeps only a digest of a link, so it cannot show one again)."""
    name = escaped_name(challenge)
    if shared.url is not None:
        return (
            f"Live page of **{name}**, read-only, for anyone with the link (it refreshes "
            f"itself):\n{shared.url}\nThis is the only time Stride can show this link. "
            "/challenge unshare turns it off."
        )
    link = shared.link
    by = f" by <@{link.created_by}>" if link.created_by is not None else ""
    since = format_date(link.created_at.date(), year=True, padded=True)
    return (
        f"**{name}** is already shared (since {since}{by}). Stride cannot show that link "
        "again: to get a new one, run /challenge unshare (the old link stops working), then "
        "/challenge share."
    )


class ChallengeAdminCog(CorrectionsCommands, RecapCommands, commands.Cog):
    # The group is shared with the mixins' subcommands (`adjust`, `recap`; see `_group`).
    challenge = CHALLENGE_GROUP
    team = app_commands.Group(name="team", description="Put players in teams", parent=challenge)

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _challenges(self) -> ChallengeService:
        return self.bot.services.challenges

    @property
    def _shares(self) -> ShareLinks:
        # Until `Services` has `shares` (the issue 12 wiring); then this ignore goes.
        shares: ShareLinks = self.bot.services.shares
        return shares

    @property
    def _nudges(self) -> NudgeService:
        # Until `Services` has `nudges` (the issue 12 wiring); then this ignore goes.
        nudges: NudgeService = self.bot.services.nudges
        return nudges

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
        daily_goal="The daily goal, e.g. 10000, 8 km or 5 mi (a bare number: the server's units)",
        daily_cap="The most one day can count, e.g. 30000 or 20 mi (a bare number: server's units)",
        manual_entries="Whether activity typed in by hand counts (default: it does not)",
        grace_hours="Hours after a day ends that late syncs still count (default 24)",
        team_mode="How team scores are made (default: sum)",
        points_table="Daily-rank points for 1st, 2nd, 3rd…, e.g. 5,3,1",
        tiers="Tier scoring as threshold:points pairs, e.g. 5000:1,10000:2,15000:3",
        max_players="The most players who can join",
        late_join="How a player who joins after the start is counted",
        tie_break="How players tied on score are told apart (default: they share the place)",
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
        max_players: MaxPlayersArg | None = None,
        late_join: app_commands.Choice[str] | None = None,
        tie_break: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        target = ensure_can_post(channel or await self._default_channel(interaction, guild_id))
        try:
            draft = ChallengeDraft(
                name=name,
                channel_id=target.id,
                preset=choice_value(preset),
                metric=choice_value(metric),
                mode=choice_value(scoring),
                start=start_date,
                end=end_date,
                post_time=post_time,
                time_zone=time_zone,
                daily_goal=daily_goal,
                daily_cap=daily_cap,
                allow_manual=choice_value(manual_entries) == "allow",
                grace_hours=grace_hours,
                team_mode=choice_value(team_mode) or TeamMode.SUM.value,
                points_table=points_table,
                tiers=tiers,
                max_players=max_players,
                late_join_backfill=choice_value(late_join) == "backfill",
                tie_break=choice_value(tie_break) or TieBreak.NONE.value,
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        created = await self._challenges.create(guild_id, interaction.user.id, draft)
        units = (await self._challenges.guild_settings(guild_id)).units
        # Public on purpose: the card announces the challenge to the channel.
        await interaction.response.send_message(
            f"New challenge: **{escaped_name(created)}**. Join with /join!",
            embed=challenge_card(created, units=units),
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
        daily_goal="The daily goal, e.g. 10000 or 5 mi (0 removes it)",
        daily_cap="The most one day can count, e.g. 20 mi (0 removes the cap)",
        manual_entries="Whether activity typed in by hand counts",
        grace_hours="Hours after a day ends that late syncs still count",
        team_mode="How team scores are made",
        points_table="Daily-rank points for 1st, 2nd, 3rd…, e.g. 5,3,1",
        tiers="Tier scoring as threshold:points pairs, e.g. 5000:1,10000:2",
        max_players="The most players who can join (0 removes the limit)",
        late_join="How a player who joins after the start is counted",
        tie_break="How players tied on score are told apart",
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
        max_players: MaxPlayersEditArg | None = None,
        late_join: app_commands.Choice[str] | None = None,
        tie_break: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        if channel is not None:
            ensure_can_post(channel)
        try:
            changes = ChallengeEdit(
                name=name,
                channel_id=None if channel is None else channel.id,
                metric=choice_value(metric),
                mode=choice_value(scoring),
                start=start_date,
                end=end_date,
                post_time=post_time,
                time_zone=time_zone,
                daily_goal=daily_goal,
                daily_cap=daily_cap,
                allow_manual=None if manual_entries is None else manual_entries.value == "allow",
                grace_hours=grace_hours,
                team_mode=choice_value(team_mode),
                points_table=points_table,
                tiers=tiers,
                max_players=max_players,
                late_join_backfill=None if late_join is None else late_join.value == "backfill",
                tie_break=choice_value(tie_break),
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        updated = await self._challenges.edit(guild_id, challenge, changes)
        players = await self._challenges.participants(updated.id)
        units = (await self._challenges.guild_settings(guild_id)).units
        await interaction.response.send_message(
            f"Updated **{escaped_name(updated)}**.",
            embed=challenge_card(
                updated, units=units, players=len(players), has_teams=any(p.team for p in players)
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
            f"Ended **{escaped_name(ended.challenge)}**: its last day is "
            f"{format_date(ended.challenge.end, year=True, padded=True)}. The results will be "
            f"posted in <#{ended.challenge.channel_id}>."
        )
        if not ended.announced:
            text = (
                f"Ended **{escaped_name(ended.challenge)}**, but the results post could not be "
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
            f"Delete **{escaped_name(found)}** with its {players} player(s) and all its scores? "
            "This cannot be undone.",
            view=view,
            ephemeral=True,
        )

    # -- /challenge list, info ---------------------------------------------------------

    @challenge.command(name="list", description="Running, upcoming and past challenges")
    async def list_(self, interaction: Interaction) -> None:
        await send_listing(interaction)

    @challenge.command(name="info", description="A challenge's rules, dates and players")
    @app_commands.describe(challenge="The challenge to show")
    @app_commands.autocomplete(challenge=challenge_names)
    async def info(self, interaction: Interaction, challenge: str) -> None:
        await send_info(interaction, challenge)

    # -- /challenge kick, review -------------------------------------------------------

    @challenge.command(name="kick", description="Remove a player from a challenge")
    @app_commands.describe(challenge="The challenge", member="The player to remove")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def kick(self, interaction: Interaction, challenge: str, member: discord.Member) -> None:
        found = await self._challenges.kick(guild_id_of(interaction), challenge, member.id)
        await interaction.response.send_message(
            f"Removed {member.mention} from **{escaped_name(found)}** (their scores in it are "
            "gone; their activity data stays theirs).",
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
                f"No values of **{escaped_name(found)}** are waiting for review.", ephemeral=True
            )
            return
        units = (await self._challenges.guild_settings(guild_id)).units
        view = ReviewView(self._challenges, guild_id, flags, interaction.user.id, units)
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
            f"**{escaped_name(found)}**.",
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
            f"**{escaped_name(found)}** ({count} player(s)).",
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
        teams: TeamCountArg = 2,
    ) -> None:
        guild_id = guild_id_of(interaction)
        found = await self._challenges.find(guild_id, challenge)
        plan = await self._challenges.auto_teams(guild_id, challenge, teams)
        units = (await self._challenges.guild_settings(guild_id)).units
        await interaction.response.send_message(
            embed=teams_embed(found, plan, units), ephemeral=True
        )

    # -- /challenge share, unshare, nudges ---------------------------------------------

    @challenge.command(name="share", description="A read-only link to a live leaderboard page")
    @app_commands.describe(challenge="The challenge whose live page to share")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def share(self, interaction: Interaction, challenge: str) -> None:
        found = await self._challenges.find(guild_id_of(interaction), challenge)
        shared = await self._shares.share(found, by=interaction.user.id)
        await interaction.response.send_message(share_reply(found, shared), ephemeral=True)

    @challenge.command(name="unshare", description="Turn off the live page link of a challenge")
    @app_commands.describe(challenge="The challenge whose live page link to turn off")
    @app_commands.autocomplete(challenge=challenge_names)
    @admin_only
    async def unshare(self, interaction: Interaction, challenge: str) -> None:
        found = await self._challenges.find(guild_id_of(interaction), challenge)
        if await self._shares.unshare(found):
            text = (
                f"The live page link of **{escaped_name(found)}** is off: it shows nothing "
                "any more. /challenge share makes a new one."
            )
        else:
            text = f"**{escaped_name(found)}** has no live page link."
        await interaction.response.send_message(text, ephemeral=True)

    @challenge.command(name="nudges", description="Allow or stop nudge DMs in a challenge")
    @app_commands.describe(
        challenge="The challenge",
        state="on: members who turned nudges on get them (the default); off: nobody does",
    )
    @app_commands.autocomplete(challenge=active_challenge_names)
    @admin_only
    async def nudges(
        self, interaction: Interaction, challenge: str, state: Literal["on", "off"]
    ) -> None:
        found = await self._challenges.find(guild_id_of(interaction), challenge)
        enabled = state == "on"
        await self._nudges.set_challenge(found, enabled=enabled)
        text = (
            f"Nudges are on in **{escaped_name(found)}**: members who turned them on with "
            "/nudges may get a DM when someone passes them or how far they are from today's goal."
            if enabled
            else f"Nudges are off in **{escaped_name(found)}**: nobody gets one about it."
        )
        await interaction.response.send_message(text, ephemeral=True)
