"""When a nudge may go out: at most one per member per interval, and never at night."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    """At most one nudge per member every `min_interval`, and only from `earliest_hour`
    o'clock until `latest_hour` o'clock (exclusive) in the challenge's time zone."""

    min_interval: dt.timedelta = dt.timedelta(hours=3)
    earliest_hour: int = 8
    latest_hour: int = 21

    def __post_init__(self) -> None:
        if not 0 <= self.earliest_hour < self.latest_hour <= 24:
            raise ValueError("waking hours must satisfy 0 <= earliest < latest <= 24")
        if self.min_interval <= dt.timedelta(0):
            raise ValueError("the interval between nudges must be positive")

    @classmethod
    def from_settings(cls, settings: Settings) -> NudgePolicy:
        return cls(
            min_interval=dt.timedelta(hours=settings.nudge_min_hours),
            earliest_hour=settings.nudge_earliest_hour,
            latest_hour=settings.nudge_latest_hour,
        )

    def awake(self, now: dt.datetime, zone: ZoneInfo) -> bool:
        """Whether `now` is within the waking hours of `zone`."""
        return self.earliest_hour <= now.astimezone(zone).hour < self.latest_hour

    @property
    def window(self) -> str:
        """'08:00 to 21:00', for the members' replies."""
        return f"{self.earliest_hour:02d}:00 to {self.latest_hour:02d}:00"

    @property
    def interval_hours(self) -> int:
        return int(self.min_interval.total_seconds() // 3600)
