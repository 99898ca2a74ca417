"""Preset dates computed directly (the service's use of presets is in `test_service`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.challenges.presets import Preset, preset_dates
from tests.challenges.fakes import AUCKLAND, D


def test_workweek_created_on_monday_before_the_post_time_is_this_week() -> None:
    monday_early = dt.datetime(2024, 5, 6, 8, 59, tzinfo=ZoneInfo(AUCKLAND))
    monday_late = dt.datetime(2024, 5, 6, 9, 0, tzinfo=ZoneInfo(AUCKLAND))
    assert preset_dates(Preset.WORKWEEK_HUSTLE, monday_early, dt.time(9)) == (
        D(2024, 5, 6),
        D(2024, 5, 10),
    )
    assert preset_dates(Preset.WORKWEEK_HUSTLE, monday_late, dt.time(9))[0] == D(2024, 5, 13)
