"""Standings in words: scores in a challenge's own terms, one row per player or team.

The daily, catch-up and results posts (`leaderboard`), the terminal table (`table`) and `/me`
build their lines from these, so a score reads the same everywhere. Rows are Discord markdown
with every name escaped. An amount an admin corrected is followed by `CORRECTED_MARK` (†):
`corrected` holds the (player, day) pairs whose value is an admin's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet

from bot.domain import ScoringMode, Units
from bot.render.text import (
    CORRECTED_MARK,
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

Corrected = AbstractSet[tuple[PlayerId, dt.date]]  # (player, day) values set by an admin


# --------------------------------------------------------------------------- scores


def format_score(score: float, rules: ChallengeRules, units: Units) -> str:
    """A score in the challenge's own terms and the server's units: '45,210 steps',
    '8,040 steps/day', '31.1 mi', '5 days', '12 pts', '+12.5%'."""
    match rules.mode:
        case ScoringMode.TOTAL:
            return format_amount(score, rules.metric, units)
        case ScoringMode.AVERAGE:
            return f"{format_amount(score, rules.metric, units)}/day"
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


def rules_line(rules: ChallengeRules, units: Units) -> str:
    """The rules in one line of a post's header: 'Steps · total · goal 10,000 steps/day', with
    the tie-break when there is one ('… · ties: more goal days')."""
    parts = [rules.metric.label, MODE_LABELS[rules.mode]]
    if rules.daily_goal is not None:
        parts.append(f"goal {format_amount(rules.daily_goal, rules.metric, units)}/day")
    if rules.daily_cap is not None:
        parts.append(f"cap {format_amount(rules.daily_cap, rules.metric, units)}/day")
    if rules.tie_break is not TieBreak.NONE:
        parts.append(f"ties: {TIE_BREAK_LABELS[rules.tie_break]}")
    return " · ".join(parts)


def day_number(rules: ChallengeRules, day: dt.date) -> str:
    """'day 3 of 14'."""
    length = (rules.end - rules.start).days + 1
    return f"day {(day - rules.start).days + 1} of {length}"


# --------------------------------------------------------------------------- ordering


def ordered_players(
    standings: Standings,
    names: Mapping[PlayerId, str],
    hidden: AbstractSet[PlayerId] = frozenset(),
) -> list[PlayerStanding]:
    """Players by rank, members in `hidden` left out (the others keep their true places); a
    shared rank is listed by display name, then id, so the order is stable from post to post."""
    return sorted(
        (p for p in standings.players if p.player_id not in hidden),
        key=lambda p: (p.rank, display_name(names, p.player_id).casefold(), p.player_id),
    )


def changes_since(
    standings: Standings, previous_ranks: Mapping[PlayerId, int] | None
) -> dict[PlayerId, int | None] | None:
    """Places each player gained since `previous_ranks` (None: nothing to compare with)."""
    return None if previous_ranks is None else rank_changes(previous_ranks, standings)


# --------------------------------------------------------------------------- rows


def marked_amount(
    value: float,
    standings: Standings,
    player: PlayerId,
    day: dt.date,
    units: Units,
    corrected: Corrected,
) -> str:
    """'12,345 steps', or '12,345 steps†' when an admin set that day's value."""
    amount = format_amount(value, standings.rules.metric, units)
    return f"{amount}{CORRECTED_MARK}" if (player, day) in corrected else amount


def day_cell(
    standings: Standings,
    player: PlayerStanding,
    day: dt.date,
    units: Units,
    corrected: Corrected = frozenset(),
) -> str:
    """What a player did on `day`: '12,345 steps ✓ +3 pts' ('12,345 steps† ✓' when an admin
    corrected it), or '—' when nothing synced."""
    rules = standings.rules
    if day not in player.daily_values:
        return "—"
    value = player.daily_values[day]
    parts = [marked_amount(value, standings, player.player_id, day, units, corrected)]
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
    units: Units,
    change_cell: str = "",
    corrected: Corrected = frozenset(),
) -> str:
    """'`1.` Alice · 12,345 steps ✓ · **45,210 steps** ▲2 🔥3' (the day part only with `day`,
    the change only when `change_cell` is not empty)."""
    name = embed_name(names, player.player_id)
    head = f"`{player.rank}.` {name}"
    if not player.has_data:
        return f"{head} · no data yet"
    parts = [head]
    if day is not None:
        parts.append(day_cell(standings, player, day, units, corrected))
    tail = [
        f"**{format_score(player.score, standings.rules, units)}**",
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
    units: Units,
    hidden: AbstractSet[PlayerId] = frozenset(),
    row_note: Callable[[PlayerId], str] | None = None,
    corrected: Corrected = frozenset(),
) -> list[str]:
    """Every shown player's row in standings order (`hidden` members left out, the others
    keep their true places); `row_note` adds ' · {note}' to each (the live standings'
    "synced 14:05"); `day`'s amounts an admin corrected are marked."""
    changes = changes_since(standings, previous_ranks)
    rows = []
    for p in ordered_players(standings, names, hidden):
        row = standing_row(
            standings,
            p,
            names,
            day=day,
            units=units,
            change_cell="" if changes is None else format_change(changes[p.player_id]),
            corrected=corrected,
        )
        rows.append(row if row_note is None else f"{row} · {row_note(p.player_id)}")
    return rows


def team_rows(standings: Standings, units: Units) -> list[str]:
    """'`1.` Red · **90,000 steps** · 3/4 syncing' (hidden members count for their team)."""
    return [
        f"`{team.rank}.` {escape_markdown(printable_name(team.team))} · "
        f"**{format_score(team.score, standings.rules, units)}** · "
        f"{team.syncing_members}/{len(team.member_ids)} syncing"
        for team in standings.teams
    ]


def goal_summary(standings: Standings, day: dt.date) -> str | None:
    """'4 of 6 met the goal' for `day`, or None when the challenge has no goal."""
    if standings.rules.daily_goal is None:
        return None
    met = sum(1 for p in standings.players if p.goal_met.get(day, False))
    return f"✓ {met} of {len(standings.players)} met the goal"
