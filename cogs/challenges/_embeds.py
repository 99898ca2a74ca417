"""What the challenge commands show: the summary card, `/challenge info`, the list, the teams
`/challenge team auto` made, and one flag under review.

Long lists end with "… and N more" (`fit_lines` with `CARD_MARGIN`) so an embed never
exceeds Discord's limits. Challenge and team names are escaped with discord.py's markdown
escape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import discord

from bot.challenges.describe import describe_dates, post_time_text, rule_sentences
from bot.challenges.model import Challenge, Participant, Phase
from bot.challenges.players import TeamPlan
from bot.challenges.presets import Preset
from bot.challenges.service import ChallengeListing
from bot.domain import Units
from bot.fair_play import Flag
from bot.render.text import FIELD_VALUE_LIMIT, TOTAL_LIMIT, fit_lines, format_amount, format_date
from cogs._colours import COLOUR_CHALLENGES
from cogs.challenges._options import SCORING_LABELS

# The card's rule for members who hide (README, "How standings are decided").
HIDDEN_RULE = "/privacy hide keeps a member off the posts; everyone keeps their true place."
CARD_MARGIN = 20  # room a card's list keeps free for its "… and N more" line
PAST_SHOWN = 10  # the most recent past challenges the list shows


def escaped_name(challenge: Challenge) -> str:
    return discord.utils.escape_markdown(challenge.name)


def _kind(challenge: Challenge) -> str:
    """'Weekend Warrior · Steps · Total'."""
    mode = SCORING_LABELS[challenge.mode].split(" (")[0]
    if challenge.preset:
        return f"{Preset(challenge.preset).label} · {challenge.metric.label} · {mode}"
    return f"{challenge.metric.label} · {mode}"


def challenge_card(
    challenge: Challenge,
    *,
    units: Units,
    players: int = 0,
    title: str | None = None,
    has_teams: bool = False,
) -> discord.Embed:
    """The summary card: what, when, where, the rules in plain words (amounts in the server's
    `units`), and how to join."""
    embed = discord.Embed(
        title=title or challenge.name,
        description="\n".join(rule_sentences(challenge, has_teams=has_teams, units=units)),
        colour=COLOUR_CHALLENGES,
    )
    embed.add_field(name="What", value=_kind(challenge), inline=False)
    embed.add_field(name="Dates", value=describe_dates(challenge), inline=False)
    embed.add_field(name="Leaderboard", value=f"<#{challenge.channel_id}>", inline=True)
    embed.add_field(name="Daily post", value=post_time_text(challenge), inline=True)
    limit = f" of {challenge.max_players}" if challenge.max_players else ""
    embed.add_field(name="Players", value=f"{players}{limit}", inline=True)
    embed.set_footer(text=f"Join with /join, leave with /leave. {HIDDEN_RULE}")
    return embed


def _status_line(challenge: Challenge, today: dt.date) -> str:
    phase = challenge.phase(today)
    if phase is Phase.UPCOMING:
        days = (challenge.start - today).days
        return f"Starts in {days} day{'s' if days != 1 else ''}."
    if phase is Phase.RUNNING:
        return f"Running: day {(today - challenge.start).days + 1} of {challenge.days}."
    return "Ended early." if challenge.ended_at else "Over."


def _player_line(challenge: Challenge, player: Participant) -> str:
    """'<@123> · Red · from 08 May' (the team and the late start only when there are any)."""
    line = f"<@{player.discord_id}>"
    if player.team:
        line += f" · {discord.utils.escape_markdown(player.team)}"
    if player.joined_on > challenge.start:
        line += f" · from {format_date(player.joined_on, weekday=False, padded=True)}"
    return line


def info_embed(
    challenge: Challenge,
    participants: Sequence[Participant],
    today: dt.date,
    *,
    units: Units,
    hidden: AbstractSet[int] = frozenset(),
) -> discord.Embed:
    """The card with where the challenge stands on `today` and who plays in it (members who
    chose to hide are counted, not named)."""
    has_teams = any(p.team for p in participants)
    embed = challenge_card(challenge, units=units, players=len(participants), has_teams=has_teams)
    embed.insert_field_at(0, name="Status", value=_status_line(challenge, today), inline=False)
    lines = [_player_line(challenge, p) for p in participants if p.discord_id not in hidden]
    if len(lines) < len(participants):
        count = len(participants) - len(lines)
        lines.append(f"{count} member{'s' if count != 1 else ''} not shown (/privacy hide)")
    who = fit_lines(lines, FIELD_VALUE_LIMIT, margin=CARD_MARGIN) if lines else "Nobody yet."
    embed.add_field(name="Who is in", value=who, inline=False)
    return embed


def _listing_line(challenge: Challenge, players: int) -> str:
    end = format_date(challenge.end, weekday=False, year=True, padded=True)
    if challenge.start == challenge.end:
        when = end
    else:
        when = f"{format_date(challenge.start, weekday=False, padded=True)} to {end}"
    who = f"{players} player{'s' if players != 1 else ''}"
    return f"**{escaped_name(challenge)}** · {when} · {_kind(challenge)} · {who}"


def listing_embed(listing: ChallengeListing) -> discord.Embed:
    embed = discord.Embed(title="Challenges in this server", colour=COLOUR_CHALLENGES)
    for title, challenges in (
        ("Running", listing.running),
        ("Upcoming", listing.upcoming),
        ("Past", listing.past[:PAST_SHOWN]),
    ):
        lines = [_listing_line(c, listing.players.get(c.id, 0)) for c in challenges]
        value = fit_lines(lines, FIELD_VALUE_LIMIT, margin=CARD_MARGIN) if lines else "None."
        embed.add_field(name=title, value=value, inline=False)
    return embed


def teams_embed(challenge: Challenge, plan: TeamPlan, units: Units) -> discord.Embed:
    """Each team with its players' recent daily averages, one field per team."""
    embed = discord.Embed(title=f"Teams of {challenge.name}", colour=COLOUR_CHALLENGES)
    # Up to ten fields must fit in one embed together, not only each in a field.
    field_limit = min(FIELD_VALUE_LIMIT, (TOTAL_LIMIT - 500) // len(plan.teams))
    for team_name, members in plan.teams.items():
        lines = [
            f"<@{player}> · "
            + (
                "no recent data"
                if avg is None
                else f"{format_amount(avg, challenge.metric, units)}/day"
            )
            for player, avg in members
        ]
        value = fit_lines(lines, field_limit, margin=CARD_MARGIN)
        embed.add_field(name=team_name, value=value, inline=True)
    embed.set_footer(text="Balanced by each player's average over the last 28 days.")
    return embed


def flag_text(flag: Flag, position: int, total: int, units: Units) -> str:
    """One flagged value and what the review buttons do."""
    day = format_date(flag.day, year=True, padded=True)
    return (
        f"Flag {position} of {total}: <@{flag.discord_id}> on {day}: "
        f"{format_amount(flag.value, flag.metric, units)}.\nWhy: {flag.reason}.\n"
        "Exclude keeps the value stored but leaves it out of the scores; Accept lets it count."
    )
