"""The challenges domain: a challenge, its players, where it stands, a server's defaults.

Plain data with no storage or Discord in it; `bot.storage` reads and writes these types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import Metric, ScoringMode, TeamMode, Units
from bot.scoring.rules import TieBreak


class ChallengeStatus(StrEnum):
    ACTIVE = "active"  # upcoming, running, or finished but not yet closed
    ENDED = "ended"


class Phase(StrEnum):
    """Where a challenge stands on a given civil day of its time zone."""

    UPCOMING = "upcoming"
    RUNNING = "running"
    PAST = "past"


@dataclass(frozen=True, slots=True)
class Challenge:
    """One stored challenge. Dates are civil dates in `time_zone`; `post_time` is local."""

    id: int
    guild_id: int
    channel_id: int
    name: str
    metric: Metric
    mode: ScoringMode
    start: dt.date
    end: dt.date
    time_zone: str
    post_time: dt.time
    daily_goal: float | None
    daily_cap: float | None
    allow_manual: bool
    grace_hours: int
    team_mode: TeamMode
    points_table: tuple[float, ...] | None  # None: the scoring engine's default
    tiers: tuple[tuple[float, float], ...] | None  # None: the scoring engine's default
    max_players: int | None
    late_join_backfill: bool
    preset: str | None
    status: ChallengeStatus
    ended_at: dt.datetime | None  # when an admin ended it early; None when it ran its course
    created_by: int
    created_at: dt.datetime
    tie_break: TieBreak = TieBreak.NONE  # how players tied on score are told apart

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def today(self, now: dt.datetime) -> dt.date:
        """The civil date in the challenge's time zone at the instant `now`."""
        return now.astimezone(self.zone).date()

    def phase(self, today: dt.date) -> Phase:
        if self.status is ChallengeStatus.ENDED or today > self.end:
            return Phase.PAST
        return Phase.UPCOMING if today < self.start else Phase.RUNNING

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class Participant:
    challenge_id: int
    discord_id: int
    team: str | None
    joined_on: dt.date  # the first civil day that counts for this player
    joined_at: dt.datetime
    display_name: str | None  # as last stored in `users`, if any


DEFAULT_TIME_ZONE = "UTC"
DEFAULT_POST_TIME = dt.time(9, 0)


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A guild's defaults; `GuildSettings(guild_id)` holds the defaults of an unconfigured one."""

    guild_id: int
    time_zone: str = DEFAULT_TIME_ZONE
    leaderboard_channel_id: int | None = None
    post_time: dt.time = DEFAULT_POST_TIME
    admin_role_id: int | None = None
    units: Units = Units.METRIC  # how distances are shown and typed; stored values stay km


def format_post_time(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_post_time(value: str) -> dt.time:
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))
