"""When posts are due and days become final, on both sides of UTC and across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.daily.calendar import ChallengeCalendar

UTC = dt.UTC


def calendar(
    tz: str, start: dt.date, days: int = 7, post: dt.time = dt.time(9), grace_hours: int = 24
) -> ChallengeCalendar:
    return ChallengeCalendar(
        start=start,
        end=start + dt.timedelta(days=days - 1),
        tz=ZoneInfo(tz),
        post_time=post,
        grace=dt.timedelta(hours=grace_hours),
    )


@pytest.mark.parametrize(
    ("tz", "day", "post_utc"),
    [
        # Los Angeles: PST (-8) until 2 am on Sun 8 Mar 2026, then PDT (-7).
        ("America/Los_Angeles", dt.date(2026, 3, 6), dt.datetime(2026, 3, 7, 17, tzinfo=UTC)),
        ("America/Los_Angeles", dt.date(2026, 3, 7), dt.datetime(2026, 3, 8, 16, tzinfo=UTC)),
        # Auckland: NZDT (+13) until 3 am on Sun 5 Apr 2026, then NZST (+12).
        ("Pacific/Auckland", dt.date(2026, 4, 3), dt.datetime(2026, 4, 3, 20, tzinfo=UTC)),
        ("Pacific/Auckland", dt.date(2026, 4, 4), dt.datetime(2026, 4, 4, 21, tzinfo=UTC)),
    ],
)
def test_the_post_about_a_day_is_due_next_morning_local_time(
    tz: str, day: dt.date, post_utc: dt.datetime
) -> None:
    assert calendar(tz, day).post_at(day) == post_utc


def test_a_post_time_in_the_spring_forward_gap_still_comes_once_that_morning() -> None:
    cal = calendar("America/Los_Angeles", dt.date(2026, 3, 7), post=dt.time(2, 30))
    # 02:30 does not exist on 8 Mar; the post comes at 03:30 PDT, 10:30 UTC.
    assert cal.post_at(dt.date(2026, 3, 7)) == dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_grace_is_counted_in_real_hours_across_a_dst_change() -> None:
    cal = calendar("America/Los_Angeles", dt.date(2026, 3, 7))
    # Sat 7 Mar ends at 08:00 UTC (midnight PST); 24 real hours later is 08:00 UTC on the 9th,
    # which is 01:00 PDT, not midnight.
    assert cal.final_at(dt.date(2026, 3, 7)) == dt.datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert not cal.is_final(dt.date(2026, 3, 7), dt.datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert cal.is_final(dt.date(2026, 3, 7), dt.datetime(2026, 3, 9, 8, tzinfo=UTC))


def test_due_days_are_clamped_to_the_challenge() -> None:
    start = dt.date(2026, 6, 1)
    cal = calendar("UTC", start, days=3)
    assert cal.due_days(dt.datetime(2026, 6, 2, 8, 59, tzinfo=UTC)) == []
    assert cal.due_days(dt.datetime(2026, 6, 2, 9, tzinfo=UTC)) == [start]
    assert cal.due_days(dt.datetime(2026, 6, 30, tzinfo=UTC)) == [
        start,
        start + dt.timedelta(days=1),
        start + dt.timedelta(days=2),
    ]
    assert not cal.results_due(dt.datetime(2026, 6, 4, 9, tzinfo=UTC))  # last day provisional
    # The last day is final at 00:00 on the 5th; the results come at the post time after it.
    assert not cal.results_due(dt.datetime(2026, 6, 5, 8, 59, tzinfo=UTC))
    assert cal.results_due(dt.datetime(2026, 6, 5, 9, tzinfo=UTC))


@given(
    tz=st.sampled_from(
        ["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"]
    ),
    start=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    minutes=st.integers(0, 24 * 60 - 1),
    offset=st.integers(0, 40 * 24 * 60),
)
def test_last_due_day_is_the_latest_day_whose_post_time_has_passed(
    tz: str, start: dt.date, minutes: int, offset: int
) -> None:
    cal = calendar(tz, start, post=dt.time(minutes // 60, minutes % 60))
    now = dt.datetime.combine(start, dt.time(0), tzinfo=UTC) + dt.timedelta(minutes=offset)
    day = cal.last_due_day(now)
    assert cal.post_at(day) <= now < cal.post_at(day + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("grace_hours", "post", "results_utc"),
    [
        (24, dt.time(9), dt.datetime(2026, 6, 5, 9, tzinfo=UTC)),  # final 5 Jun 00:00
        (0, dt.time(9), dt.datetime(2026, 6, 4, 9, tzinfo=UTC)),  # final 4 Jun 00:00
        (0, dt.time(0), dt.datetime(2026, 6, 4, 0, tzinfo=UTC)),  # at that very instant
        (33, dt.time(9), dt.datetime(2026, 6, 5, 9, tzinfo=UTC)),  # final 5 Jun 09:00
        (34, dt.time(9), dt.datetime(2026, 6, 6, 9, tzinfo=UTC)),  # final 5 Jun 10:00
    ],
)
def test_results_come_at_the_first_post_time_at_or_after_the_last_day_is_final(
    grace_hours: int, post: dt.time, results_utc: dt.datetime
) -> None:
    cal = calendar("UTC", dt.date(2026, 6, 1), days=3, post=post, grace_hours=grace_hours)
    assert cal.results_at() == results_utc
    assert not cal.results_due(results_utc - dt.timedelta(microseconds=1))
    assert cal.results_due(results_utc)


def test_the_next_grace_end_is_counted_in_real_hours_across_a_dst_change() -> None:
    cal = calendar("America/Los_Angeles", dt.date(2026, 3, 7), days=3)
    before = dt.datetime(2026, 3, 9, 7, 59, tzinfo=UTC)
    assert cal.last_final_day(before) is None
    assert cal.next_final_at(before) == dt.datetime(2026, 3, 9, 8, tzinfo=UTC)  # 01:00 PDT
    at = dt.datetime(2026, 3, 9, 8, tzinfo=UTC)
    assert cal.last_final_day(at) == dt.date(2026, 3, 7)
    assert cal.next_final_at(at) == dt.datetime(2026, 3, 10, 7, tzinfo=UTC)  # 8 Mar + 24 h
    last_final = cal.final_at(dt.date(2026, 3, 9))
    assert cal.next_final_at(last_final) is None  # the last day is final: nothing after


@given(
    tz=st.sampled_from(
        ["UTC", "Pacific/Auckland", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham"]
    ),
    start=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    grace_hours=st.integers(0, 72),
    offset=st.integers(0, 12 * 24 * 60),
)
def test_the_last_final_day_and_the_next_grace_end_agree_with_final_at(
    tz: str, start: dt.date, grace_hours: int, offset: int
) -> None:
    cal = calendar(tz, start, days=7, grace_hours=grace_hours)
    now = dt.datetime.combine(start, dt.time(0), tzinfo=UTC) + dt.timedelta(minutes=offset)
    last = cal.last_final_day(now)
    following = start if last is None else last + dt.timedelta(days=1)
    if last is not None:
        assert cal.is_final(last, now)
    assert following > cal.end or not cal.is_final(following, now)
    upcoming = cal.next_final_at(now)
    assert upcoming == (None if following > cal.end else cal.final_at(following))
    assert upcoming is None or upcoming > now
