"""What the live page shows of a `Board`: plain text cells, and the chart's input.

Only what the Discord post shows: ranks, display names, the last day's value, scores, streaks
and team totals. No Discord id, no provider id: a player is a row, not an id. Every text here
is plain (not yet HTML-escaped): the page escapes it, the JSON carries it as it is and the
page's script sets it with `textContent`.

`shown_players` is the one place that decides who appears in the rows: members who chose to
hide (`bot.profiles`) are left out, the others keep their true places; the chart
(`Board.chart`) leaves out the same members. Names are the server's nicknames where members
chose one, amounts are in the server's units.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, is_dataclass

from bot.daily import Board
from bot.render.chart import ChartInput
from bot.render.standings import (
    day_cell,
    day_number,
    format_score,
    format_streak,
    ordered_players,
    rules_line,
)
from bot.render.text import display_name, format_date, printable_name
from bot.scoring import PlayerStanding

VERSION_CHARS = 16


@dataclass(frozen=True, slots=True)
class LiveRow:
    rank: str
    name: str
    day: str  # the last scored day's value: '12,345 steps ✓', '—' without data
    score: str
    streak: str  # '🔥3', or '' below a streak of two


@dataclass(frozen=True, slots=True)
class LiveTeam:
    rank: str
    name: str
    score: str
    syncing: str  # '3/4 syncing'


@dataclass(frozen=True, slots=True)
class LiveView:
    title: str
    subtitle: str
    day: str  # the day the values are of: 'Tue 2 Jun ⏳'; '' before the first one
    notice: str  # provisional days, the start to come, or the final results; may be ''
    rows: tuple[LiveRow, ...]
    teams: tuple[LiveTeam, ...]
    version: str  # changes whenever anything shown (the chart included) changes

    def as_json(self, *, updated: str, chart: str) -> dict[str, object]:
        """The page's data endpoint: these texts, when they were read, the chart's URL."""
        return {**asdict(self), "updated": updated, "chart": chart}


def shown_players(board: Board) -> list[PlayerStanding]:
    """The players the page shows, in leaderboard order, without the members who chose to
    hide (the others keep their true places)."""
    return ordered_players(board.standings, board.names, board.hidden)


def chart_input(board: Board) -> ChartInput:
    """The cumulative chart of the players shown, as the daily post draws it."""
    return board.chart()


def live_view(board: Board) -> LiveView:
    rows = tuple(_row(board, player) for player in shown_players(board))
    teams = tuple(
        LiveTeam(
            rank=str(team.rank),
            name=printable_name(team.team),
            score=format_score(team.score, board.standings.rules, board.units),
            syncing=f"{team.syncing_members}/{len(team.member_ids)} syncing",
        )
        for team in board.standings.teams
    )
    title, subtitle, day, notice = _headings(board)
    version = _version(title, subtitle, day, notice, rows, teams, chart_input(board))
    return LiveView(title, subtitle, day, notice, rows, teams, version)


def _row(board: Board, player: PlayerStanding) -> LiveRow:
    standings = board.standings
    return LiveRow(
        rank=str(player.rank),
        name=display_name(board.names, player.player_id),
        day="—" if board.day is None else day_cell(standings, player, board.day, board.units),
        score=(
            format_score(player.score, standings.rules, board.units)
            if player.has_data
            else "no data yet"
        ),
        streak=format_streak(player.current_streak),
    )


def _headings(board: Board) -> tuple[str, str, str, str]:
    """The title, the rules line, the day of the values and the notice."""
    standings = board.standings
    rules = standings.rules
    title = board.challenge.name
    rules_text = rules_line(rules, board.units)
    if board.day is None:
        start = format_date(board.challenge.start)
        return title, rules_text, "", f"Starts {start}: standings after its first day."
    day = format_date(board.day)
    if board.day in standings.provisional_days:
        day += " ⏳"
    if board.final:
        return f"{title} — final results", rules_text, day, "Final results."
    subtitle = f"{rules_text} · {day_number(rules, board.day)}"
    notice = (
        "⏳ Includes provisional days: late syncs can still change them."
        if standings.has_provisional_days
        else ""
    )
    return title, subtitle, day, notice


def _version(*parts: object) -> str:
    """A digest of everything shown; ids go in only as part of the one-way digest."""
    encoded = json.dumps(parts, default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:VERSION_CHARS]


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {"kind": type(value).__name__, **asdict(value)}
    raise TypeError(f"cannot digest {type(value).__name__}")
