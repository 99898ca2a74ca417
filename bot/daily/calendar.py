"""When a challenge's days are posted and when they become final: pure time arithmetic.

A challenge's days are civil dates in its time zone. The post for day D goes out on D + 1 at
the post time (local, so DST-aware); D stays provisional until `grace` after it ends (real
hours, counted in UTC, so a DST change never stretches or shrinks the grace period), and at
that instant it is final (`final_at`). The results come at the post time too: the first one
at or after the last day becomes final (`results_at`). `calendar_of` reads a challenge's
calendar off the challenge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.challenges.model import Challenge

ONE_DAY = dt.timedelta(days=1)


def days_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """`first..last` inclusive (nothing when `last` is before `first`)."""
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


@dataclass(frozen=True, slots=True)
class ChallengeCalendar:
    start: dt.date
    end: dt.date
    tz: ZoneInfo
    post_time: dt.time
    grace: dt.timedelta

    def local_date(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def post_at(self, day: dt.date) -> dt.datetime:
        """The instant (UTC) the post about `day` is due: the next day at the post time."""
        local = dt.datetime.combine(day + ONE_DAY, self.post_time, tzinfo=self.tz)
        return local.astimezone(dt.UTC)

    def day_ends_at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day + ONE_DAY, dt.time(0), tzinfo=self.tz).astimezone(dt.UTC)

    def final_at(self, day: dt.date) -> dt.datetime:
        """The instant `day` becomes final: its end plus the grace period, in real hours."""
        return self.day_ends_at(day) + self.grace

    def is_final(self, day: dt.date, now: dt.datetime) -> bool:
        return self.final_at(day) <= now

    def last_final_day(self, now: dt.datetime) -> dt.date | None:
        """The latest challenge day that is final at `now`; None before the first one is."""
        # The day holding `now - grace` has not ended by then: the last final day is at most
        # the one before it (looked for, not assumed, around a DST change at midnight).
        day = min(self.end, self.local_date(now - self.grace))
        while day >= self.start and not self.is_final(day, now):
            day -= ONE_DAY
        return day if day >= self.start else None

    def next_final_at(self, now: dt.datetime) -> dt.datetime | None:
        """The next instant after `now` at which a challenge day becomes final; None once the
        last day is final."""
        last = self.last_final_day(now)
        day = self.start if last is None else last + ONE_DAY
        return self.final_at(day) if day <= self.end else None

    def last_due_day(self, now: dt.datetime) -> dt.date:
        """The latest day whose post is due at `now` (not clamped to the challenge)."""
        day = self.local_date(now) - ONE_DAY
        return day if self.post_at(day) <= now else day - ONE_DAY

    def due_days(self, now: dt.datetime) -> list[dt.date]:
        """The challenge days whose post is due at `now`, oldest first."""
        return list(days_between(self.start, min(self.end, self.last_due_day(now))))

    def results_at(self) -> dt.datetime:
        """The instant the results post is due: the first post time at or after the last
        day becomes final (never before the last day's own post)."""
        final = self.final_at(self.end)
        day = self.end
        while self.post_at(day) < final:
            day += ONE_DAY
        return self.post_at(day)

    def results_due(self, now: dt.datetime) -> bool:
        return self.results_at() <= now

    def baseline_over(self, now: dt.datetime) -> bool:
        """The fortnight before the start is over (the challenge has started): a player's
        baseline can be fetched."""
        return self.day_ends_at(self.start - ONE_DAY) <= now


def calendar_of(challenge: Challenge) -> ChallengeCalendar:
    return ChallengeCalendar(
        start=challenge.start,
        end=challenge.end,
        tz=challenge.zone,
        post_time=challenge.post_time,
        grace=dt.timedelta(hours=challenge.grace_hours),
    )
