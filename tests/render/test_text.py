"""The shared text helpers: dates, amounts, names, and cutting text to Discord's limits."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import Metric, Units
from bot.render.text import (
    fit_lines,
    format_amount,
    format_date,
    printable_name,
    truncate,
)

MONDAY = dt.date(2025, 6, 2)


def test_a_date_reads_the_same_in_posts_cards_and_the_chart() -> None:
    assert format_date(MONDAY) == "Mon 2 Jun"
    assert format_date(MONDAY, year=True) == "Mon 2 Jun 2025"
    assert format_date(MONDAY, weekday=False) == "2 Jun"
    assert format_date(MONDAY, padded=True) == "Mon 02 Jun"
    assert format_date(MONDAY, weekday=False, year=True, padded=True) == "02 Jun 2025"
    assert format_date(dt.date(2024, 12, 29), year=True, padded=True) == "Sun 29 Dec 2024"


def test_padded_dates_are_what_strftime_wrote_in_the_c_locale() -> None:
    for offset in range(0, 400, 7):
        day = MONDAY + dt.timedelta(days=offset)
        assert format_date(day, year=True, padded=True) == day.strftime("%a %d %b %Y")


@pytest.mark.parametrize(
    ("value", "metric", "expected"),
    [
        (12_345, Metric.STEPS, "12,345 steps"),
        (7.45, Metric.DISTANCE, "7.5 km"),
        (44.6, Metric.ACTIVE_MINUTES, "45 min"),
    ],
)
def test_an_amount_carries_its_unit(value: float, metric: Metric, expected: str) -> None:
    assert format_amount(value, metric, Units.METRIC) == expected


def test_an_amount_follows_the_servers_units_for_distances_only() -> None:
    assert format_amount(5.0, Metric.DISTANCE, Units.METRIC) == "5.0 km"
    assert format_amount(5.0, Metric.DISTANCE, Units.IMPERIAL) == "3.1 mi"
    assert format_amount(160.9344, Metric.DISTANCE, Units.IMPERIAL) == "100.0 mi"
    assert format_amount(12_345, Metric.STEPS, Units.IMPERIAL) == "12,345 steps"
    assert format_amount(500, Metric.ACTIVE_CALORIES, Units.IMPERIAL) == "500 kcal"


def test_a_printable_name_is_one_short_line() -> None:
    assert printable_name("  Ann\n\u200b Lee\t ") == "Ann Lee"
    assert printable_name("W" * 40) == "W" * 31 + "…"


def test_truncate_counts_utf16_and_drops_the_space_before_the_ellipsis() -> None:
    assert truncate("abc def", 5) == "abc…"
    assert truncate("🏃🏃🏃", 5) == "🏃🏃…"  # each runner counts 2
    # /publish messages: characters, and the space stays.
    assert truncate("abc def", 5, measure=len, strip=False) == "abc …"
    assert truncate("🏃🏃🏃", 3, measure=len, strip=False) == "🏃🏃🏃"
    assert truncate("🏃🏃🏃", 2, measure=len, strip=False) == "🏃…"
    assert truncate("short", 5) == "short"


def test_fit_lines_keeps_room_for_the_more_line() -> None:
    lines = [f"line {n}" for n in range(10)]
    assert fit_lines(lines, 1000) == "\n".join(lines)
    fitted = fit_lines(lines, 40)
    assert len(fitted) <= 40
    assert fitted.splitlines()[-1] == f"…and {10 - len(fitted.splitlines()) + 1} more"
    assert fit_lines([], 40) == ""


def test_fit_lines_with_a_margin_is_the_challenge_cards_layout() -> None:
    lines = [f"line {n}" for n in range(10)]
    # Lines are kept while they fit in 40 - 20 characters: three lines are exactly 20.
    assert fit_lines(lines, 40, margin=20) == "line 0\nline 1\nline 2\n… and 7 more"
    assert fit_lines(lines, 1000, margin=20) == "\n".join(lines)
    assert fit_lines([], 40, margin=20) == "None."
