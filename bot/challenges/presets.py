"""Presets: the classic challenge formats and the dates they start on."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from bot.domain import Metric, ScoringMode
from bot.errors import UserError

STREAK_DAYS = 30

DEFAULT_GOALS: dict[Metric, float] = {
    Metric.STEPS: 10_000,
    Metric.ACTIVE_MINUTES: 30,
    Metric.DISTANCE: 8,
    Metric.FLOORS: 10,
    Metric.ACTIVE_CALORIES: 500,
    Metric.SLEEP_MINUTES: 420,
}


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

    @property
    def days(self) -> int:
        """How many days the preset runs (a Streak's end date may be given instead)."""
        return _PRESET_DAYS.get(self, 1)


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
_PRESET_DAYS = {Preset.WORKWEEK_HUSTLE: 5, Preset.WEEKEND_WARRIOR: 2, Preset.STREAK: STREAK_DAYS}


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
    return start, start + dt.timedelta(days=preset.days - 1)


def _preset_start(preset: Preset, today: dt.date, *, include_today: bool) -> dt.date:
    if preset is Preset.WORKWEEK_HUSTLE:
        return _next_weekday(today, 0, include_today=include_today)
    if preset is Preset.WEEKEND_WARRIOR:
        return _next_weekday(today, 5, include_today=include_today)
    return today if include_today else today + dt.timedelta(days=1)
