"""What a weekly recap says, as pure functions over two boards: the standings at the end of
the week before (or after the week's first day, for the first week) and at the end of this
week.

* `climbers`: the players who gained the most places over the week.
* `milestones`: the players whose goal-day streak reached 7, 14, 30, 60, 90, 180 or 365 days
  during the week.
* `recap_post`: the embed (climbers, milestones, the standings' top, the teams).
* `week_chart`: the chart of the week's days only (`Board.chart`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.daily.standings import Board
from bot.render.chart import ChartInput
from bot.render.leaderboard import EmbedContent, EmbedField, enforce_limits
from bot.render.standings import format_score, team_rows
from bot.render.text import (
    EN_DASH,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    embed_name,
    escape_markdown,
    fit_lines,
    format_date,
    truncate,
)
from bot.scoring import PlayerId

COLOUR_RECAP = 0x9B59B6
RECAP_FOOTER = "Weekly recap · the chart shows this week's days"
MILESTONES = (7, 14, 30, 60, 90, 180, 365)
CLIMBERS_SHOWN = 3
TOP_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Climber:
    player_id: PlayerId
    before: int
    after: int

    @property
    def gained(self) -> int:
        return self.before - self.after


@dataclass(frozen=True, slots=True)
class Milestone:
    player_id: PlayerId
    days: int


def climbers(before: Board, after: Board, limit: int = CLIMBERS_SHOWN) -> list[Climber]:
    """The players shown who gained the most places from `before` to `after` (at least one),
    the biggest climb first; ties by the better place now."""
    was = {p.player_id: p.rank for p in before.standings.players}
    moved = [
        Climber(p.player_id, was[p.player_id], p.rank)
        for p in after.standings.players
        if p.player_id in was and was[p.player_id] > p.rank and p.player_id not in after.hidden
    ]
    return sorted(moved, key=lambda c: (-c.gained, c.after, c.player_id))[:limit]


def milestones(before: Board, after: Board) -> list[Milestone]:
    """The players shown whose current streak reached a milestone during the week (the
    highest one reached), the longest first."""
    was = {p.player_id: p.current_streak for p in before.standings.players}
    reached = []
    for player in after.standings.players:
        if player.player_id in after.hidden:
            continue
        old = was.get(player.player_id, 0)
        passed = [m for m in MILESTONES if old < m <= player.current_streak]
        if passed:
            reached.append(Milestone(player.player_id, passed[-1]))
    return sorted(reached, key=lambda m: (-m.days, m.player_id))


def week_title(challenge_name: str, first: dt.date, last: dt.date) -> str:
    span = f"{format_date(first)} {EN_DASH} {format_date(last)}"
    return f"📅 {escape_markdown(challenge_name)} — week of {span}"


def recap_post(
    before: Board, after: Board, first: dt.date, *, note: str | None = None
) -> EmbedContent:
    """The recap of the week `first`..`after.day`: who climbed, who reached a streak
    milestone, the standings' top and the teams (hidden members counted, never named);
    `note` goes in the footer (the corrections it is the first to mention, "weekly only")."""
    names, units = after.names, after.units
    rules = after.standings.rules
    shown = [p for p in after.standings.players if p.player_id not in after.hidden]
    climbed = [
        f"▲{c.gained} **{embed_name(names, c.player_id)}** ({c.before} → {c.after})"
        for c in climbers(before, after)
    ]
    streaks = [
        f"🔥 **{embed_name(names, m.player_id)}**: a {m.days}-day goal streak"
        for m in milestones(before, after)
    ]
    top = [
        f"`{p.rank}.` {embed_name(names, p.player_id)} · **{format_score(p.score, rules, units)}**"
        for p in shown[:TOP_SHOWN]
    ]
    fields = [
        EmbedField(
            "Biggest climbers",
            fit_lines(climbed, FIELD_VALUE_LIMIT) if climbed else "Nobody changed places.",
        ),
    ]
    if streaks:
        fields.append(EmbedField("Streak milestones", fit_lines(streaks, FIELD_VALUE_LIMIT)))
    if after.standings.teams:
        fields.append(
            EmbedField("Teams", fit_lines(team_rows(after.standings, units), FIELD_VALUE_LIMIT))
        )
    last = after.day or first
    return enforce_limits(
        EmbedContent(
            title=truncate(week_title(after.challenge.name, first, last), TITLE_LIMIT),
            description="**Standings**\n" + fit_lines(top, 3000),
            fields=tuple(fields),
            footer=truncate(" · ".join([RECAP_FOOTER, *([note] if note else [])]), FOOTER_LIMIT),
            colour=COLOUR_RECAP,
        )
    )


def week_chart(board: Board, first: dt.date) -> ChartInput:
    """The board's cumulative chart (`Board.chart`) over the week's days only."""
    chart = board.chart()
    series = {
        player: [(day, value) for day, value in points if day >= first]
        for player, points in chart.series.items()
    }
    return replace(chart, series=series, title=f"{board.challenge.name}: this week")
