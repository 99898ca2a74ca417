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
* `†` after an amount: an admin corrected that day's value (`corrected`); the footer says what
  `†` means, and lists the corrections the post is the first to mention (`corrections_note`).
* `🥇🥈🥉` the results' podium (`bot.scoring.podium`): places 1 to 3 with a score above 0; tied
  players share a medal (1, 1, 3 is two golds and a bronze).

Amounts are in the server's units (`format_amount`). Members who chose to hide (`hidden`) have
no row, podium line or award line; everyone else keeps the place the scoring gave them, so a
hidden member's place is a gap (1, 3), never given to someone else. Team totals and the goal
count ("4 of 6 met the goal") include hidden members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain import ScoringMode, Units
from bot.render.standings import (
    Corrected,
    day_number,
    format_score,
    goal_summary,
    marked_amount,
    ordered_players,
    player_rows,
    rules_line,
    standing_row,
    team_rows,
)
from bot.render.text import (
    CORRECTED_MARK,
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
    format_date,
    truncate,
)
from bot.scoring import Awards, ChallengeRules, PlayerId, PlayerStanding, Standings, podium

COLOUR_DAILY = 0x2E9E6B
COLOUR_CATCH_UP = 0x5865F2
COLOUR_RESULTS = 0xE8B923

CATCH_UP_FIELDS_BUDGET = 2500  # leaves the standings in the description at least ~3000 chars
PODIUM_LIMIT = 1000
NOBODY_SYNCED = "Nobody synced any data during this challenge."
HIDDEN_MEDALLISTS = "The medals went to members who chose not to be shown."

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
LEGEND = "▲▼ places since the last post · ✓ goal met · 🔥 goal-day streak · ⏳ provisional"
CORRECTED_LEGEND = f"{CORRECTED_MARK} corrected by an admin"


@dataclass(frozen=True, slots=True)
class _Shown:
    """How a post shows players: their public names, the server's units, who is hidden."""

    names: Mapping[PlayerId, str]
    units: Units
    hidden: AbstractSet[PlayerId]
    corrected: Corrected = frozenset()


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


def _team_field(standings: Standings, units: Units) -> list[EmbedField]:
    if not standings.teams:
        return []
    return [EmbedField("Teams", fit_lines(team_rows(standings, units), FIELD_VALUE_LIMIT))]


def _footer(standings: Standings, *extra: str) -> str:
    parts = [LEGEND, *extra]
    if standings.has_provisional_days:
        parts.append("⏳ standings include provisional days")
    return truncate(" · ".join(parts), FOOTER_LIMIT)


def corrections_footer(marked: bool, note: str | None) -> list[str]:
    """What the footer says about corrections: `note` (the corrections this post is the first
    to mention, which starts by saying what † means), or what † means when the post marks an
    amount without one."""
    if note:
        return [note]
    return [CORRECTED_LEGEND] if marked else []


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
    units: Units,
    hidden: AbstractSet[PlayerId] = frozenset(),
    previous_ranks: Mapping[PlayerId, int] | None = None,
    row_note: Callable[[PlayerId], str] | None = None,
    footer_note: str | None = None,
    corrected: Corrected = frozenset(),
    corrections_note: str | None = None,
) -> EmbedContent:
    """The daily post: what everyone did on `day` (usually yesterday) and the standings so far.

    `previous_ranks` are the ranks shown in the last post (None on the first post: no change
    column). `names` maps player id to the name shown; unknown ids get a placeholder.
    Members in `hidden` have no row (the others keep their true places). `row_note` and
    `footer_note` add to each row and to the footer (the live standings). `day`'s amounts in
    `corrected` are marked †; `corrections_note` goes in the footer."""
    rules = standings.rules
    provisional = day in standings.provisional_days
    header = [f"**{format_date(day)}** · {day_number(rules, day)} · {rules_line(rules, units)}"]
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
            standings,
            names,
            day=day,
            previous_ranks=previous_ranks,
            units=units,
            hidden=hidden,
            row_note=row_note,
            corrected=corrected,
        ),
        fields=_team_field(standings, units),
        footer=_footer(
            standings,
            *([footer_note] if footer_note else []),
            *corrections_footer(_marks_day(standings, hidden, corrected, day), corrections_note),
        ),
        colour=COLOUR_DAILY,
    )


def _marks_day(
    standings: Standings, hidden: AbstractSet[PlayerId], corrected: Corrected, day: dt.date
) -> bool:
    """Whether a shown row's amount of `day` is an admin's."""
    return any(
        (p.player_id, day) in corrected and day in p.daily_values
        for p in standings.players
        if p.player_id not in hidden
    )


def render_catch_up_post(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    challenge_name: str,
    days: Sequence[dt.date],
    units: Units,
    hidden: AbstractSet[PlayerId] = frozenset(),
    previous_ranks: Mapping[PlayerId, int] | None = None,
    corrected: Corrected = frozenset(),
    corrections_note: str | None = None,
) -> EmbedContent:
    """One post for several missed days: each day's top three and goal count as a field (the
    most recent days first to go in when there is no room for all), then the standings.
    Amounts in `corrected` are marked †; `corrections_note` goes in the footer."""
    ordered_days = sorted(days)
    shown = _Shown(names, units, hidden, corrected)
    day_fields = _catch_up_day_fields(standings, shown, ordered_days)
    marked = any(
        (p.player_id, day) in corrected
        for day in ordered_days[len(ordered_days) - len(day_fields) :]
        for p in top_three(standings, shown, day)
    )
    skipped = len(ordered_days) - len(day_fields)
    header = [f"Catching up on {len(ordered_days)} days · {rules_line(standings.rules, units)}"]
    if skipped:
        header.append(f"{ELLIPSIS}and {skipped} earlier days not shown")
    header += ["", "**Standings so far**"]
    title = escape_markdown(challenge_name)
    if ordered_days:
        title += f" — {format_date(ordered_days[0])} {EN_DASH} {format_date(ordered_days[-1])}"
    return _assemble(
        title=title,
        header="\n".join(header),
        rows=player_rows(
            standings,
            names,
            day=None,
            previous_ranks=previous_ranks,
            units=units,
            hidden=hidden,
        ),
        fields=[*day_fields, *_team_field(standings, units)],
        footer=_footer(standings, *corrections_footer(marked, corrections_note)),
        colour=COLOUR_CATCH_UP,
    )


def _catch_up_day_fields(
    standings: Standings, shown: _Shown, days: Sequence[dt.date]
) -> list[EmbedField]:
    """Day fields for the most recent days that fit the budget, in date order."""
    room = FIELD_COUNT_LIMIT - (1 if standings.teams else 0)
    fields: list[EmbedField] = []
    used = 0
    for day in reversed(days):
        field = day_field(standings, shown, day)
        size = discord_length(field.name) + discord_length(field.value)
        if len(fields) >= room or used + size > CATCH_UP_FIELDS_BUDGET:
            break
        fields.append(field)
        used += size
    return fields[::-1]


def top_three(standings: Standings, shown: _Shown, day: dt.date) -> list[PlayerStanding]:
    """The day's three best values among the players shown."""
    names = shown.names
    synced = [p for p in standings.players if day in p.daily_values]
    by_value = sorted(
        (p for p in synced if p.player_id not in shown.hidden),
        key=lambda p: (-p.daily_values[day], display_name(names, p.player_id).casefold()),
    )
    return by_value[:3]


def day_field(standings: Standings, shown: _Shown, day: dt.date) -> EmbedField:
    """'Mon 2 Jun' → '🥇 Alice 14,210 steps ✓' … plus how many met the goal. The day's places
    count everyone; a hidden member's place is left out, not given to someone else."""
    names = shown.names
    values = [p.daily_values[day] for p in standings.players if day in p.daily_values]
    lines = []
    for player in top_three(standings, shown, day):
        value = player.daily_values[day]
        rank = 1 + sum(1 for v in values if v > value)
        tick = " ✓" if player.goal_met.get(day, False) else ""
        amount = marked_amount(
            value, standings, player.player_id, day, shown.units, shown.corrected
        )
        lines.append(
            f"{MEDALS.get(rank, f'{rank}.')} {embed_name(names, player.player_id)} {amount}{tick}"
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
    units: Units,
    hidden: AbstractSet[PlayerId] = frozenset(),
    corrected: Corrected = frozenset(),
    corrections_note: str | None = None,
) -> EmbedContent:
    """The end-of-challenge post: podium (ties share a medal, a score of 0 never has one),
    awards, teams, everyone else. Members in `hidden` are left out of every line; the others
    keep their true places and medals. The best day's amount is marked † when it is in
    `corrected`; `corrections_note` goes in the footer."""
    rules = standings.rules
    podium_ids = {p.player_id for p in podium(standings)}
    shown = ordered_players(standings, names, hidden)
    medallists = [p for p in shown if p.player_id in podium_ids]
    podium_lines = [
        f"{MEDALS[p.rank]} **{embed_name(names, p.player_id)}** — "
        f"{format_score(p.score, rules, units)}"
        for p in medallists
    ]
    # Ties share a medal, so a podium can be long; keep it to a few lines.
    if podium_lines:
        header = [fit_lines(podium_lines, PODIUM_LIMIT)]
    else:
        header = [HIDDEN_MEDALLISTS if podium_ids else no_medals_line(rules)]
    if not any(p.has_data for p in standings.players):
        header = [NOBODY_SYNCED]
    rest = [p for p in shown if p.player_id not in podium_ids]
    rows = [standing_row(standings, p, names, day=None, units=units) for p in rest]
    if rows:
        header += ["", "**Final standings**"]
    award_lines = award_rows(standings, awards, _Shown(names, units, hidden, corrected))
    best = awards.best_day
    marked = (
        best is not None
        and best.player_id not in hidden
        and (best.player_id, best.day) in corrected
    )
    fields = (
        [EmbedField("Awards", fit_lines(award_lines, FIELD_VALUE_LIMIT))] if award_lines else []
    )
    span = f"{format_date(rules.start)} {EN_DASH} {format_date(rules.end)}"
    return _assemble(
        title=f"🏁 {escape_markdown(challenge_name)} — final results",
        header="\n".join(header),
        rows=rows,
        fields=[*fields, *_team_field(standings, units)],
        footer=truncate(
            " · ".join(
                [rules_line(rules, units), span, *corrections_footer(marked, corrections_note)]
            ),
            FOOTER_LIMIT,
        ),
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


def award_rows(standings: Standings, awards: Awards, shown: _Shown) -> list[str]:
    """One line per award that has a winner who is shown (an award a hidden member holds is
    left out; nobody else is named in their place)."""
    names, hidden = shown.names, shown.hidden
    lines: list[str] = []
    best = awards.best_day
    if best is not None and best.player_id not in hidden:
        amount = marked_amount(
            best.value, standings, best.player_id, best.day, shown.units, shown.corrected
        )
        lines.append(
            f"⭐ Best single day: **{embed_name(names, best.player_id)}** — {amount} "
            f"on {format_date(best.day)}"
        )
    streak = awards.longest_streak
    shown_holders = [] if streak is None else [p for p in streak.player_ids if p not in hidden]
    if streak is not None and shown_holders:
        holders = ", ".join(f"**{embed_name(names, p)}**" for p in shown_holders)
        days = streak.days
        lines.append(f"🔥 Longest streak: {holders} — {days} {'day' if days == 1 else 'days'}")
    improved = awards.most_improved
    if improved is not None and improved.player_id not in hidden:
        lines.append(
            f"📈 Most improved: **{embed_name(names, improved.player_id)}** — "
            f"{improved.percent:+.0f}% over their usual"
        )
    return lines
