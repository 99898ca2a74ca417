"""When a member's reminder is due: on the wall clock of their time zone, so a daylight-saving
change never moves it, skips it or repeats it.

A reminder at `at` is due on a local day from the moment the wall clock shows `at` until
`LATE_BY` after it (a reminder after a restart still goes out, one hours late does not). On a
spring-forward day a time that does not exist (02:30 in Berlin) is due at the first wall time
after it (03:00); on a fall-back day the time that happens twice is due once, the first time
(the day's check is recorded, `bot.storage.reminders`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LATE_BY = dt.timedelta(hours=2)


def due_day(
    at: dt.time, zone: ZoneInfo, now: dt.datetime, last_run_on: dt.date | None
) -> dt.date | None:
    """The local day whose reminder is due at `now`, or None (not yet, too late, or that day
    was checked already)."""
    local = now.astimezone(zone)
    wall = local.replace(tzinfo=None)
    target = dt.datetime.combine(local.date(), at)
    if not target <= wall < target + LATE_BY:
        return None
    if last_run_on is not None and last_run_on >= local.date():
        return None
    return local.date()
