"""When nudges may go out: the interval and the waking hours, from the settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.nudges import NudgePolicy
from bot.settings import Settings

LONDON = ZoneInfo("Europe/London")


def test_defaults_are_three_hours_and_eight_to_nine(
    make_settings: Callable[..., Settings],
) -> None:
    policy = NudgePolicy.from_settings(make_settings())
    assert policy == NudgePolicy(dt.timedelta(hours=3), 8, 21)
    assert policy.window == "08:00 to 21:00"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_MIN_HOURS", "5")
    monkeypatch.setenv("NUDGE_EARLIEST_HOUR", "9")
    monkeypatch.setenv("NUDGE_LATEST_HOUR", "20")
    policy = NudgePolicy.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert policy == NudgePolicy(dt.timedelta(hours=5), 9, 20)


def test_waking_hours_must_be_in_order(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="NUDGE_EARLIEST_HOUR must be before"):
        make_settings(nudge_earliest_hour=21, nudge_latest_hour=8)
    with pytest.raises(ValueError, match="waking hours"):
        NudgePolicy(earliest_hour=9, latest_hour=9)


def test_awake_follows_the_zone_and_daylight_saving() -> None:
    policy = NudgePolicy()
    # 07:30 UTC in July is 08:30 in London (BST); in January it is 07:30 there.
    assert policy.awake(dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.UTC), LONDON)
    assert not policy.awake(dt.datetime(2026, 1, 5, 7, 30, tzinfo=dt.UTC), LONDON)
    # 21:00 is already night; 20:59 is not.
    assert not policy.awake(dt.datetime(2026, 1, 5, 21, 0, tzinfo=dt.UTC), LONDON)
    assert policy.awake(dt.datetime(2026, 1, 5, 20, 59, tzinfo=dt.UTC), LONDON)
