"""Stride's leaderboard posts read the way a member reads them, and what they should say.

`read_post` turns a recorded channel message into a `Post`: its kind (daily, catch-up,
results), the days it covers, its standings rows and its chart. `expected_rows` works out,
independently of Stride's scoring code, what the rows of a steps-total challenge must be.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tests.standins.discord.entities import StoredMessage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EN_DASH = "\u2013"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{1,2}) ([A-Z][a-z]{2})"
_ROW = re.compile(r"^`(?P<rank>\d+)\.` (?P<rest>.+)$")
_TAIL = re.compile(
    r"^\*\*(?P<total>[\d,]+) steps\*\*"
    rf"(?: (?P<change>▲\d+|▼\d+|{EN_DASH}|new))?"
    r"(?: 🔥(?P<streak>\d+))?$"
)
_DAY_CELL = re.compile(r"^(?:(?P<value>[\d,]+) steps(?P<tick> ✓)?|—)$")
_PODIUM = re.compile(r"^(?P<medal>🥇|🥈|🥉) \*\*(?P<name>.+)\*\* — (?P<score>[\d,]+) steps$")


class Kind(StrEnum):
    DAILY = "daily"
    CATCH_UP = "catch_up"
    RESULTS = "results"


@dataclass(frozen=True)
class Row:
    """One standings line: "`2.` Bob · 31,000 steps ✓ · **83,000 steps** ▼2 🔥2"."""

    rank: int
    name: str
    total: int | None  # None: "no data yet"
    day_value: int | None = None  # the post's day; None for "—" or a post without a day
    goal_met: bool = False
    change: str | None = None  # "▲2", "▼1", EN_DASH or "new"; None: the post has no column
    streak: int = 0  # the 🔥 number; 0 when none is shown


@dataclass(frozen=True)
class Post:
    message: StoredMessage
    kind: Kind
    days: tuple[dt.date, ...]  # the challenge days it reports on (none for results)
    rows: tuple[Row, ...]
    podium: tuple[tuple[str, str, int], ...]  # results: (medal, name, score)

    @property
    def title(self) -> str:
        return str(self.message.embeds[0].get("title") or "")

    def row(self, name: str) -> Row:
        found = [row for row in self.rows if row.name == name]
        assert len(found) == 1, f"{name!r} is not shown once in {self.title!r}: {self.rows}"
        return found[0]

    def field_lines(self, name: str) -> list[str]:
        """The lines of the embed field called `name` (a catch-up day: "Wed 25 Nov")."""
        for field in self.message.embeds[0].get("fields") or []:
            if str(field["name"]).removesuffix(" ⏳") == name:
                return str(field["value"]).splitlines()
        raise AssertionError(f"{self.title!r} has no field {name!r}")

    @property
    def names(self) -> list[str]:
        return [row.name for row in self.rows]

    @property
    def has_png_chart(self) -> bool:
        return any(
            a.filename.endswith(".png") and a.data.startswith(PNG_SIGNATURE)
            for a in self.message.attachments
        )


def parse_date(text: str, year: int) -> dt.date:
    """'Mon 23 Nov' in `year`."""
    match = re.fullmatch(_DATE, text.strip())
    assert match is not None, f"not a date: {text!r}"
    return dt.date(year, _MONTHS.index(match.group(2)) + 1, int(match.group(1)))


def read_post(message: StoredMessage, *, challenge: str, year: int) -> Post:
    """A daily, catch-up or results post of `challenge` (assertion error for anything else)."""
    assert len(message.embeds) == 1, f"a post has one embed: {message.embeds}"
    embed = message.embeds[0]
    title = str(embed.get("title") or "").removesuffix(" ⏳")
    description = str(embed.get("description") or "")
    if title == f"🏁 {challenge} — final results":
        podium = tuple(
            (m["medal"], m["name"], _number(m["score"]))
            for line in description.splitlines()
            if (m := _PODIUM.match(line))
        )
        rows = tuple(
            _row(line, with_day=False) for line in description.splitlines() if _ROW.match(line)
        )
        return Post(message, Kind.RESULTS, (), rows, podium)
    prefix = f"{challenge} — "
    assert title.startswith(prefix), f"not a post of {challenge!r}: {title!r}"
    span = title.removeprefix(prefix)
    if f" {EN_DASH} " in span:
        first, last = (parse_date(part, year) for part in span.split(f" {EN_DASH} "))
        days = tuple(
            parse_date(str(field["name"]).removesuffix(" ⏳"), year)
            for field in embed.get("fields") or []
            if re.match(_DATE, str(field["name"]))
        )
        assert days and days[0] == first and days[-1] == last, (title, days)
        kind, with_day = Kind.CATCH_UP, False
    else:
        days, kind, with_day = (parse_date(span, year),), Kind.DAILY, True
    rows = tuple(
        _row(line, with_day=with_day) for line in description.splitlines() if _ROW.match(line)
    )
    return Post(message, kind, days, rows, ())


def _row(line: str, *, with_day: bool) -> Row:
    match = _ROW.match(line)
    assert match is not None
    rank = int(match["rank"])
    parts = match["rest"].split(" · ")
    if parts[-1] == "no data yet":
        return Row(rank=rank, name=" · ".join(parts[:-1]), total=None)
    tail = _TAIL.match(parts[-1])
    assert tail is not None, f"unexpected standings row: {line!r}"
    day_value, goal_met = None, False
    if with_day:
        cell = _DAY_CELL.match(parts[-2])
        assert cell is not None, f"unexpected day cell in {line!r}"
        day_value = _number(cell["value"]) if cell["value"] else None
        goal_met = bool(cell["tick"])
        parts = parts[:-1]
    return Row(
        rank=rank,
        name=" · ".join(parts[:-1]),
        total=_number(tail["total"]),
        day_value=day_value,
        goal_met=goal_met,
        change=tail["change"],
        streak=int(tail["streak"] or 0),
    )


def _number(text: str) -> int:
    return int(text.replace(",", ""))


# --------------------------------------------------------------------------- expectations


def expected_rows(
    values: Mapping[str, Mapping[dt.date, float]],
    *,
    start: dt.date,
    through: dt.date,
    goal: float | None = None,
    provisional: Collection[dt.date] = (),
    joined: Mapping[str, dt.date] | None = None,
    previous: Mapping[str, int] | None = None,
    with_day: bool = True,
) -> tuple[Row, ...]:
    """The rows of a steps-total post covering `start..through`: each player's total over
    the days they count (from the day they joined), competition ranks (ties share a rank and
    the next rank is skipped), ties listed by name, the change against the ranks of the
    previous post (`previous`; None: no change column) and the current run of goal days, in
    which a `provisional` day below the goal is skipped rather than ending the run (late syncs
    may still complete it). Every player must have data ("no data yet" is not modelled)."""
    joined = joined or {}
    totals: dict[str, int] = {}
    streaks: dict[str, int] = {}
    counted: dict[str, dict[dt.date, float]] = {}
    for name, days in values.items():
        mine = counted[name] = {
            day: value for day, value in days.items() if joined.get(name, start) <= day <= through
        }
        assert mine, f"{name} has no data through {through}"
        totals[name] = round(sum(mine.values()))
        streaks[name] = _current_streak(mine, goal, provisional, joined.get(name, start), through)
    ranks = {
        name: 1 + sum(other > total for other in totals.values()) for name, total in totals.items()
    }
    rows = []
    for name in sorted(totals, key=lambda n: (ranks[n], n.casefold())):
        day_value = counted[name].get(through) if with_day else None
        rows.append(
            Row(
                rank=ranks[name],
                name=name,
                total=totals[name],
                day_value=None if day_value is None else round(day_value),
                goal_met=with_day and goal is not None and (day_value or 0) >= goal,
                change=None if previous is None else _change(previous.get(name), ranks[name]),
                streak=streaks[name] if streaks[name] >= 2 else 0,
            )
        )
    return tuple(rows)


def _current_streak(
    values: Mapping[dt.date, float],
    goal: float | None,
    provisional: Collection[dt.date],
    first: dt.date,
    through: dt.date,
) -> int:
    if goal is None:
        return 0
    streak, day = 0, through
    while day >= first:
        if values.get(day, -1.0) >= goal:
            streak += 1
        elif day not in provisional:
            break
        day -= dt.timedelta(days=1)
    return streak


def _change(before: int | None, now: int) -> str:
    if before is None:
        return "new"
    if before > now:
        return f"▲{before - now}"
    if before < now:
        return f"▼{now - before}"
    return EN_DASH


def ranks_of(rows: tuple[Row, ...]) -> dict[str, int]:
    return {row.name: row.rank for row in rows}
