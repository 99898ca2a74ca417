"""Reminders' state (`reminders`): each member's reminder time, their own time zone if they
gave one, and the local date of their last reminder check.

A member without a row gets no reminders. The day's check is claimed with one conditional
UPDATE before anything is looked at or sent, so two runs at once, or a run after a restart,
never send two reminders on one day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.storage.accounts import to_db_time
from bot.storage.db import Database, Row


@dataclass(frozen=True, slots=True)
class Reminder:
    """One member's reminder: at `at` (local), in `time_zone` (None: their challenge's)."""

    discord_id: int
    at: dt.time
    time_zone: str | None
    last_run_on: dt.date | None
    user_time_zone: str | None = None  # the member's stored time zone (`users`), if any
    # The time zone of the member's active challenge that starts first, if any.
    challenge_time_zone: str | None = None


_SELECT = (
    "SELECT r.discord_id, r.remind_at, r.time_zone, r.last_run_on, "
    "u.time_zone AS user_time_zone, "
    "(SELECT c.time_zone FROM participants p JOIN challenges c ON c.id = p.challenge_id "
    "WHERE p.discord_id = r.discord_id AND c.status = 'active' "
    "ORDER BY c.start_date, c.id LIMIT 1) AS challenge_time_zone "
    "FROM reminders r LEFT JOIN users u ON u.discord_id = r.discord_id"
)


def _time(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))


class RemindersRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(
        self, discord_id: int, at: dt.time, time_zone: str | None, *, now: dt.datetime
    ) -> None:
        """Turn the member's reminder on at `at` (replacing an older time; the day's
        reminder already sent stays sent)."""
        await self._db.execute(
            "INSERT INTO reminders (discord_id, remind_at, time_zone, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (discord_id) DO UPDATE SET "
            "remind_at = excluded.remind_at, time_zone = excluded.time_zone, "
            "updated_at = excluded.updated_at",
            (discord_id, f"{at.hour:02d}:{at.minute:02d}", time_zone, to_db_time(now)),
        )

    async def remove(self, discord_id: int) -> bool:
        """Turn the member's reminder off; False when it was not on."""
        changed = await self._db.execute_rowcount(
            "DELETE FROM reminders WHERE discord_id = ?", (discord_id,)
        )
        return changed > 0

    async def get(self, discord_id: int) -> Reminder | None:
        row = await self._db.fetch_one(_SELECT + " WHERE r.discord_id = ?", (discord_id,))
        return None if row is None else self._reminder(row)

    async def all(self) -> list[Reminder]:
        """Every reminder that is on, with its member's stored time zone and the time zone of
        their first active challenge (one query)."""
        rows = await self._db.fetch_all(_SELECT + " ORDER BY r.discord_id")
        return [self._reminder(row) for row in rows]

    async def claim(self, discord_id: int, local_day: dt.date) -> bool:
        """Record the member's reminder check of `local_day` unless that day (or a later one)
        was checked already; True when recorded (the reminder may go out)."""
        changed = await self._db.execute_rowcount(
            "UPDATE reminders SET last_run_on = ? WHERE discord_id = ? "
            "AND (last_run_on IS NULL OR last_run_on < ?)",
            (local_day.isoformat(), discord_id, local_day.isoformat()),
        )
        return changed == 1

    @staticmethod
    def _reminder(row: Row) -> Reminder:
        last = row["last_run_on"]
        return Reminder(
            discord_id=int(row["discord_id"]),
            at=_time(row["remind_at"]),
            time_zone=row["time_zone"],
            last_run_on=None if last is None else dt.date.fromisoformat(last),
            user_time_zone=row["user_time_zone"],
            challenge_time_zone=row["challenge_time_zone"],
        )
