"""What admins type: parsing, and the pydantic models that validate a challenge."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from collections.abc import Mapping
from typing import Any, Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.challenges.amounts import Amount
from bot.challenges.presets import Preset
from bot.challenges.rulebook import rule_problems_of, rules_kwargs
from bot.domain import Metric, ScoringMode, TeamMode, Units
from bot.errors import UserError
from bot.render.text import format_amount
from bot.scoring import TieBreak

MAX_DAYS = 366
MAX_NAME_LENGTH = 50
MAX_TEAM_NAME_LENGTH = 32
MAX_PLAYERS_LIMIT = 500
MAX_GRACE_HOURS = 72
AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices

METRIC_LIMITS: dict[Metric, tuple[float, float]] = {
    Metric.STEPS: (100, 100_000),
    Metric.ACTIVE_MINUTES: (1, 1_440),
    Metric.DISTANCE: (0.1, 300),
    Metric.FLOORS: (1, 500),
    Metric.ACTIVE_CALORIES: (10, 10_000),
    Metric.SLEEP_MINUTES: (30, 1_440),
}
"""The sane range of a daily goal or cap per metric (inclusive)."""


# --------------------------------------------------------------------------- parsing

_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


def parse_day(text: str) -> dt.date:
    """A civil date written YYYY-MM-DD."""
    match = _DATE.match(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise UserError(f"“{text}” is not a date: write it as YYYY-MM-DD, e.g. 2025-03-17.")


def parse_time_of_day(text: str) -> dt.time:
    """A time of day written HH:MM (24-hour clock)."""
    match = _TIME.match(text)
    if match:
        hour, minute = (int(part) for part in match.groups())
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    raise UserError(f"“{text}” is not a time: write it as HH:MM on a 24-hour clock, e.g. 09:00.")


def parse_points_table(text: str) -> tuple[float, ...]:
    """`"5, 3, 1"` -> (5.0, 3.0, 1.0): points for 1st, 2nd, 3rd… each day."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        points = tuple(float(part) for part in parts)
    except ValueError:
        points = ()
    if not points or len(points) > 25 or not all(math.isfinite(p) and p >= 0 for p in points):
        raise ValueError(
            "Write the points table as up to 25 points for 1st, 2nd, 3rd… separated by "
            "commas, e.g. 5,3,1."
        )
    return points


def parse_tiers(text: str) -> tuple[tuple[float, float], ...]:
    """`"5000:1, 10000:2"` -> ((5000.0, 1.0), (10000.0, 2.0))."""
    tiers: list[tuple[float, float]] = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        threshold, sep, points = part.replace("=", ":").partition(":")
        try:
            tier = (float(threshold.replace("_", "")), float(points))
        except ValueError:
            tiers = []
            break
        if not sep or not all(math.isfinite(v) and v >= 0 for v in tier):
            tiers = []
            break
        tiers.append(tier)
    if not tiers or len(tiers) > 10:
        raise ValueError(
            "Write tiers as up to 10 threshold:points pairs separated by commas, "
            "e.g. 5000:1,10000:2,15000:3."
        )
    if any(a[0] >= b[0] for a, b in itertools.pairwise(tiers)):
        raise ValueError(
            "Tier thresholds must go up from one tier to the next, e.g. 5000:1,10000:2."
        )
    return tuple(tiers)


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted (read once)."""
    return tuple(sorted(available_timezones() | {"UTC"}))


@functools.cache
def _time_zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in time_zone_names()}


COMMON_TIME_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def canonical_time_zone(text: str) -> str:
    """The IANA name for `text` (case-insensitive), or a UserError saying what to pick."""
    name = _time_zones_by_folded_name().get(text.strip().casefold())
    if name is None:
        raise ValueError(
            f"“{text.strip()}” is not a time zone I know: pick one from the list, "
            "e.g. Europe/London or America/New_York."
        )
    return name


def match_time_zones(text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[str]:
    """Time zones for autocomplete: names starting with `text` first, then containing it."""
    query = text.strip().casefold().replace(" ", "_")
    if not query:
        return list(COMMON_TIME_ZONES[:limit])
    names = time_zone_names()
    starts = [n for n in names if n.casefold().startswith(query)]
    if len(starts) >= limit:
        return starts[:limit]
    contains = [n for n in names if query in n.casefold() and n not in starts]
    return (starts + contains)[:limit]


def today_in(time_zone: str, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def start_problem(start: dt.date, today: dt.date, time_zone: str) -> str | None:
    """Why a new start date cannot be used: in the past, or more than `MAX_DAYS` ahead (dates
    near the year 9999 would overflow the daily run's date arithmetic)."""
    if start < today:
        return (
            f"The start date {start.isoformat()} is in the past in {time_zone} "
            f"(today is {today.isoformat()} there): pick today or a later date."
        )
    if start - today > dt.timedelta(days=MAX_DAYS):
        return (
            f"The start date {start.isoformat()} is more than {MAX_DAYS} days away: "
            "pick an earlier date."
        )
    return None


# --------------------------------------------------------------------------- input models

_LABELS = {
    "name": "name",
    "metric": "metric",
    "mode": "scoring",
    "start": "start date",
    "end": "end date",
    "channel_id": "channel",
    "post_time": "post time",
    "time_zone": "time zone",
    "daily_goal": "daily goal",
    "daily_cap": "daily cap",
    "grace_hours": "grace hours",
    "team_mode": "team mode",
    "points_table": "points table",
    "tiers": "tiers",
    "max_players": "max players",
    "tie_break": "tie-break",
}


def user_error_from(error: ValidationError) -> UserError:
    """One line for the first problem pydantic found, in words the admin can act on."""
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, (ValueError, AssertionError)) and str(cause):
        return UserError(str(cause))
    field = str(first["loc"][0]) if first["loc"] else ""
    label = _LABELS.get(field, field.replace("_", " "))
    return UserError(f"The {label} is not valid ({first['msg'].lower()}): please change it.")


def _sentence(problem: str) -> str:
    text = problem.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def validated_name(value: str, *, what: str = "name", limit: int = MAX_NAME_LENGTH) -> str:
    """A name as typed with its whitespace collapsed; a ValueError naming `what` when it is
    empty or longer than `limit`."""
    name = " ".join(value.split())
    if not name:
        raise ValueError(f"The {what} cannot be empty: type a few letters.")
    if len(name) > limit:
        raise ValueError(f"The {what} is {len(name)} characters long: keep it to {limit}.")
    return name


class ChallengeSpec(BaseModel):
    """A complete, valid challenge configuration (new or edited).

    Validate with `context={"now": <aware datetime>, "new": True}` to also refuse a start date
    in the past or more than `MAX_DAYS` ahead (judged in the challenge's time zone)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    metric: Metric
    mode: ScoringMode
    start: dt.date
    end: dt.date
    channel_id: int
    post_time: dt.time
    time_zone: str
    daily_goal: float | None = None
    daily_cap: float | None = None
    allow_manual: bool = False
    grace_hours: int = 24
    team_mode: TeamMode = TeamMode.SUM
    points_table: tuple[float, ...] | None = None
    tiers: tuple[tuple[float, float], ...] | None = None
    max_players: int | None = None
    late_join_backfill: bool = False
    preset: Preset | None = None
    tie_break: TieBreak = TieBreak.NONE

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return validated_name(value)

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        return canonical_time_zone(value)

    @field_validator("post_time")
    @classmethod
    def _post_time(cls, value: dt.time) -> dt.time:
        return value.replace(second=0, microsecond=0, tzinfo=None)

    @field_validator("points_table", mode="before")
    @classmethod
    def _points_table(cls, value: object) -> object:
        return parse_points_table(value) if isinstance(value, str) else value

    @field_validator("tiers", mode="before")
    @classmethod
    def _tiers(cls, value: object) -> object:
        return parse_tiers(value) if isinstance(value, str) else value

    @field_validator("grace_hours")
    @classmethod
    def _grace_hours(cls, value: int) -> int:
        if not 0 <= value <= MAX_GRACE_HOURS:
            raise ValueError(f"Grace hours must be between 0 and {MAX_GRACE_HOURS}.")
        return value

    @field_validator("max_players")
    @classmethod
    def _max_players(cls, value: int | None) -> int | None:
        if value is not None and not 2 <= value <= MAX_PLAYERS_LIMIT:
            raise ValueError(f"Max players must be between 2 and {MAX_PLAYERS_LIMIT}.")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        context = info.context or {}
        units = Units(context.get("units", Units.METRIC))
        problem = (
            self._date_problem(context.get("now"), bool(context.get("new")))
            or self._amount_problem("daily_goal", self.daily_goal, units)
            or self._amount_problem("daily_cap", self.daily_cap, units)
            or self._mode_problem()
        )
        if problem is None:
            problems = rule_problems_of(self.rule_values())
            problem = _sentence(problems[0]) if problems else None
        if problem is not None:
            raise ValueError(problem)
        return self

    def _date_problem(self, now: dt.datetime | None, new: bool) -> str | None:
        if self.end < self.start:
            return (
                f"The end date {self.end.isoformat()} is before the start date "
                f"{self.start.isoformat()}: pick an end date on or after the start."
            )
        if self.end - self.start >= dt.timedelta(days=MAX_DAYS):
            return f"A challenge can last at most {MAX_DAYS} days: pick an earlier end date."
        if new and now is not None:
            return start_problem(self.start, today_in(self.time_zone, now), self.time_zone)
        return None

    def _amount_problem(self, field: str, value: float | None, units: Units) -> str | None:
        if value is None:
            return None
        low, high = METRIC_LIMITS[self.metric]
        if not (math.isfinite(value) and low <= value <= high):
            return (
                f"The {_LABELS[field]} for {self.metric.label.lower()} must be between "
                f"{format_amount(low, self.metric, units)} and "
                f"{format_amount(high, self.metric, units)}."
            )
        return None

    def _mode_problem(self) -> str | None:
        if self.mode is ScoringMode.IMPROVEMENT and self.metric is Metric.SLEEP_MINUTES:
            return (
                "Improvement scoring rewards doing more than usual, which does not suit sleep: "
                "pick another scoring mode or metric."
            )
        if (
            self.mode is ScoringMode.TIERS
            and self.tiers is None
            and self.metric is not Metric.STEPS
        ):
            return (
                f"The default tiers are step counts: give tiers for {self.metric.label.lower()}, "
                "e.g. 30:1,60:2,90:3."
            )
        if self.points_table is not None and self.mode is not ScoringMode.DAILY_RANK:
            return "A points table is only used with daily-rank scoring: remove it or switch mode."
        if self.tiers is not None and self.mode is not ScoringMode.TIERS:
            return "Tiers are only used with tier scoring: remove them or switch mode."
        if (
            self.tie_break is TieBreak.GOAL_DAYS
            and self.mode is ScoringMode.GOAL_DAYS
            and self.preset is not Preset.STREAK
        ):
            return (
                "Goal-days scoring already ranks by goal days, so they cannot break its ties: "
                "pick another tie-break."
            )
        if self.preset is not None and self.preset.mode is not self.mode:
            return (
                f"The {self.preset.label} preset uses {self.preset.mode.value.replace('_', ' ')} "
                "scoring: leave the scoring out, or pick no preset."
            )
        return None

    def rule_values(self) -> dict[str, Any]:
        return rules_kwargs(
            self.metric,
            self.mode,
            self.start,
            self.end,
            self.daily_goal,
            self.daily_cap,
            self.allow_manual,
            self.points_table,
            self.tiers,
            self.team_mode,
            self.tie_break,
        )


class ChallengeDraft(BaseModel):
    """What an admin typed into `/challenge create`; `None` means "use the default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    channel_id: int
    preset: Preset | None = None
    metric: Metric | None = None
    mode: ScoringMode | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    post_time: dt.time | None = None
    time_zone: str | None = None
    daily_goal: Amount | None = None  # as typed: `parse_amount` reads it with the metric
    daily_cap: Amount | None = None
    allow_manual: bool = False
    grace_hours: int = 24
    team_mode: TeamMode = TeamMode.SUM
    points_table: str | None = None
    tiers: str | None = None
    max_players: int | None = None
    late_join_backfill: bool = False
    tie_break: TieBreak = TieBreak.NONE


class ChallengeEdit(BaseModel):
    """What an admin typed into `/challenge edit`; `None` leaves a setting as it is, and 0
    removes an optional limit (daily goal, daily cap, max players)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    channel_id: int | None = None
    metric: Metric | None = None
    mode: ScoringMode | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    post_time: dt.time | None = None
    time_zone: str | None = None
    daily_goal: Amount | None = None  # as typed; 0 removes it
    daily_cap: Amount | None = None
    allow_manual: bool | None = None
    grace_hours: int | None = None
    team_mode: TeamMode | None = None
    points_table: str | None = None
    tiers: str | None = None
    max_players: int | None = None
    late_join_backfill: bool | None = None
    tie_break: TieBreak | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class GuildSettingsInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str
    post_time: dt.time
    leaderboard_channel_id: int | None
    admin_role_id: int | None
    units: Units = Units.METRIC

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        return canonical_time_zone(value)


def validated_spec(
    data: Mapping[str, Any], *, now: dt.datetime, new: bool, units: Units = Units.METRIC
) -> ChallengeSpec:
    """`data` as a valid spec; a UserError (amounts in the server's `units`) otherwise."""
    try:
        return ChallengeSpec.model_validate(
            dict(data), context={"now": now, "new": new, "units": units}
        )
    except ValidationError as exc:
        raise user_error_from(exc) from None
