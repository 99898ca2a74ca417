"""The daily, catch-up and results posts as plain data (`EmbedContent`).

A cog turns `EmbedContent` into a `discord.Embed` field by field; nothing here imports discord.
Every builder guarantees Discord's embed limits (`bot.render.text`): long lists end with
"…and N more" instead of being rejected by the API.

Markers used in the posts (the footer repeats the legend):

* `▲2` / `▼1` places gained or lost since the last post, `new` for a newcomer, an en dash no change;
  the column is left out on the first post, when there is nothing to compare with.
* `✓` the daily goal was met that day.
* `🔥n` a streak of n goal days, shown from n = 2: a one-day streak is just today's `✓`.
* `⏳` a provisional day: late syncs can still change it.
* `🥇🥈🥉` the results' podium (`bot.scoring.podium`): places 1 to 3 with a score above 0; tied
  players share a medal (1, 1, 3 is two golds and a bronze).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain import ScoringMode
from bot.render.standings import (
    day_number,
    format_score,
    goal_summary,
    ordered_players,
    player_rows,
    rules_line,
    standing_row,
    team_rows,
)
from bot.render.text import (
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    EN_DASH,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    discord_length,
    display_name,
    embed_name,
    escape_markdown,
    fit_lines,
    format_amount,
    format_date,
    truncate,
)
from bot.scoring import Awards, ChallengeRules, PlayerId, Standings, podium

COLOUR_DAILY = 0x2E9E6B
COLOUR_CATCH_UP = 0x5865F2
COLOUR_RESULTS = 0xE8B923

CATCH_UP_FIELDS_BUDGET = 2500  # leaves the standings in the description at least ~3000 chars
PODIUM_LIMIT = 1000
NOBODY_SYNCED = "Nobody synced any data during this challenge."

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
LEGEND = "▲▼ places since the last post · ✓ goal met · 🔥 goal-day streak · ⏳ provisional"


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
    row_note: Callable[[PlayerId], str] | None = None,
    footer_note: str | None = None,
) -> EmbedContent:
    """The daily post: what everyone did on `day` (usually yesterday) and the standings so far.

    `previous_ranks` are the ranks shown in the last post (None on the first post: no change
    column). `names` maps player id to display name; unknown ids get a placeholder.
    `row_note` and `footer_note` add to each row and to the footer (the live standings)."""
    rules = standings.rules
    provisional = day in standings.provisional_days
    header = [f"**{format_date(day)}** · {day_number(rules, day)} · {rules_line(rules)}"]
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
        rows=player_rows(
            standings, names, day=day, previous_ranks=previous_ranks, row_note=row_note
        ),
        fields=_team_field(standings),
        footer=_footer(standings, *([footer_note] if footer_note else [])),
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
    header = [f"Catching up on {len(ordered_days)} days · {rules_line(standings.rules)}"]
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
    """The end-of-challenge post: podium (ties share a medal, a score of 0 never has one),
    awards, teams, everyone else."""
    rules = standings.rules
    podium_ids = {p.player_id for p in podium(standings)}
    medallists = [p for p in ordered_players(standings, names) if p.player_id in podium_ids]
    podium_lines = [
        f"{MEDALS[p.rank]} **{embed_name(names, p.player_id)}** — {format_score(p.score, rules)}"
        for p in medallists
    ]
    # Ties share a medal, so a podium can be long; keep it to a few lines.
    header = [fit_lines(podium_lines, PODIUM_LIMIT) if podium_lines else no_medals_line(rules)]
    if not any(p.has_data for p in standings.players):
        header = [NOBODY_SYNCED]
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
        footer=truncate(f"{rules_line(rules)} · {span}", FOOTER_LIMIT),
        colour=COLOUR_RESULTS,
    )


def no_medals_line(rules: ChallengeRules) -> str:
    """What the results post says when nobody scored above 0, so nobody has a medal."""
    match rules.mode:
        case ScoringMode.GOAL_DAYS:
            return "No medals: nobody reached the goal."
        case ScoringMode.IMPROVEMENT:
            return "No medals: nobody beat their usual day."
        case _:
            return "No medals: nobody scored."


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
