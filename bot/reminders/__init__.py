"""Opt-in reminders by DM: "3,200 steps to go — you're 2nd, 800 steps behind Ana".

Off for every member until they turn them on (`/remind on 20:00`). At that local time, once a
day, a member whose goal of today is not met yet in a running challenge gets one DM with a
line per such challenge. The modules, one job each:

- `service`: `ReminderService`, the switch and the scheduler job (`run`), which claims the
  day's reminder before it looks at the standings or sends anything.
- `timing`: when a reminder is due, as a pure function of the wall clock (DST-proof).
- `messages`: the DM's lines and the replies' wording.
"""

from bot.reminders.service import JOB_ID, JOB_SECONDS, ReminderService, ReminderStatus

__all__ = ["JOB_ID", "JOB_SECONDS", "ReminderService", "ReminderStatus"]
