"""Weekly recaps' state: each challenge's recap settings (`challenge_recaps`) and each recap
posted or on its way (`recap_posts`).

A challenge without a settings row has its recap on Mondays and its daily posts on. A recap
is recorded as an intent (its key and nonce) before it is sent and marked posted with its
message once it went out: an intent left behind means the process stopped in between.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database, Row

MONDAY = 0


class DailyPosts(StrEnum):
    """Whether a challenge's days are posted each day, or only its weekly recap is."""

    DAILY = "daily"
    WEEKLY_ONLY = "weekly_only"


@dataclass(frozen=True, slots=True)
class RecapSettings:
    recap_day: int = MONDAY  # 0 = Monday … 6 = Sunday
    daily_posts: DailyPosts = DailyPosts.DAILY


@dataclass(frozen=True, slots=True)
class RecapPost:
    challenge_id: int
    recap_on: dt.date
    post_key: str
    nonce: str
    posted: bool
    message_id: int | None
    created_at: dt.datetime


def _post(row: Row) -> RecapPost:
    return RecapPost(
        challenge_id=int(row["challenge_id"]),
        recap_on=dt.date.fromisoformat(row["recap_on"]),
        post_key=row["post_key"],
        nonce=row["nonce"],
        posted=row["status"] == "posted",
        message_id=None if row["message_id"] is None else int(row["message_id"]),
        created_at=from_db_time(row["created_at"]),
    )


class RecapsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- settings ----------------------------------------------------------------------

    async def settings(self, challenge_id: int) -> RecapSettings:
        row = await self._db.fetch_one(
            "SELECT recap_day, daily_posts FROM challenge_recaps WHERE challenge_id = ?",
            (challenge_id,),
        )
        if row is None:
            return RecapSettings()
        return RecapSettings(int(row["recap_day"]), DailyPosts(row["daily_posts"]))

    async def save_settings(
        self, challenge_id: int, settings: RecapSettings, *, by: int, now: dt.datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO challenge_recaps (challenge_id, recap_day, daily_posts, updated_by, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (challenge_id) DO UPDATE SET "
            "recap_day = excluded.recap_day, daily_posts = excluded.daily_posts, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (challenge_id, settings.recap_day, settings.daily_posts.value, by, to_db_time(now)),
        )

    # -- recap posts -------------------------------------------------------------------

    async def post(self, challenge_id: int, recap_on: dt.date) -> RecapPost | None:
        row = await self._db.fetch_one(
            "SELECT * FROM recap_posts WHERE challenge_id = ? AND recap_on = ?",
            (challenge_id, recap_on.isoformat()),
        )
        return None if row is None else _post(row)

    async def pending(self, challenge_id: int) -> RecapPost | None:
        """The challenge's recap left in flight by a stop between its send and its record."""
        row = await self._db.fetch_one(
            "SELECT * FROM recap_posts WHERE challenge_id = ? AND status = 'intent' "
            "ORDER BY recap_on DESC",
            (challenge_id,),
        )
        return None if row is None else _post(row)

    async def record_intent(
        self, challenge_id: int, recap_on: dt.date, post_key: str, nonce: str, now: dt.datetime
    ) -> None:
        """Record, before sending, the recap of `recap_on` (an intent already there stays)."""
        await self._db.execute(
            "INSERT INTO recap_posts (challenge_id, recap_on, post_key, nonce, status, "
            "created_at) VALUES (?, ?, ?, ?, 'intent', ?) "
            "ON CONFLICT (challenge_id, recap_on) DO NOTHING",
            (challenge_id, recap_on.isoformat(), post_key, nonce, to_db_time(now)),
        )

    async def mark_posted(
        self, challenge_id: int, recap_on: dt.date, message_id: int, now: dt.datetime
    ) -> None:
        await self._db.execute(
            "UPDATE recap_posts SET status = 'posted', message_id = ?, posted_at = ? "
            "WHERE challenge_id = ? AND recap_on = ?",
            (message_id, to_db_time(now), challenge_id, recap_on.isoformat()),
        )

    async def forget(self, challenge_id: int, recap_on: dt.date) -> None:
        """Drop a recap's intent the channel refused (nothing went out)."""
        await self._db.execute(
            "DELETE FROM recap_posts WHERE challenge_id = ? AND recap_on = ? AND status = 'intent'",
            (challenge_id, recap_on.isoformat()),
        )
