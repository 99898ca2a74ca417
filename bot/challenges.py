"""Challenge administration: presets, validated inputs, players, teams, fair-play reviews.

`ChallengeService` is what the cogs and the daily run call. Everything it is asked to write is
validated first (pydantic models, `bot.scoring.rule_problems`) and written in one transaction,
so a bad value gets one `UserError` line and nothing is half-created.

Decisions worth knowing:

* **Dates.** A challenge's days are civil dates in its own time zone; "today" and "in the past"
  are judged there. A new challenge may start today but not earlier.
* **Presets** fix the shape of a challenge; metric, goal, channel, time zone and post time can
  still be chosen. Without an explicit start date a preset starts at the next occurrence in the
  challenge's zone: Daily Showdown and Goal Day today if it is still before the post time, else
  tomorrow; Workweek Hustle the next Monday (this week's only if today is Monday before the
  post time); Weekend Warrior the next Saturday (today if Saturday before the post time);
  Streak like Daily Showdown, for `STREAK_DAYS` days. With an explicit start date, Workweek
  Hustle needs a Monday and Weekend Warrior a Saturday.
* **Streak** challenges are stored in `goal_days` mode with `preset = "streak"`: the daily run
  ranks them by each player's best streak (`ranks_by_streak`) instead of by goal days.
* **Metric and mode.** Improvement scoring compares with the 14 days before the start (fetched
  from the providers, so no stored history is needed), and is refused for sleep minutes, where
  more is not better. Tier scoring's default tiers are step counts, so other metrics must give
  their own tiers. A points table is only for daily-rank scoring, tiers only for tier scoring.
* **Events.** `challenge_changed` is emitted inside the transaction that creates or edits a
  challenge (a failing handler, e.g. the scheduler, undoes the change). `challenge_ended` is
  emitted after `/challenge end` or a delete is committed: the handler posts results over the
  network, which must neither hold the database nor undo the end. After a delete, `get()`
  returns None for that id: unschedule, post nothing.
* **Late joiners** count from the day they join, or from the start when the challenge
  backfills (`late_join_backfill`); `participants.joined_on` is that first day.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import math
import re
import sqlite3
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, Self, cast
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.clock import Clock
from bot.domain import AccountStatus, Metric, ScoringMode, TeamMode
from bot.errors import UserError
from bot.events import EventBus
from bot.fair_play import (
    Flag,
    ReviewStatus,
    format_amount,
    history_window,
    suspicious_values,
)
from bot.scoring import ChallengeRules, rule_problems
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import (
    Challenge,
    ChallengesRepo,
    ChallengeStatus,
    DailyHistoryRepo,
    Participant,
    ParticipantsRepo,
    Phase,
    ReviewsRepo,
)
from bot.storage.db import Database
from bot.storage.guilds import GuildSettings, GuildSettingsRepo, format_post_time

__all__ = [
    "Challenge",
    "ChallengeDraft",
    "ChallengeEdit",
    "ChallengeService",
    "ChallengeSpec",
    "ChallengeStatus",
    "Participant",
    "Phase",
    "Preset",
    "balance_teams",
    "describe_rules",
    "rules",
]

log = logging.getLogger(__name__)

MAX_ACTIVE_CHALLENGES = 10
"""Challenges per guild that are not ended (running, upcoming or awaiting their results)."""
MAX_DAYS = 366
MAX_NAME_LENGTH = 50
MAX_TEAM_NAME_LENGTH = 32
MAX_PLAYERS_LIMIT = 500
MAX_GRACE_HOURS = 72
STREAK_DAYS = 30
TEAM_AVERAGE_DAYS = 28
"""How many days before today make up a player's recent average for `/challenge team auto`."""
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

DEFAULT_GOALS: dict[Metric, float] = {
    Metric.STEPS: 10_000,
    Metric.ACTIVE_MINUTES: 30,
    Metric.DISTANCE: 8,
    Metric.FLOORS: 10,
    Metric.ACTIVE_CALORIES: 500,
    Metric.SLEEP_MINUTES: 420,
}

TEAM_NAMES = ("Red", "Blue", "Green", "Gold", "Purple", "Orange", "Teal", "Pink", "Silver", "Navy")


# --------------------------------------------------------------------------- presets


class Preset(StrEnum):
    DAILY_SHOWDOWN = "daily_showdown"
    WORKWEEK_HUSTLE = "workweek_hustle"
    WEEKEND_WARRIOR = "weekend_warrior"
    GOAL_DAY = "goal_day"
    STREAK = "streak"

    @property
    def label(self) -> str:
        return _PRESET_LABELS[self]

    @property
    def mode(self) -> ScoringMode:
        return _PRESET_MODES[self]

    @property
    def needs_goal(self) -> bool:
        return self.mode is ScoringMode.GOAL_DAYS


_PRESET_LABELS = {
    Preset.DAILY_SHOWDOWN: "Daily Showdown",
    Preset.WORKWEEK_HUSTLE: "Workweek Hustle",
    Preset.WEEKEND_WARRIOR: "Weekend Warrior",
    Preset.GOAL_DAY: "Goal Day",
    Preset.STREAK: "Streak",
}
_PRESET_MODES = {
    Preset.DAILY_SHOWDOWN: ScoringMode.TOTAL,
    Preset.WORKWEEK_HUSTLE: ScoringMode.TOTAL,
    Preset.WEEKEND_WARRIOR: ScoringMode.TOTAL,
    Preset.GOAL_DAY: ScoringMode.GOAL_DAYS,
    Preset.STREAK: ScoringMode.GOAL_DAYS,
}
PRESET_SUMMARIES = {
    Preset.DAILY_SHOWDOWN: "one day, most steps wins",
    Preset.WORKWEEK_HUSTLE: "Monday to Friday, most steps wins",
    Preset.WEEKEND_WARRIOR: "Saturday and Sunday, most steps wins",
    Preset.GOAL_DAY: "one day, everyone who reaches the goal wins",
    Preset.STREAK: f"{STREAK_DAYS} days, longest run of goal days wins",
}


def _next_weekday(day: dt.date, weekday: int, *, include_today: bool) -> dt.date:
    ahead = (weekday - day.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return day + dt.timedelta(days=ahead)


def preset_dates(
    preset: Preset,
    local_now: dt.datetime,
    post_time: dt.time,
    start: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """The (start, end) of a preset, given the time in the challenge's zone (see the module
    docstring). An explicit `start` is used as it is (checked for the right weekday)."""
    today = local_now.date()
    if start is None:
        before_post = local_now.time().replace(tzinfo=None) < post_time
        start = _preset_start(preset, today, include_today=before_post)
    elif preset is Preset.WORKWEEK_HUSTLE and start.weekday() != 0:
        raise UserError(
            f"Workweek Hustle runs Monday to Friday, but {start.isoformat()} is a "
            f"{start:%A}: pick a Monday, or leave the start date out."
        )
    elif preset is Preset.WEEKEND_WARRIOR and start.weekday() != 5:
        raise UserError(
            f"Weekend Warrior runs Saturday and Sunday, but {start.isoformat()} is a "
            f"{start:%A}: pick a Saturday, or leave the start date out."
        )
    length = {
        Preset.WORKWEEK_HUSTLE: 5,
        Preset.WEEKEND_WARRIOR: 2,
        Preset.STREAK: STREAK_DAYS,
    }.get(preset, 1)
    return start, start + dt.timedelta(days=length - 1)


def _preset_start(preset: Preset, today: dt.date, *, include_today: bool) -> dt.date:
    if preset is Preset.WORKWEEK_HUSTLE:
        return _next_weekday(today, 0, include_today=include_today)
    if preset is Preset.WEEKEND_WARRIOR:
        return _next_weekday(today, 5, include_today=include_today)
    return today if include_today else today + dt.timedelta(days=1)


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


def clean_name(value: str, *, what: str = "name", limit: int = MAX_NAME_LENGTH) -> str:
    name = " ".join(value.split())
    if not name:
        raise ValueError(f"The {what} cannot be empty: type a few letters.")
    if len(name) > limit:
        raise ValueError(f"The {what} is {len(name)} characters long: keep it to {limit}.")
    return name


class ChallengeSpec(BaseModel):
    """A complete, valid challenge configuration (new or edited).

    Validate with `context={"now": <aware datetime>, "new": True}` to also refuse a start date
    in the past (judged in the challenge's time zone)."""

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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return clean_name(value)

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
        problem = (
            self._date_problem(context.get("now"), bool(context.get("new")))
            or self._amount_problem("daily_goal", self.daily_goal)
            or self._amount_problem("daily_cap", self.daily_cap)
            or self._mode_problem()
        )
        if problem is None:
            problems = _rule_problems(self.rule_values())
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
            today = today_in(self.time_zone, now)
            if self.start < today:
                return (
                    f"The start date {self.start.isoformat()} is in the past in {self.time_zone} "
                    f"(today is {today.isoformat()} there): pick today or a later date."
                )
        return None

    def _amount_problem(self, field: str, value: float | None) -> str | None:
        if value is None:
            return None
        low, high = METRIC_LIMITS[self.metric]
        if not (math.isfinite(value) and low <= value <= high):
            return (
                f"The {_LABELS[field]} for {self.metric.label.lower()} must be between "
                f"{format_amount(self.metric, low)} and {format_amount(self.metric, high)}."
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
        if self.preset is not None and self.preset.mode is not self.mode:
            return (
                f"The {self.preset.label} preset uses {self.preset.mode.value.replace('_', ' ')} "
                "scoring: leave the scoring out, or pick no preset."
            )
        return None

    def rule_values(self) -> dict[str, Any]:
        return _rule_values(
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
    daily_goal: float | None = None
    daily_cap: float | None = None
    allow_manual: bool = False
    grace_hours: int = 24
    team_mode: TeamMode = TeamMode.SUM
    points_table: str | None = None
    tiers: str | None = None
    max_players: int | None = None
    late_join_backfill: bool = False


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
    daily_goal: float | None = None
    daily_cap: float | None = None
    allow_manual: bool | None = None
    grace_hours: int | None = None
    team_mode: TeamMode | None = None
    points_table: str | None = None
    tiers: str | None = None
    max_players: int | None = None
    late_join_backfill: bool | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class GuildSettingsInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str
    post_time: dt.time
    leaderboard_channel_id: int | None
    admin_role_id: int | None

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        return canonical_time_zone(value)


def validated_spec(data: Mapping[str, Any], *, now: dt.datetime, new: bool) -> ChallengeSpec:
    try:
        return ChallengeSpec.model_validate(dict(data), context={"now": now, "new": new})
    except ValidationError as exc:
        raise user_error_from(exc) from None


# --------------------------------------------------------------------------- rules in words


def _rule_values(
    metric: Metric,
    mode: ScoringMode,
    start: dt.date,
    end: dt.date,
    daily_goal: float | None,
    daily_cap: float | None,
    allow_manual: bool,
    points_table: tuple[float, ...] | None,
    tiers: tuple[tuple[float, float], ...] | None,
    team_mode: TeamMode,
) -> dict[str, Any]:
    """Keyword arguments for `ChallengeRules`; the engine's defaults stand in for None tables."""
    values: dict[str, Any] = {
        "metric": metric,
        "mode": mode,
        "start": start,
        "end": end,
        "daily_goal": daily_goal,
        "daily_cap": daily_cap,
        "allow_manual": allow_manual,
        "team_mode": team_mode,
    }
    if points_table is not None:
        values["points_table"] = points_table
    if tiers is not None:
        values["tiers"] = tiers
    return values


def _rule_problems(values: Mapping[str, Any]) -> list[str]:
    """`rule_problems` for values that may not make a valid `ChallengeRules` yet (its
    constructor raises on the first invalid combination; the checks only read attributes)."""
    view = SimpleNamespace(
        **{field.name: values.get(field.name, field.default) for field in fields(ChallengeRules)}
    )
    return rule_problems(cast(ChallengeRules, view))


def rules(challenge: Challenge) -> ChallengeRules:
    """The scoring engine's view of a stored challenge (its dates, metric, mode and limits)."""
    return ChallengeRules(
        **_rule_values(
            challenge.metric,
            challenge.mode,
            challenge.start,
            challenge.end,
            challenge.daily_goal,
            challenge.daily_cap,
            challenge.allow_manual,
            challenge.points_table,
            challenge.tiers,
            challenge.team_mode,
        )
    )


def ranks_by_streak(challenge: Challenge) -> bool:
    """True for Streak challenges: rank players by their best streak, not their goal days."""
    return challenge.preset == Preset.STREAK.value


def _points_list(points: Sequence[float]) -> str:
    return ", ".join(f"{p:g}" for p in points)


def describe_rules(challenge: Challenge, *, has_teams: bool = False) -> list[str]:
    """The challenge's rules in plain words, one sentence per line."""
    metric = challenge.metric
    unit = metric.label.lower()
    goal = format_amount(metric, challenge.daily_goal) if challenge.daily_goal else None
    effective = rules(challenge)
    lines: list[str]
    match challenge.mode:
        case ScoringMode.TOTAL:
            lines = [f"Most {unit} in total wins."]
        case ScoringMode.AVERAGE:
            lines = [f"Highest average {unit} per day wins; a day without data counts as 0."]
        case ScoringMode.GOAL_DAYS if ranks_by_streak(challenge):
            lines = [f"The longest run of days in a row with at least {goal} wins."]
        case ScoringMode.GOAL_DAYS if challenge.days == 1:
            lines = [f"Everyone who reaches {goal} wins."]
        case ScoringMode.GOAL_DAYS:
            lines = [f"One point for every day with at least {goal}; most points wins."]
        case ScoringMode.DAILY_RANK:
            lines = [
                f"Every day the top players by {unit} score "
                f"{_points_list(effective.points_table)} points; most points wins."
            ]
        case ScoringMode.TIERS:
            tiers = ", ".join(
                f"{format_amount(metric, threshold)} = {points:g}"
                for threshold, points in effective.tiers
            )
            lines = [f"Every day scores points by tier ({tiers}); most points wins."]
        case ScoringMode.IMPROVEMENT:
            lines = [
                f"The biggest improvement in {unit} over your own usual day (the median of "
                "the 14 days before the start), in percent, wins."
            ]
    if goal and challenge.mode is not ScoringMode.GOAL_DAYS:
        lines.append(f"Daily goal: {goal}.")
    if challenge.daily_cap is not None:
        lines.append(f"A day counts up to {format_amount(metric, challenge.daily_cap)} at most.")
    lines.append(
        "Manually entered activity counts."
        if challenge.allow_manual
        else "Manually entered activity does not count."
    )
    lines.append(
        "Players who join late count from the start."
        if challenge.late_join_backfill
        else "Players who join late count from the day they join."
    )
    if has_teams:
        how = "total" if challenge.team_mode is TeamMode.SUM else "average"
        lines.append(f"Teams score the {how} of their members' scores.")
    lines.append(f"Late syncs count for {challenge.grace_hours} hours after a day ends.")
    return lines


def describe_dates(challenge: Challenge) -> str:
    if challenge.start == challenge.end:
        return f"{challenge.start:%a %d %b %Y} ({challenge.time_zone})"
    return (
        f"{challenge.start:%a %d %b %Y} to {challenge.end:%a %d %b %Y}, "
        f"{challenge.days} days ({challenge.time_zone})"
    )


# --------------------------------------------------------------------------- team balancing


def balance_teams(strengths: Mapping[int, float | None], names: Sequence[str]) -> dict[int, str]:
    """Split players into teams of equal size (±1) with totals as even as possible.

    Greedy by rounds: players are taken strongest first, `len(names)` at a time, and in each
    round the strongest goes to the team with the lowest total so far, the next to the next
    lowest, and so on (ties: fewer members, then the order of `names`). A player without a
    recent average (None) counts as the median of the others: someone whose data is unknown is
    assumed typical rather than idle."""
    if not names:
        raise ValueError("at least one team name is needed")
    known = [s for s in strengths.values() if s is not None]
    fill = float(statistics.median(known)) if known else 0.0
    strength = {p: (fill if s is None else s) for p, s in strengths.items()}
    order = sorted(strength, key=lambda p: (-strength[p], p))
    totals = [0.0] * len(names)
    sizes = [0] * len(names)
    assignment: dict[int, str] = {}
    for round_start in range(0, len(order), len(names)):
        round_players = order[round_start : round_start + len(names)]
        teams = sorted(range(len(names)), key=lambda i: (totals[i], sizes[i], i))
        for player, team in zip(round_players, teams, strict=False):
            assignment[player] = names[team]
            totals[team] += strength[player]
            sizes[team] += 1
    return assignment


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ChallengeListing:
    running: list[Challenge]
    upcoming: list[Challenge]
    past: list[Challenge]  # most recent first
    players: dict[int, int]  # challenge id -> players (0 when missing)


@dataclass(frozen=True, slots=True)
class Ended:
    challenge: Challenge
    announced: bool  # False when a challenge_ended handler (the results post) failed


@dataclass(frozen=True, slots=True)
class Joined:
    challenge: Challenge
    participant: Participant
    late: bool  # joined after the start


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """The outcome of `auto_teams`: each team's members and their recent daily averages."""

    teams: dict[str, list[tuple[int, float | None]]]


def _duplicate_name(name: str) -> UserError:
    return UserError(f"This server already has a challenge called “{name}”: pick another name.")


# --------------------------------------------------------------------------- the service


class ChallengeService:
    """Challenges, players, teams and fair-play reviews of every guild.

    For the daily run: `active_challenges`, `get`, `participants`, `rules` (module function),
    `ranks_by_streak`, `review_new_values`, `excluded_days`, `finish`."""

    def __init__(
        self, db: Database, clock: Clock, events: EventBus, accounts: AccountsRepo
    ) -> None:
        self._db = db
        self._clock = clock
        self._events = events
        self._accounts = accounts
        self._users = UsersRepo(db)
        self._guilds = GuildSettingsRepo(db)
        self._challenges = ChallengesRepo(db)
        self._participants = ParticipantsRepo(db)
        self._history = DailyHistoryRepo(db)
        self._reviews = ReviewsRepo(db)

    # -- guild settings ----------------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's defaults (UTC, 09:00, no channel, no admin role when never set)."""
        return await self._guilds.get(guild_id)

    async def update_guild_settings(
        self,
        guild_id: int,
        *,
        time_zone: str | None = None,
        post_time: dt.time | None = None,
        leaderboard_channel_id: int | None = None,
        admin_role_id: int | None = None,
        clear_admin_role: bool = False,
    ) -> GuildSettings:
        """Change the given defaults (None keeps a value) and return the result."""
        current = await self._guilds.get(guild_id)
        try:
            data = GuildSettingsInput(
                time_zone=current.time_zone if time_zone is None else time_zone,
                post_time=current.post_time if post_time is None else post_time,
                leaderboard_channel_id=leaderboard_channel_id or current.leaderboard_channel_id,
                admin_role_id=None
                if clear_admin_role
                else (admin_role_id or current.admin_role_id),
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        updated = GuildSettings(guild_id=guild_id, **data.model_dump())
        await self._guilds.save(updated, self._clock.now())
        return updated

    # -- reading -----------------------------------------------------------------------

    async def get(self, challenge_id: int) -> Challenge | None:
        """The challenge with this id, or None (never created, or deleted)."""
        return await self._challenges.get(challenge_id)

    async def find(self, guild_id: int, name: str) -> Challenge:
        """The guild's challenge called `name` (any case), or a UserError."""
        challenge = await self._challenges.get_by_name(guild_id, name)
        if challenge is None:
            raise UserError(
                f"There is no challenge called “{name.strip()}” in this server: "
                "pick one from the list."
            )
        return challenge

    async def active_challenges(self, on: dt.date | None = None) -> list[Challenge]:
        """Challenges of every guild that are not ended (status `active`).

        Without `on`: all of them, upcoming ones and ones past their end date whose results
        are not closed yet (`finish`) included; what the scheduler needs. With `on`: only
        those whose dates include that civil day."""
        challenges = await self._challenges.with_status(ChallengeStatus.ACTIVE)
        if on is None:
            return challenges
        return [c for c in challenges if c.start <= on <= c.end]

    def rules(self, challenge: Challenge) -> ChallengeRules:
        """The scoring engine's rules for a stored challenge (same as the module's `rules`)."""
        return rules(challenge)

    async def participants(self, challenge_id: int) -> list[Participant]:
        """The players with their team, first counting day (`joined_on`) and stored display
        name, in the order they joined."""
        return await self._participants.for_challenge(challenge_id)

    async def listing(self, guild_id: int) -> ChallengeListing:
        """The guild's challenges split into running, upcoming and past (each in its zone)."""
        now = self._clock.now()
        by_phase: dict[Phase, list[Challenge]] = {phase: [] for phase in Phase}
        for challenge in await self._challenges.for_guild(guild_id):
            by_phase[challenge.phase(challenge.today(now))].append(challenge)
        past = sorted(by_phase[Phase.PAST], key=lambda c: (c.end, c.id), reverse=True)
        players = await self._participants.counts_for_guild(guild_id)
        return ChallengeListing(by_phase[Phase.RUNNING], by_phase[Phase.UPCOMING], past, players)

    async def challenge_names(
        self, guild_id: int, text: str, *, active_only: bool = False
    ) -> list[str]:
        """Up to 25 names containing `text` for autocomplete (one indexed query)."""
        return await self._challenges.names(
            guild_id, text.strip()[:100], active_only=active_only, limit=AUTOCOMPLETE_LIMIT
        )

    async def team_names(self, challenge_id: int) -> list[str]:
        teams = {p.team for p in await self._participants.for_challenge(challenge_id) if p.team}
        return sorted(teams, key=str.casefold)

    # -- creating and editing ----------------------------------------------------------

    def spec_from_draft(
        self, draft: ChallengeDraft, guild: GuildSettings, now: dt.datetime
    ) -> ChallengeSpec:
        """Fill in the guild's defaults and the preset, then validate (no I/O)."""
        try:
            time_zone = canonical_time_zone(draft.time_zone or guild.time_zone)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        post_time = draft.post_time or guild.post_time
        metric = draft.metric or Metric.STEPS
        start, end = draft.start, draft.end
        mode = draft.mode
        goal = draft.daily_goal
        if draft.preset is not None:
            preset = draft.preset
            if end is not None and preset is not Preset.STREAK:
                raise UserError(
                    f"The {preset.label} preset sets its own end date: leave the end date out."
                )
            local_now = now.astimezone(ZoneInfo(time_zone))
            start, preset_end = preset_dates(preset, local_now, post_time, start)
            end = end or preset_end
            mode = mode or preset.mode
            if preset.needs_goal and goal is None:
                goal = DEFAULT_GOALS[metric]
        if mode is None:
            raise UserError("Pick a scoring mode, or a preset that sets one.")
        if start is None or end is None:
            raise UserError("Give a start date and an end date, or pick a preset that sets them.")
        data = {
            "name": draft.name,
            "metric": metric,
            "mode": mode,
            "start": start,
            "end": end,
            "channel_id": draft.channel_id,
            "post_time": post_time,
            "time_zone": time_zone,
            "daily_goal": goal,
            "daily_cap": draft.daily_cap,
            "allow_manual": draft.allow_manual,
            "grace_hours": draft.grace_hours,
            "team_mode": draft.team_mode,
            "points_table": draft.points_table,
            "tiers": draft.tiers,
            "max_players": draft.max_players,
            "late_join_backfill": draft.late_join_backfill,
            "preset": draft.preset,
        }
        return validated_spec(data, now=now, new=True)

    async def create(self, guild_id: int, created_by: int, draft: ChallengeDraft) -> Challenge:
        """Validate and store a new challenge, then emit `challenge_changed` in the same
        transaction. Raises UserError (nothing stored) on any problem."""
        now = self._clock.now()
        spec = self.spec_from_draft(draft, await self._guilds.get(guild_id), now)
        async with self._db.transaction():
            if await self._challenges.get_by_name(guild_id, spec.name) is not None:
                raise _duplicate_name(spec.name)
            if await self._challenges.count_active(guild_id) >= MAX_ACTIVE_CHALLENGES:
                raise UserError(
                    f"This server already has {MAX_ACTIVE_CHALLENGES} challenges that have not "
                    "ended, the most allowed: end or delete one first."
                )
            challenge = _challenge_from_spec(spec, guild_id, created_by, now)
            try:
                challenge_id = await self._challenges.insert(challenge)
            except sqlite3.IntegrityError:
                raise _duplicate_name(spec.name) from None
            challenge = replace(challenge, id=challenge_id)
            await self._events.emit("challenge_changed", challenge_id=challenge_id)
        log.info("challenge %d created in guild %d", challenge.id, guild_id)
        return challenge

    async def edit(self, guild_id: int, name: str, changes: ChallengeEdit) -> Challenge:
        """Apply `changes` to the guild's challenge `name`, validate the result as a whole and
        emit `challenge_changed` in the same transaction."""
        if changes.is_empty():
            raise UserError("Nothing to change: give at least one new setting.")
        now = self._clock.now()
        async with self._db.transaction():
            current = await self.find(guild_id, name)
            spec = self._edited_spec(current, changes, now)
            renamed = spec.name.casefold() != current.name.casefold()
            if renamed and await self._challenges.get_by_name(guild_id, spec.name) is not None:
                raise _duplicate_name(spec.name)
            players = await self._participants.count(current.id)
            if spec.max_players is not None and spec.max_players < players:
                raise UserError(
                    f"“{current.name}” already has {players} players: set max players to at "
                    f"least {players}, or 0 for no limit."
                )
            updated = replace(
                _challenge_from_spec(spec, guild_id, current.created_by, current.created_at),
                id=current.id,
            )
            try:
                await self._challenges.update(updated)
            except sqlite3.IntegrityError:
                raise _duplicate_name(spec.name) from None
            await self._events.emit("challenge_changed", challenge_id=current.id)
        return updated

    def _edited_spec(
        self, current: Challenge, changes: ChallengeEdit, now: dt.datetime
    ) -> ChallengeSpec:
        if current.status is ChallengeStatus.ENDED:
            raise UserError(f"“{current.name}” has ended: it can no longer be edited.")
        given = changes.model_dump(exclude_none=True)
        for field in ("daily_goal", "daily_cap", "max_players"):
            if given.get(field) == 0:
                given[field] = None  # 0 removes the limit
        data = {**_spec_data(current), **given}
        if "mode" in given and given["mode"] != current.mode:
            data["preset"] = None  # the preset's shape no longer applies
        today = current.today(now)
        if today >= current.start:
            locked = [
                label
                for field, label in (
                    ("start", "start date"),
                    ("metric", "metric"),
                    ("mode", "scoring"),
                )
                if field in given and given[field] != getattr(current, field)
            ]
            if locked:
                raise UserError(
                    f"“{current.name}” has already started, so its {' and '.join(locked)} can no "
                    "longer change."
                )
        spec = validated_spec(data, now=now, new="start" in given)
        new_today = today_in(spec.time_zone, now)
        if "end" in given and spec.end < new_today:
            raise UserError(
                f"The end date {spec.end.isoformat()} is in the past: to stop the challenge "
                "now, use /challenge end."
            )
        return spec

    # -- ending and deleting -----------------------------------------------------------

    async def end(self, guild_id: int, name: str) -> Ended:
        """End a running challenge early: status `ended`, end date today in its zone (unless it
        already ended earlier). `challenge_ended` is emitted after the commit."""
        now = self._clock.now()
        async with self._db.transaction():
            current = await self.find(guild_id, name)
            today = current.today(now)
            if current.status is ChallengeStatus.ENDED:
                raise UserError(f"“{current.name}” has already ended.")
            if today < current.start:
                raise UserError(
                    f"“{current.name}” has not started yet: use /challenge delete to cancel it."
                )
            ended = replace(
                current,
                status=ChallengeStatus.ENDED,
                end=min(current.end, today),
                ended_at=now,
            )
            await self._challenges.update(ended)
        return Ended(ended, await self._emit_ended(ended.id))

    async def finish(self, challenge_id: int) -> None:
        """Close a challenge whose last day is scored and whose results are posted (status
        `ended`, dates unchanged, no event); for the daily run."""
        challenge = await self._challenges.get(challenge_id)
        if challenge is not None and challenge.status is ChallengeStatus.ACTIVE:
            await self._challenges.update(
                replace(challenge, status=ChallengeStatus.ENDED, ended_at=self._clock.now())
            )

    async def delete(self, guild_id: int, challenge_id: int) -> Challenge:
        """Delete a challenge with its players, scores and reviews; then emit
        `challenge_ended` (after which `get()` returns None for it)."""
        async with self._db.transaction():
            challenge = await self._challenges.get(challenge_id)
            if challenge is None or challenge.guild_id != guild_id:
                raise UserError("That challenge no longer exists.")
            await self._challenges.delete(challenge_id)
        await self._emit_ended(challenge_id)
        log.info("challenge %d deleted in guild %d", challenge_id, guild_id)
        return challenge

    async def _emit_ended(self, challenge_id: int) -> bool:
        try:
            await self._events.emit("challenge_ended", challenge_id=challenge_id)
        except Exception:
            log.exception("a challenge_ended handler failed for challenge %d", challenge_id)
            return False
        return True

    # -- players -----------------------------------------------------------------------

    async def joinable(self, guild_id: int) -> list[Challenge]:
        """The guild's challenges a player can still join (not ended, last day not past)."""
        now = self._clock.now()
        return [
            c
            for c in await self._challenges.for_guild(guild_id)
            if c.phase(c.today(now)) is not Phase.PAST
        ]

    async def pick_for_player(self, guild_id: int, name: str | None) -> Challenge:
        """The challenge named `name`, or the guild's only joinable one when `name` is None."""
        if name:
            return await self.find(guild_id, name)
        open_ones = await self.joinable(guild_id)
        if len(open_ones) == 1:
            return open_ones[0]
        if not open_ones:
            raise UserError("There is no challenge to join in this server right now.")
        names = ", ".join(f"“{c.name}”" for c in open_ones[:5])
        raise UserError(f"Several challenges are open ({names}): pick one with the option.")

    async def join(
        self, guild_id: int, name: str | None, discord_id: int, display_name: str | None
    ) -> Joined:
        """Add a player. They need a linked account; a late joiner counts from today (or from
        the start when the challenge backfills); the max players limit is enforced."""
        now = self._clock.now()
        accounts = [
            a
            for a in await self._accounts.for_user(discord_id)
            if a.status is not AccountStatus.REVOKED
        ]
        if not accounts:
            raise UserError(
                "Link a fitness account first: run /link, connect your tracker, then /join again."
            )
        async with self._db.transaction():
            challenge = await self.pick_for_player(guild_id, name)
            today = challenge.today(now)
            if challenge.phase(today) is Phase.PAST:
                raise UserError(f"“{challenge.name}” is over: it can no longer be joined.")
            if await self._participants.get(challenge.id, discord_id) is not None:
                raise UserError(f"You are already in “{challenge.name}”.")
            count = await self._participants.count(challenge.id)
            if challenge.max_players is not None and count >= challenge.max_players:
                raise UserError(f"“{challenge.name}” is full ({challenge.max_players} players).")
            late = today > challenge.start
            joined_on = today if late and not challenge.late_join_backfill else challenge.start
            await self._users.ensure(discord_id, now, display_name)
            await self._participants.add(challenge.id, discord_id, joined_on, now)
            participant = await self._participants.get(challenge.id, discord_id)
        if participant is None:  # pragma: no cover - inserted just above
            raise RuntimeError("participant vanished right after joining")
        return Joined(challenge, participant, late)

    async def leave(self, guild_id: int, name: str | None, discord_id: int) -> Challenge:
        """Take a player out of a challenge that has not ended (with their scores in it)."""
        async with self._db.transaction():
            challenge = await self._challenge_of_player(guild_id, name, discord_id)
            if challenge.phase(challenge.today(self._clock.now())) is Phase.PAST:
                raise UserError(f"“{challenge.name}” is over: its results stay as they are.")
            if not await self._participants.remove(challenge.id, discord_id):
                raise UserError(f"You are not in “{challenge.name}”.")
        return challenge

    async def _challenge_of_player(
        self, guild_id: int, name: str | None, discord_id: int
    ) -> Challenge:
        if name:
            return await self.find(guild_id, name)
        mine = [
            c
            for c in await self.joinable(guild_id)
            if await self._participants.get(c.id, discord_id) is not None
        ]
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise UserError("You are not in any challenge of this server that is still on.")
        raise UserError("You are in several challenges: pick one with the option.")

    async def kick(self, guild_id: int, name: str, discord_id: int) -> Challenge:
        """Remove a player (an admin's decision); their scores in it go, their data stays."""
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
            if not await self._participants.remove(challenge.id, discord_id):
                raise UserError(f"That member is not in “{challenge.name}”.")
        return challenge

    # -- teams -------------------------------------------------------------------------

    async def assign_team(
        self, guild_id: int, name: str, discord_id: int, team: str
    ) -> tuple[Challenge, str]:
        try:
            team_name = clean_name(team, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
            existing = {t.casefold(): t for t in await self.team_names(challenge.id)}
            team_name = existing.get(team_name.casefold(), team_name)  # keep one spelling
            if not await self._participants.set_team(challenge.id, discord_id, team_name):
                raise UserError(f"That member is not in “{challenge.name}”: they /join first.")
        return challenge, team_name

    async def rename_team(
        self, guild_id: int, name: str, old: str, new: str
    ) -> tuple[Challenge, int]:
        try:
            new_name = clean_name(new, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
            teams = {t.casefold() for t in await self.team_names(challenge.id)}
            if old.strip().casefold() not in teams:
                raise UserError(f"“{challenge.name}” has no team called “{old.strip()}”.")
            if new_name.casefold() in teams and new_name.casefold() != old.strip().casefold():
                raise UserError(
                    f"“{challenge.name}” already has a team called “{new_name}”: pick another name."
                )
            renamed = await self._participants.rename_team(challenge.id, old.strip(), new_name)
        return challenge, renamed

    async def recent_averages(self, challenge: Challenge) -> dict[int, float | None]:
        """Each player's mean daily value of the challenge metric over the `TEAM_AVERAGE_DAYS`
        days before today (days with data only), None without data."""
        today = challenge.today(self._clock.now())
        first = today - dt.timedelta(days=TEAM_AVERAGE_DAYS)
        history = await self._history.participants_daily_max(
            challenge.id,
            challenge.metric,
            first,
            today - dt.timedelta(days=1),
            include_manual=challenge.allow_manual,
        )
        averages: dict[int, float | None] = {}
        for participant in await self._participants.for_challenge(challenge.id):
            days = history.get(participant.discord_id, {})
            averages[participant.discord_id] = (
                math.fsum(days.values()) / len(days) if days else None
            )
        return averages

    async def auto_teams(self, guild_id: int, name: str, team_count: int) -> TeamPlan:
        """Put every player in one of `team_count` balanced teams (see `balance_teams`)."""
        if not 2 <= team_count <= len(TEAM_NAMES):
            raise UserError(f"Pick between 2 and {len(TEAM_NAMES)} teams.")
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
            if challenge.status is ChallengeStatus.ENDED:
                raise UserError(f"“{challenge.name}” has ended: its teams stay as they are.")
            averages = await self.recent_averages(challenge)
            if len(averages) < team_count:
                raise UserError(
                    f"“{challenge.name}” has {len(averages)} players: {team_count} teams need "
                    f"at least {team_count}."
                )
            names = TEAM_NAMES[:team_count]
            assignment = balance_teams(averages, names)
            await self._participants.set_teams(challenge.id, assignment)
        plan: dict[str, list[tuple[int, float | None]]] = {team: [] for team in names}
        for player, team in sorted(assignment.items()):
            plan[team].append((player, averages[player]))
        return TeamPlan(plan)

    # -- fair play ---------------------------------------------------------------------

    async def review_new_values(
        self,
        challenge_id: int,
        values: Sequence[tuple[int, Metric | str, dt.date, float]],
    ) -> list[Flag]:
        """Flag suspicious new values (see `bot.fair_play`) as pending reviews.

        `values` are (discord_id, metric, day, value) as just stored by the daily run; only the
        challenge's metric, days and participants are considered, and several readings of one
        day are judged by the highest. Idempotent: returns only the flags this call created
        (a still-pending flag takes a newer value without being returned again)."""
        challenge = await self._challenges.get(challenge_id)
        if challenge is None:
            return []
        players = {p.discord_id for p in await self._participants.for_challenge(challenge_id)}
        newest: dict[tuple[int, dt.date], float] = {}
        for discord_id, metric, day, value in values:
            if (
                Metric(metric) is challenge.metric
                and discord_id in players
                and challenge.start <= day <= challenge.end
            ):
                key = (discord_id, day)
                newest[key] = max(newest.get(key, value), value)
        if not newest:
            return []
        first = history_window(min(day for _, day in newest))[0]
        last = history_window(max(day for _, day in newest))[1]
        history = await self._history.participants_daily_max(
            challenge_id, challenge.metric, first, last, include_manual=challenge.allow_manual
        )
        flagged = suspicious_values(challenge.metric, newest, history)
        return await self._reviews.add_pending(
            challenge_id,
            [
                (player, challenge.metric, day, newest[(player, day)], found.reason)
                for (player, day), found in flagged.items()
            ],
            self._clock.now(),
        )

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]:
        """(discord_id, day) pairs an admin excluded: leave those values out of the scores."""
        return await self._reviews.excluded(challenge_id)

    async def pending_reviews(self, challenge_id: int) -> list[Flag]:
        return await self._reviews.with_status(challenge_id, ReviewStatus.PENDING)

    async def decide_review(
        self, guild_id: int, review_id: int, *, exclude: bool, reviewed_by: int
    ) -> Flag:
        """Exclude (the value stays stored but does not count) or accept a flagged value."""
        status = ReviewStatus.EXCLUDED if exclude else ReviewStatus.ACCEPTED
        async with self._db.transaction():
            flag = await self._reviews.get(review_id)
            challenge = None if flag is None else await self._challenges.get(flag.challenge_id)
            if flag is None or challenge is None or challenge.guild_id != guild_id:
                raise UserError("That flag no longer exists.")
            await self._reviews.decide(review_id, status, reviewed_by, self._clock.now())
        return replace(flag, status=status, reviewed_by=reviewed_by)


def _spec_data(challenge: Challenge) -> dict[str, Any]:
    return {
        "name": challenge.name,
        "metric": challenge.metric,
        "mode": challenge.mode,
        "start": challenge.start,
        "end": challenge.end,
        "channel_id": challenge.channel_id,
        "post_time": challenge.post_time,
        "time_zone": challenge.time_zone,
        "daily_goal": challenge.daily_goal,
        "daily_cap": challenge.daily_cap,
        "allow_manual": challenge.allow_manual,
        "grace_hours": challenge.grace_hours,
        "team_mode": challenge.team_mode,
        "points_table": challenge.points_table,
        "tiers": challenge.tiers,
        "max_players": challenge.max_players,
        "late_join_backfill": challenge.late_join_backfill,
        "preset": Preset(challenge.preset) if challenge.preset else None,
    }


def _challenge_from_spec(
    spec: ChallengeSpec, guild_id: int, created_by: int, created_at: dt.datetime
) -> Challenge:
    return Challenge(
        id=0,
        guild_id=guild_id,
        channel_id=spec.channel_id,
        name=spec.name,
        metric=spec.metric,
        mode=spec.mode,
        start=spec.start,
        end=spec.end,
        time_zone=spec.time_zone,
        post_time=spec.post_time,
        daily_goal=spec.daily_goal,
        daily_cap=spec.daily_cap,
        allow_manual=spec.allow_manual,
        grace_hours=spec.grace_hours,
        team_mode=spec.team_mode,
        points_table=spec.points_table,
        tiers=spec.tiers,
        max_players=spec.max_players,
        late_join_backfill=spec.late_join_backfill,
        preset=None if spec.preset is None else spec.preset.value,
        status=ChallengeStatus.ACTIVE,
        ended_at=None,
        created_by=created_by,
        created_at=created_at,
    )


def post_time_text(challenge: Challenge) -> str:
    return f"{format_post_time(challenge.post_time)} {challenge.time_zone}"
