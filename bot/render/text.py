"""Text every message shares: Discord's length limits, cutting text to fit, names, amounts, dates.

Lengths are measured in UTF-16 code units (`discord_length`), which is never less than Python's
`len`, so text cut to a limit here also fits however Discord counts. Dates use English day and
month names on purpose: strftime's `%a` and `%b` follow the host's locale.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.domain import KM_PER_MILE, Metric, ScoringMode, Units
from bot.scoring.rules import TieBreak

if TYPE_CHECKING:
    from bot.scoring import PlayerId

# What Discord accepts in one embed and one message.
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000  # all of an embed's text together
MESSAGE_LIMIT = 2000  # the content of one message

NAME_MAX_CHARS = 32  # Discord display names are at most 32; longer input is cut, not trusted
ELLIPSIS = "…"
EN_DASH = "\u2013"  # spelled as an escape: it looks exactly like a hyphen in source
CORRECTED_MARK = "†"  # after an amount an admin corrected (`/challenge adjust`)

# A scoring mode as the posts name it: 'Steps · total · goal 10,000 steps/day'.
MODE_LABELS: dict[ScoringMode, str] = {
    ScoringMode.TOTAL: "total",
    ScoringMode.AVERAGE: "daily average",
    ScoringMode.GOAL_DAYS: "goal days",
    ScoringMode.DAILY_RANK: "daily rank points",
    ScoringMode.TIERS: "tier points",
    ScoringMode.IMPROVEMENT: "improvement over baseline",
}

# A tie-break as the posts name it: '… · ties: more goal days'.
TIE_BREAK_LABELS: dict[TieBreak, str] = {
    TieBreak.NONE: "shared places",
    TieBreak.GOAL_DAYS: "more goal days",
    TieBreak.FIRST_TO_SCORE: "first to their score",
}

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<@:])")
_WHITESPACE = re.compile(r"\s+")
# Characters that would break a line of text: controls, format characters, line separators.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp"}


# --------------------------------------------------------------------------- lengths


def discord_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2), an upper bound of Discord's count."""
    return len(text.encode("utf-16-le")) // 2


def truncate(
    text: str,
    limit: int,
    *,
    measure: Callable[[str], int] = discord_length,
    strip: bool = True,
) -> str:
    """`text` cut to at most `limit` units of `measure`, ending in "…" when something was cut.

    With `strip` (the posts) the space before the "…" is dropped; `/publish` messages keep it
    (`measure=len, strip=False`: exactly the first `limit - 1` characters, then "…")."""
    if measure(text) <= limit:
        return text
    if limit < 1:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        used += measure(char)
        if used > limit - 1:
            break
        kept.append(char)
    cut = "".join(kept)
    return (cut.rstrip() if strip else cut) + ELLIPSIS


def more_line(count: int) -> str:
    return f"{ELLIPSIS}and {count} more"


def fit_lines(lines: Sequence[str], limit: int, *, margin: int | None = None) -> str:
    """Join as many whole lines as fit in `limit`, then "…and N more" for the rest.

    Without `margin` (the posts) exactly the room the last line needs is kept free. With one
    (the challenge cards) lines are added while they fit in `limit - margin` characters, then
    "… and N more" follows (with a space), and no lines at all read "None."."""
    if margin is not None:
        return _fit_lines_within_margin(lines, limit - margin)
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


def _fit_lines_within_margin(lines: Sequence[str], room: int) -> str:
    text = ""
    for index, line in enumerate(lines):
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > room:
            return f"{text}\n{ELLIPSIS} and {len(lines) - index} more"
        text = candidate
    return text or "None."


# --------------------------------------------------------------------------- names


def printable_name(name: str) -> str:
    """One line of printable text, at most `NAME_MAX_CHARS`: no newlines or control characters
    that could break a row, and no leading or trailing space."""
    printable = "".join(
        " " if unicodedata.category(char) in _UNPRINTABLE else char for char in name
    )
    text = _WHITESPACE.sub(" ", printable).strip()
    return truncate(text, NAME_MAX_CHARS)


def escape_markdown(text: str) -> str:
    """Backslash-escape everything Discord's markdown would interpret (bold, spoilers, masked
    links, mentions, emoji, headings), so a display name shows exactly as typed."""
    return _MARKDOWN.sub(r"\\\1", text)


def display_name(names: Mapping[PlayerId, str], player_id: PlayerId) -> str:
    """The printable, unescaped name to show for a player (a placeholder if unknown)."""
    return printable_name(names.get(player_id, "")) or f"Player {player_id}"


def embed_name(names: Mapping[PlayerId, str], player_id: PlayerId) -> str:
    return escape_markdown(display_name(names, player_id))


# --------------------------------------------------------------------------- numbers and dates


def unit_label(metric: Metric, units: Units) -> str:
    """The unit an amount of `metric` is shown in: 'steps', 'km' or 'mi', 'min'."""
    if metric is Metric.DISTANCE and units is Units.IMPERIAL:
        return "mi"
    return metric.unit


def shown_value(value: float, metric: Metric, units: Units) -> float:
    """A stored value (distances in km) in the unit `unit_label` names."""
    if metric is Metric.DISTANCE and units is Units.IMPERIAL:
        return value / KM_PER_MILE
    return value


def format_amount(value: float, metric: Metric, units: Units) -> str:
    """A stored value with its unit, as the server reads distances: '12,345 steps', '7.4 km'
    or '4.6 mi', '45 min'. The one format of an amount everywhere (posts, charts, DMs)."""
    shown = shown_value(value, metric, units)
    if metric is Metric.DISTANCE:
        return f"{shown:,.1f} {unit_label(metric, units)}"
    return f"{shown:,.0f} {unit_label(metric, units)}"


def format_number(value: float) -> str:
    """Whole numbers without decimals, others with one: '12', '2.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_points(points: float) -> str:
    return f"{format_number(points)} {'pt' if points == 1 else 'pts'}"


def format_date(
    day: dt.date, *, weekday: bool = True, year: bool = False, padded: bool = False
) -> str:
    """'Mon 2 Jun' (the posts), independent of the host's locale.

    `year` adds the year ('Mon 2 Jun 2025'), `weekday=False` leaves the day name out ('2 Jun',
    the chart), and `padded` writes the day with two digits as the challenge cards and replies
    do: `padded=True` is strftime's "%a %d %b" ('Mon 02 Jun')."""
    parts = [_WEEKDAYS[day.weekday()]] if weekday else []
    parts += [f"{day.day:02d}" if padded else str(day.day), _MONTHS[day.month - 1]]
    if year:
        parts.append(str(day.year))
    return " ".join(parts)
