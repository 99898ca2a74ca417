"""When a reminder is due, on the wall clock of the member's time zone: at its time, for a
while after it, once a day, and through both daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.reminders.timing import LATE_BY, due_day

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def at_utc(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_due_from_the_chosen_local_time_until_a_while_after_it() -> None:
    eight_pm = dt.time(20)
    # 1 June: Berlin is UTC+2, so 20:00 there is 18:00 UTC.
    assert due_day(eight_pm, BERLIN, at_utc(1, 6, 17, 59), None) is None
    assert due_day(eight_pm, BERLIN, at_utc(1, 6, 18, 0), None) == dt.date(2026, 6, 1)
    assert due_day(eight_pm, BERLIN, at_utc(1, 6, 19, 59), None) == dt.date(2026, 6, 1)
    late = at_utc(1, 6, 18) + LATE_BY
    assert due_day(eight_pm, BERLIN, late, None) is None


def test_not_due_again_once_the_day_was_checked() -> None:
    now = at_utc(1, 6, 18, 30)
    assert due_day(dt.time(20), BERLIN, now, dt.date(2026, 6, 1)) is None
    assert due_day(dt.time(20), BERLIN, now, dt.date(2026, 5, 31)) == dt.date(2026, 6, 1)


def test_a_time_that_a_spring_forward_skips_is_due_at_the_first_time_after_it() -> None:
    # 29 March 2026: Berlin jumps from 02:00 to 03:00 (01:00 UTC); 02:30 never happens.
    half_past_two = dt.time(2, 30)
    assert due_day(half_past_two, BERLIN, at_utc(29, 3, 0, 59), None) is None  # 01:59 CET
    assert due_day(half_past_two, BERLIN, at_utc(29, 3, 1, 0), None) == dt.date(2026, 3, 29)


def test_a_time_that_a_fall_back_repeats_is_due_once() -> None:
    # 25 October 2026: Berlin goes from 03:00 back to 02:00 (01:00 UTC); 02:30 happens twice.
    half_past_two = dt.time(2, 30)
    first = at_utc(25, 10, 0, 30)  # 02:30 CEST
    assert due_day(half_past_two, BERLIN, first, None) == dt.date(2026, 10, 25)
    second = at_utc(25, 10, 1, 30)  # 02:30 CET, an hour later
    assert due_day(half_past_two, BERLIN, second, dt.date(2026, 10, 25)) is None
