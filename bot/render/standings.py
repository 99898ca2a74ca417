"""Standings in words: scores in a challenge's own terms, one row per player or team.

The daily, catch-up and results posts (`leaderboard`), the terminal table (`table`) and `/me`
build their lines from these, so a score reads the same everywhere. Rows are Discord markdown
with every name escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from bot.domain import ScoringMode
from bot.render.text import (
    EN_DASH,
    MODE_LABELS,
    TIE_BREAK_LABELS,
    display_name,
    embed_name,
    escape_markdown,
    format_amount,
    format_number,
    format_points,
    printable_name,
)
from bot.scoring import (
    ChallengeRules,
    PlayerId,
    PlayerStanding,
    Standings,
    TieBreak,
    rank_changes,
)

MIN_STREAK_SHOWN = 2


# --------------------------------------------------------------------------- scores


def format_score(score: float, rules: ChallengeRules) -> str:
    """A score in the challenge's own terms: '45,210 steps', '8,040 steps/day', '5 days',
    '12 pts', '+12.5%'."""
    match rules.mode:
        case ScoringMode.TOTAL:
            return format_amount(score, rules.metric)
        case ScoringMode.AVERAGE:
            return f"{format_amount(score, rules.metric)}/day"
        case ScoringMode.GOAL_DAYS:
            return f"{format_number(score)} {'day' if score == 1 else 'days'}"
        case ScoringMode.IMPROVEMENT:
            return f"{score:+.1f}%"
        case _:
            return format_points(score)


def format_change(change: int | None) -> str:
    """'▲2', '▼1', 'new', or an en dash for no change."""
    if change is None:
        return "new"
    if change > 0:
        return f"▲{change}"
    if change < 0:
        return f"▼{-change}"
    return EN_DASH


def format_streak(days: int) -> str:
    """'🔥3' for a streak of at least `MIN_STREAK_SHOWN` days, else ''."""
    return f"🔥{days}" if days >= MIN_STREAK_SHOWN else ""


def rules_line(rules: ChallengeRules) -> str:
    """The rules in one line of a post's header: 'Steps · total · goal 10,000 steps/day', with
    the tie-break when there is one ('… · ties: more goal days')."""
    parts = [rules.metric.label, MODE_LABELS[rules.mode]]
    if rules.daily_goal is not None:
        parts.append(f"goal {format_amount(rules.daily_goal, rules.metric)}/day")
    if rules.daily_cap is not None:
        parts.append(f"cap {format_amount(rules.daily_cap, rules.metric)}/day")
    if rules.tie_break is not TieBreak.NONE:
        parts.append(f"ties: {TIE_BREAK_LABELS[rules.tie_break]}")
    return " · ".join(parts)


def day_number(rules: ChallengeRules, day: dt.date) -> str:
    """'day 3 of 14'."""
    length = (rules.end - rules.start).days + 1
    return f"day {(day - rules.start).days + 1} of {length}"


# --------------------------------------------------------------------------- ordering


def ordered_players(standings: Standings, names: Mapping[PlayerId, str]) -> list[PlayerStanding]:
    """Players by rank; a shared rank is listed by display name, then id, so the order is
    stable from post to post."""
    return sorted(
        standings.players,
        key=lambda p: (p.rank, display_name(names, p.player_id).casefold(), p.player_id),
    )


def changes_since(
    standings: Standings, previous_ranks: Mapping[PlayerId, int] | None
) -> dict[PlayerId, int | None] | None:
    """Places each player gained since `previous_ranks` (None: nothing to compare with)."""
    return None if previous_ranks is None else rank_changes(previous_ranks, standings)


# --------------------------------------------------------------------------- rows


def day_cell(standings: Standings, player: PlayerStanding, day: dt.date) -> str:
    """What a player did on `day`: '12,345 steps ✓ +3 pts', or '—' when nothing synced."""
    rules = standings.rules
    if day not in player.daily_values:
        return "—"
    parts = [format_amount(player.daily_values[day], rules.metric)]
    if player.goal_met.get(day, False):
        parts.append("✓")
    if rules.mode in {ScoringMode.DAILY_RANK, ScoringMode.TIERS}:
        parts.append(f"+{format_points(player.daily_points.get(day, 0.0))}")
    return " ".join(parts)


def standing_row(
    standings: Standings,
    player: PlayerStanding,
    names: Mapping[PlayerId, str],
    *,
    day: dt.date | None,
    change_cell: str = "",
) -> str:
    """'`1.` Alice · 12,345 steps ✓ · **45,210 steps** ▲2 🔥3' (the day part only with `day`,
    the change only when `change_cell` is not empty)."""
    name = embed_name(names, player.player_id)
    head = f"`{player.rank}.` {name}"
    if not player.has_data:
        return f"{head} · no data yet"
    parts = [head]
    if day is not None:
        parts.append(day_cell(standings, player, day))
    tail = [
        f"**{format_score(player.score, standings.rules)}**",
        change_cell,
        format_streak(player.current_streak),
    ]
    parts.append(" ".join(t for t in tail if t))
    return " · ".join(parts)


def player_rows(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    day: dt.date | None,
    previous_ranks: Mapping[PlayerId, int] | None,
    row_note: Callable[[PlayerId], str] | None = None,
) -> list[str]:
    """Every player's row in standings order; `row_note` adds ' · {note}' to each (the live
    standings' "synced 14:05")."""
    changes = changes_since(standings, previous_ranks)
    rows = []
    for p in ordered_players(standings, names):
        row = standing_row(
            standings,
            p,
            names,
            day=day,
            change_cell="" if changes is None else format_change(changes[p.player_id]),
        )
        rows.append(row if row_note is None else f"{row} · {row_note(p.player_id)}")
    return rows


def team_rows(standings: Standings) -> list[str]:
    """'`1.` Red · **90,000 steps** · 3/4 syncing'."""
    return [
        f"`{team.rank}.` {escape_markdown(printable_name(team.team))} · "
        f"**{format_score(team.score, standings.rules)}** · "
        f"{team.syncing_members}/{len(team.member_ids)} syncing"
        for team in standings.teams
    ]


def goal_summary(standings: Standings, day: dt.date) -> str | None:
    """'4 of 6 met the goal' for `day`, or None when the challenge has no goal."""
    if standings.rules.daily_goal is None:
        return None
    met = sum(1 for p in standings.players if p.goal_met.get(day, False))
    return f"✓ {met} of {len(standings.players)} met the goal"
