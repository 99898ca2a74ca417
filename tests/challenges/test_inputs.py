"""Parsing what admins type: dates, times of day, time zone names."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.challenges.inputs import match_time_zones, parse_day, parse_time_of_day
from bot.errors import UserError
from tests.challenges.fakes import D


def test_dates_and_times_parse_or_explain_the_format() -> None:
    assert parse_day("2024-05-06") == D(2024, 5, 6)
    assert parse_time_of_day("7:30") == dt.time(7, 30)
    with pytest.raises(UserError, match="write it as YYYY-MM-DD"):
        parse_day("2024-02-30")
    with pytest.raises(UserError, match="write it as HH:MM"):
        parse_time_of_day("25:00")


def test_time_zone_matches_are_limited_to_25_prefix_first() -> None:
    assert len(match_time_zones("")) <= 25
    america = match_time_zones("america")
    assert len(america) == 25 and all(n.startswith("America/") for n in america)
    assert match_time_zones("auckl") == ["Pacific/Auckland"]
    assert match_time_zones("new york")[0] == "America/New_York"
    assert match_time_zones("zzzz") == []
