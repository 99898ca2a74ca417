"""Layout of the daily, catch-up and results posts as plain data, and the terminal table.

A cog turns `EmbedContent` into a `discord.Embed` field by field; nothing here imports discord.
Every builder guarantees Discord's embed limits (the `*_LIMIT` constants): long lists end with
"…and N more" instead of being rejected by the API. Lengths are measured in UTF-16 code units,
which is never less than Python's `len`, so the content also fits however Discord counts.

Markers used in the posts (the footer repeats the legend):

* `▲2` / `▼1` places gained or lost since the last post, `new` for a newcomer, an en dash no change;
  the column is left out on the first post, when there is nothing to compare with.
* `✓` the daily goal was met that day.
* `🔥n` a streak of n goal days, shown from n = 2: a one-day streak is just today's `✓`.
* `⏳` a provisional day: late syncs can still change it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain import Metric, ScoringMode
from bot.scoring import (
    Awards,
    ChallengeRules,
    PlayerId,
    PlayerStanding,
    Standings,
    TeamStanding,
    rank_changes,
)

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000

COLOUR_DAILY = 0x2E9E6B
COLOUR_CATCH_UP = 0x5865F2
COLOUR_RESULTS = 0xE8B923

NAME_MAX_CHARS = 32  # Discord display names are at most 32; longer input is cut, not trusted
CATCH_UP_FIELDS_BUDGET = 2500  # leaves the standings in the description at least ~3000 chars
MIN_STREAK_SHOWN = 2
PODIUM_LIMIT = 1000
NOBODY_SYNCED = "Nobody synced any data during this challenge."
ELLIPSIS = "…"
EN_DASH = "\u2013"  # spelled as an escape: it looks exactly like a hyphen in source

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
MODE_LABELS: dict[ScoringMode, str] = {
    ScoringMode.TOTAL: "total",
    ScoringMode.AVERAGE: "daily average",
    ScoringMode.GOAL_DAYS: "goal days",
    ScoringMode.DAILY_RANK: "daily rank points",
    ScoringMode.TIERS: "tier points",
    ScoringMode.IMPROVEMENT: "improvement over baseline",
}
LEGEND = "▲▼ places since the last post · ✓ goal met · 🔥 goal-day streak · ⏳ provisional"
# English abbreviations on purpose: strftime's %a/%b follow the host locale.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class EmbedField(NamedTuple):
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class EmbedContent:
    """What a post says; `fields` unpack as (name, value, inline) for `Embed.add_field`."""

    title: str
    description: str
    fields: tuple[EmbedField, ...]
    footer: str
    colour: int

    def text_length(self) -> int:
        """The total Discord counts against `TOTAL_LIMIT`."""
        parts = [self.title, self.description, self.footer]
        parts += [text for field in self.fields for text in (field.name, field.value)]
        return sum(discord_length(part) for part in parts)


# --------------------------------------------------------------------------- text primitives


def discord_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2), an upper bound of Discord's count."""
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` units, ending in "…" when something was cut."""
    if discord_length(text) <= limit:
        return text
    if limit < 1:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        used += discord_length(char)
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<@:])")
_WHITESPACE = re.compile(r"\s+")


def clean_name(name: str) -> str:
    """One line of printable text, at most `NAME_MAX_CHARS`: no newlines or control characters
    that could break a row, and no leading or trailing space."""
    printable = "".join(
        " " if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} else char for char in name
    )
    text = _WHITESPACE.sub(" ", printable).strip()
    return truncate(text, NAME_MAX_CHARS)


def escape_markdown(text: str) -> str:
    """Backslash-escape everything Discord's markdown would interpret (bold, spoilers, masked
    links, mentions, emoji, headings), so a display name shows exactly as typed."""
    return _MARKDOWN.sub(r"\\\1", text)


def display_name(names: Mapping[PlayerId, str], player_id: PlayerId) -> str:
    """The cleaned, unescaped name to show for a player (a placeholder if unknown)."""
    return clean_name(names.get(player_id, "")) or f"Player {player_id}"


def embed_name(names: Mapping[PlayerId, str], player_id: PlayerId) -> str:
    return escape_markdown(display_name(names, player_id))


def fit_lines(lines: Sequence[str], limit: int) -> str:
    """Join as many whole lines as fit in `limit`, then "…and N more" for the rest."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        left_after = len(lines) - index - 1
        cost = discord_length(line) + (1 if kept else 0)
        reserve = discord_length(more_line(left_after)) + 1 if left_after else 0
        if used + cost + reserve > limit:
            break
        kept.append(line)
        used += cost
    if len(kept) < len(lines):
        kept.append(more_line(len(lines) - len(kept)))
    return truncate("\n".join(kept), limit)


def more_line(count: int) -> str:
    return f"{ELLIPSIS}and {count} more"


# --------------------------------------------------------------------------- number formats


def format_date(day: dt.date) -> str:
    """'Mon 2 Jun', independent of the host's locale."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def format_amount(value: float, metric: Metric) -> str:
    """A daily value with its unit: '12,345 steps', '7.4 km', '45 min'."""
    if metric is Metric.DISTANCE:
        return f"{value:,.1f} {metric.unit}"
    return f"{value:,.0f} {metric.unit}"


def format_number(value: float) -> str:
    """Whole numbers without decimals, others with one: '12', '2.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_points(points: float) -> str:
    return f"{format_number(points)} {'pt' if points == 1 else 'pts'}"


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


def describe_rules(rules: ChallengeRules) -> str:
    """'Steps · total · goal 10,000 steps/day'."""
    parts = [rules.metric.label, MODE_LABELS[rules.mode]]
    if rules.daily_goal is not None:
        parts.append(f"goal {format_amount(rules.daily_goal, rules.metric)}/day")
    if rules.daily_cap is not None:
        parts.append(f"cap {format_amount(rules.daily_cap, rules.metric)}/day")
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


def _changes(
    standings: Standings, previous_ranks: Mapping[PlayerId, int] | None
) -> dict[PlayerId, int | None] | None:
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
) -> list[str]:
    changes = _changes(standings, previous_ranks)
    return [
        standing_row(
            standings,
            p,
            names,
            day=day,
            change_cell="" if changes is None else format_change(changes[p.player_id]),
        )
        for p in ordered_players(standings, names)
    ]


def team_rows(standings: Standings) -> list[str]:
    """'`1.` Red · **90,000 steps** · 3/4 syncing'."""
    return [
        f"`{team.rank}.` {escape_markdown(clean_name(team.team))} · "
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


# --------------------------------------------------------------------------- assembly


def _team_field(standings: Standings) -> list[EmbedField]:
    if not standings.teams:
        return []
    return [EmbedField("Teams", fit_lines(team_rows(standings), FIELD_VALUE_LIMIT))]


def _footer(standings: Standings, *extra: str) -> str:
    parts = [LEGEND, *extra]
    if standings.has_provisional_days:
        parts.append("⏳ standings include provisional days")
    return truncate(" · ".join(parts), FOOTER_LIMIT)


def _assemble(
    *,
    title: str,
    header: str,
    rows: Sequence[str],
    fields: Sequence[EmbedField],
    footer: str,
    colour: int,
) -> EmbedContent:
    """Give the description whatever room the title, fields and footer leave, fill it with the
    header and as many rows as fit, then check every limit once more."""
    title = truncate(title, TITLE_LIMIT)
    fields = [
        EmbedField(
            truncate(f.name, FIELD_NAME_LIMIT), truncate(f.value, FIELD_VALUE_LIMIT), f.inline
        )
        for f in fields[:FIELD_COUNT_LIMIT]
    ]
    fixed = discord_length(title) + discord_length(footer)
    fixed += sum(discord_length(f.name) + discord_length(f.value) for f in fields)
    room = min(DESCRIPTION_LIMIT, TOTAL_LIMIT - fixed)
    header = truncate(header, room)
    separator = "\n" if header and rows else ""
    body = fit_lines(rows, room - discord_length(header) - len(separator)) if rows else ""
    content = EmbedContent(
        title=title,
        description=f"{header}{separator}{body}".strip("\n"),
        fields=tuple(fields),
        footer=footer,
        colour=colour,
    )
    return enforce_limits(content)


def enforce_limits(content: EmbedContent) -> EmbedContent:
    """Safety net: drop trailing fields, then cut the description, until the total fits."""
    fields = list(content.fields[:FIELD_COUNT_LIMIT])
    description = truncate(content.description, DESCRIPTION_LIMIT)
    while True:
        candidate = EmbedContent(
            title=truncate(content.title, TITLE_LIMIT),
            description=description,
            fields=tuple(fields),
            footer=truncate(content.footer, FOOTER_LIMIT),
            colour=content.colour,
        )
        excess = candidate.text_length() - TOTAL_LIMIT
        if excess <= 0:
            return candidate
        if fields:
            fields.pop()
        else:
            description = truncate(description, max(discord_length(description) - excess, 0))


# --------------------------------------------------------------------------- the posts


def render_daily_post(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    challenge_name: str,
    day: dt.date,
    previous_ranks: Mapping[PlayerId, int] | None = None,
) -> EmbedContent:
    """The daily post: what everyone did on `day` (usually yesterday) and the standings so far.

    `previous_ranks` are the ranks shown in the last post (None on the first post: no change
    column). `names` maps player id to display name; unknown ids get a placeholder."""
    rules = standings.rules
    provisional = day in standings.provisional_days
    header = [f"**{format_date(day)}** · {day_number(rules, day)} · {describe_rules(rules)}"]
    if provisional:
        header.append("⏳ Provisional: late syncs can still change this day.")
    summary = goal_summary(standings, day)
    if summary:
        header.append(summary)
    header.append("")
    header.append("**Standings so far**")
    title = f"{escape_markdown(challenge_name)} — {format_date(day)}"
    return _assemble(
        title=f"{title} ⏳" if provisional else title,
        header="\n".join(header),
        rows=player_rows(standings, names, day=day, previous_ranks=previous_ranks),
        fields=_team_field(standings),
        footer=_footer(standings),
        colour=COLOUR_DAILY,
    )


def render_catch_up_post(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    challenge_name: str,
    days: Sequence[dt.date],
    previous_ranks: Mapping[PlayerId, int] | None = None,
) -> EmbedContent:
    """One post for several missed days: each day's top three and goal count as a field (the
    most recent days first to go in when there is no room for all), then the standings."""
    ordered_days = sorted(days)
    day_fields = _catch_up_day_fields(standings, names, ordered_days)
    skipped = len(ordered_days) - len(day_fields)
    header = [f"Catching up on {len(ordered_days)} days · {describe_rules(standings.rules)}"]
    if skipped:
        header.append(f"{ELLIPSIS}and {skipped} earlier days not shown")
    header += ["", "**Standings so far**"]
    title = escape_markdown(challenge_name)
    if ordered_days:
        title += f" — {format_date(ordered_days[0])} {EN_DASH} {format_date(ordered_days[-1])}"
    return _assemble(
        title=title,
        header="\n".join(header),
        rows=player_rows(standings, names, day=None, previous_ranks=previous_ranks),
        fields=[*day_fields, *_team_field(standings)],
        footer=_footer(standings),
        colour=COLOUR_CATCH_UP,
    )


def _catch_up_day_fields(
    standings: Standings, names: Mapping[PlayerId, str], days: Sequence[dt.date]
) -> list[EmbedField]:
    """Day fields for the most recent days that fit the budget, in date order."""
    room = FIELD_COUNT_LIMIT - (1 if standings.teams else 0)
    fields: list[EmbedField] = []
    used = 0
    for day in reversed(days):
        field = day_field(standings, names, day)
        size = discord_length(field.name) + discord_length(field.value)
        if len(fields) >= room or used + size > CATCH_UP_FIELDS_BUDGET:
            break
        fields.append(field)
        used += size
    return fields[::-1]


def day_field(standings: Standings, names: Mapping[PlayerId, str], day: dt.date) -> EmbedField:
    """'Mon 2 Jun' → '🥇 Alice 14,210 steps ✓' … plus how many met the goal."""
    rules = standings.rules
    synced = [p for p in standings.players if day in p.daily_values]
    values = {p.player_id: p.daily_values[day] for p in synced}
    by_value = sorted(
        synced,
        key=lambda p: (-values[p.player_id], display_name(names, p.player_id).casefold()),
    )
    lines = []
    for player in by_value[:3]:
        rank = 1 + sum(1 for v in values.values() if v > values[player.player_id])
        tick = " ✓" if player.goal_met.get(day, False) else ""
        lines.append(
            f"{MEDALS[rank]} {embed_name(names, player.player_id)} "
            f"{format_amount(values[player.player_id], rules.metric)}{tick}"
        )
    if not lines:
        lines.append("nobody synced")
    summary = goal_summary(standings, day)
    if summary:
        lines.append(summary)
    name = format_date(day) + (" ⏳" if day in standings.provisional_days else "")
    return EmbedField(name, fit_lines(lines, FIELD_VALUE_LIMIT), inline=False)


def render_results_post(
    standings: Standings,
    awards: Awards,
    names: Mapping[PlayerId, str],
    *,
    challenge_name: str,
) -> EmbedContent:
    """The end-of-challenge post: podium (ties share a medal), awards, teams, everyone else."""
    rules = standings.rules
    podium = [p for p in ordered_players(standings, names) if p.rank in MEDALS and p.has_data]
    podium_lines = [
        f"{MEDALS[p.rank]} **{embed_name(names, p.player_id)}** — {format_score(p.score, rules)}"
        for p in podium
    ]
    # Ties share a medal, so a podium can be long; keep it to a few lines. It can also be
    # empty although players synced: below their usual, they rank under those without data.
    header = [fit_lines(podium_lines, PODIUM_LIMIT)] if podium else []
    if not any(p.has_data for p in standings.players):
        header = [NOBODY_SYNCED]
    podium_ids = {p.player_id for p in podium}
    rest = [p for p in ordered_players(standings, names) if p.player_id not in podium_ids]
    rows = [standing_row(standings, p, names, day=None) for p in rest]
    if rows:
        header += ["", "**Final standings**"]
    award_lines = award_rows(standings, awards, names)
    fields = (
        [EmbedField("Awards", fit_lines(award_lines, FIELD_VALUE_LIMIT))] if award_lines else []
    )
    span = f"{format_date(rules.start)} {EN_DASH} {format_date(rules.end)}"
    return _assemble(
        title=f"🏁 {escape_markdown(challenge_name)} — final results",
        header="\n".join(header),
        rows=rows,
        fields=[*fields, *_team_field(standings)],
        footer=truncate(f"{describe_rules(rules)} · {span}", FOOTER_LIMIT),
        colour=COLOUR_RESULTS,
    )


def award_rows(standings: Standings, awards: Awards, names: Mapping[PlayerId, str]) -> list[str]:
    """One line per award that has a winner."""
    metric = standings.rules.metric
    lines: list[str] = []
    if awards.best_day is not None:
        best = awards.best_day
        lines.append(
            f"⭐ Best single day: **{embed_name(names, best.player_id)}** — "
            f"{format_amount(best.value, metric)} on {format_date(best.day)}"
        )
    if awards.longest_streak is not None:
        holders = ", ".join(f"**{embed_name(names, p)}**" for p in awards.longest_streak.player_ids)
        days = awards.longest_streak.days
        lines.append(f"🔥 Longest streak: {holders} — {days} {'day' if days == 1 else 'days'}")
    if awards.most_improved is not None:
        improved = awards.most_improved
        lines.append(
            f"📈 Most improved: **{embed_name(names, improved.player_id)}** — "
            f"{improved.percent:+.0f}% over their usual"
        )
    return lines


# --------------------------------------------------------------------------- terminal table


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
    day: dt.date | None = None,
    previous_ranks: Mapping[PlayerId, int] | None = None,
    name_width: int = 20,
) -> str:
    """Fixed-width standings for a terminal (`stride demo`): rank, name, the value on `day`,
    score, change, streak; teams below when there are any. Plain text, no markdown."""
    rules = standings.rules
    changes = _changes(standings, previous_ranks)
    day_label = "" if day is None else format_date(day)
    if day is not None and day in standings.provisional_days:
        day_label += " (prov.)"
    columns: list[tuple[str, int, bool]] = [("#", 4, True), ("Name", name_width, False)]
    if day is not None:
        columns.append((day_label, max(18, text_width(day_label)), True))
    columns += [("Score", 18, True), ("Change", 6, True), ("Streak", 6, True)]
    lines = [_table_line([c[0] for c in columns], columns)]
    lines.append("  ".join("-" * width for _, width, _ in columns))
    for player in ordered_players(standings, names):
        cells = [f"{player.rank}.", display_name(names, player.player_id)]
        if day is not None:
            cells.append(_text_day_cell(standings, player, day))
        cells.append(format_score(player.score, rules) if player.has_data else "no data yet")
        cells.append("" if changes is None else _ascii_change(changes[player.player_id]))
        cells.append(str(player.current_streak) if player.current_streak else "")
        lines.append(_table_line(cells, columns))
    lines += _text_team_lines(standings, name_width)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _table_line(cells: Sequence[str], columns: Sequence[tuple[str, int, bool]]) -> str:
    return "  ".join(
        fit_width(cell, width, align_right=right)
        for cell, (_, width, right) in zip(cells, columns, strict=True)
    )


def _text_day_cell(standings: Standings, player: PlayerStanding, day: dt.date) -> str:
    if day not in player.daily_values:
        return "-"
    value = format_amount(player.daily_values[day], standings.rules.metric)
    return f"{value} ✓" if player.goal_met.get(day, False) else value


def _ascii_change(change: int | None) -> str:
    if change is None:
        return "new"
    return f"{change:+d}" if change else "="


def _text_team_lines(standings: Standings, name_width: int) -> list[str]:
    if not standings.teams:
        return []
    columns: list[tuple[str, int, bool]] = [("#", 4, True), ("Team", name_width, False)]
    columns += [("Score", 18, True), ("Syncing", 7, True)]
    lines = ["", _table_line([c[0] for c in columns], columns)]
    lines.append("  ".join("-" * width for _, width, _ in columns))
    lines += [_team_line(team, standings, columns) for team in standings.teams]
    return lines


def _team_line(
    team: TeamStanding, standings: Standings, columns: Sequence[tuple[str, int, bool]]
) -> str:
    cells = [
        f"{team.rank}.",
        clean_name(team.team),
        format_score(team.score, standings.rules),
        f"{team.syncing_members}/{len(team.member_ids)}",
    ]
    return _table_line(cells, columns)
