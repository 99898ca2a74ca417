"""The standings as a fixed-width text table for a terminal (`stride demo`): plain text, no
markdown, aligned however wide the characters in a name are."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence

from bot.domain import Units
from bot.render.standings import changes_since, format_score, ordered_players
from bot.render.text import ELLIPSIS, display_name, format_amount, format_date, printable_name
from bot.scoring import PlayerId, PlayerStanding, Standings, TeamStanding

Column = tuple[str, int, bool]  # heading, width, aligned right


def text_width(text: str) -> int:
    """Terminal columns: wide (CJK, emoji) characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1
    return width


def fit_width(text: str, width: int, *, align_right: bool = False) -> str:
    """Cut `text` to `width` columns (ending in '…') and pad it to exactly `width`."""
    if text_width(text) > width:
        while text and text_width(text) + 1 > width:
            text = text[:-1]
        text += ELLIPSIS
    padding = " " * (width - text_width(text))
    return padding + text if align_right else text + padding


def render_text_table(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    units: Units,
    day: dt.date | None = None,
    previous_ranks: Mapping[PlayerId, int] | None = None,
    name_width: int = 20,
) -> str:
    """Fixed-width standings for a terminal (`stride demo`): rank, name, the value on `day`,
    score, change, streak; teams below when there are any. Plain text, no markdown."""
    rules = standings.rules
    changes = changes_since(standings, previous_ranks)
    day_label = "" if day is None else format_date(day)
    if day is not None and day in standings.provisional_days:
        day_label += " (prov.)"
    columns: list[Column] = [("#", 4, True), ("Name", name_width, False)]
    if day is not None:
        columns.append((day_label, max(18, text_width(day_label)), True))
    columns += [("Score", 18, True), ("Change", 6, True), ("Streak", 6, True)]
    lines = [_table_line([c[0] for c in columns], columns)]
    lines.append("  ".join("-" * width for _, width, _ in columns))
    for player in ordered_players(standings, names):
        cells = [f"{player.rank}.", display_name(names, player.player_id)]
        if day is not None:
            cells.append(_text_day_cell(standings, player, day, units))
        cells.append(format_score(player.score, rules, units) if player.has_data else "no data yet")
        cells.append("" if changes is None else _ascii_change(changes[player.player_id]))
        cells.append(str(player.current_streak) if player.current_streak else "")
        lines.append(_table_line(cells, columns))
    lines += _text_team_lines(standings, name_width, units)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _table_line(cells: Sequence[str], columns: Sequence[Column]) -> str:
    return "  ".join(
        fit_width(cell, width, align_right=right)
        for cell, (_, width, right) in zip(cells, columns, strict=True)
    )


def _text_day_cell(standings: Standings, player: PlayerStanding, day: dt.date, units: Units) -> str:
    if day not in player.daily_values:
        return "-"
    value = format_amount(player.daily_values[day], standings.rules.metric, units)
    return f"{value} ✓" if player.goal_met.get(day, False) else value


def _ascii_change(change: int | None) -> str:
    if change is None:
        return "new"
    return f"{change:+d}" if change else "="


def _text_team_lines(standings: Standings, name_width: int, units: Units) -> list[str]:
    if not standings.teams:
        return []
    columns: list[Column] = [("#", 4, True), ("Team", name_width, False)]
    columns += [("Score", 18, True), ("Syncing", 7, True)]
    lines = ["", _table_line([c[0] for c in columns], columns)]
    lines.append("  ".join("-" * width for _, width, _ in columns))
    lines += [_team_line(team, standings, columns, units) for team in standings.teams]
    return lines


def _team_line(
    team: TeamStanding, standings: Standings, columns: Sequence[Column], units: Units
) -> str:
    cells = [
        f"{team.rank}.",
        printable_name(team.team),
        format_score(team.score, standings.rules, units),
        f"{team.syncing_members}/{len(team.member_ids)}",
    ]
    return _table_line(cells, columns)
