"""Corrections by admins (`score_adjustments`): every adjustment of a player's day, kept with
who made it, when, why, and the value before and after; the rewrite of a final day's frozen
scores after one (`refreeze_day`); and which post says so (`claim_mentions`).

The latest adjustment of a (player, day) is the value that counts (`bot.daily.standings`).
Each adjustment is mentioned by exactly one post: the first one sent after it (or a weekly
recap in "weekly only" mode) claims it with its key when its intent is recorded, so a post
sent again after a stop says the same, and the next post does not repeat it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database, Row
from bot.storage.values import ScoreRow


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One admin's correction of one player's day."""

    id: int
    challenge_id: int
    discord_id: int
    day: dt.date
    old_value: float | None  # what counted before (None: no data)
    new_value: float
    reason: str
    was_final: bool  # the day was final when it was adjusted
    adjusted_by: int | None  # None once the admin deleted their data
    adjusted_at: dt.datetime
    mentioned_in: str | None = None  # the key of the post that says so; None: none yet


@dataclass(frozen=True, slots=True)
class NewAdjustment:
    challenge_id: int
    discord_id: int
    day: dt.date
    old_value: float | None
    new_value: float
    reason: str
    was_final: bool
    adjusted_by: int


def _adjustment(row: Row) -> Adjustment:
    return Adjustment(
        id=int(row["id"]),
        challenge_id=int(row["challenge_id"]),
        discord_id=int(row["discord_id"]),
        day=dt.date.fromisoformat(row["day"]),
        old_value=None if row["old_value"] is None else float(row["old_value"]),
        new_value=float(row["new_value"]),
        reason=row["reason"],
        was_final=bool(row["was_final"]),
        adjusted_by=None if row["adjusted_by"] is None else int(row["adjusted_by"]),
        adjusted_at=from_db_time(row["adjusted_at"]),
        mentioned_in=row["mentioned_in"],
    )


class AdjustmentsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, new: NewAdjustment, now: dt.datetime) -> Adjustment:
        new_id = await self._db.fetch_value(
            "INSERT INTO score_adjustments (challenge_id, discord_id, day, old_value, "
            "new_value, reason, was_final, adjusted_by, adjusted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                new.challenge_id,
                new.discord_id,
                new.day.isoformat(),
                new.old_value,
                new.new_value,
                new.reason,
                int(new.was_final),
                new.adjusted_by,
                to_db_time(now),
            ),
        )
        return Adjustment(
            id=int(new_id),
            challenge_id=new.challenge_id,
            discord_id=new.discord_id,
            day=new.day,
            old_value=new.old_value,
            new_value=new.new_value,
            reason=new.reason,
            was_final=new.was_final,
            adjusted_by=new.adjusted_by,
            adjusted_at=now,
        )

    async def of_challenge(self, challenge_id: int) -> list[Adjustment]:
        """Every adjustment of the challenge, oldest first (the last per day counts)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM score_adjustments WHERE challenge_id = ? ORDER BY adjusted_at, id",
            (challenge_id,),
        )
        return [_adjustment(row) for row in rows]

    async def refreeze_day(self, challenge_id: int, rows: Sequence[ScoreRow]) -> None:
        """Rewrite the frozen score rows of a final day from a rescoring (rows that are not
        final are the daily run's to write)."""
        await self._db.execute_many(
            "UPDATE daily_scores SET value = ?, points = ?, goal_met = ? "
            "WHERE challenge_id = ? AND discord_id = ? AND day = ? AND final = 1",
            [
                (
                    row.value,
                    row.points,
                    int(row.goal_met),
                    challenge_id,
                    row.discord_id,
                    row.day.isoformat(),
                )
                for row in rows
            ],
        )

    async def claim_mentions(self, challenge_id: int, ids: Iterable[int], post_key: str) -> None:
        """Make the post `post_key` the one that mentions those of the adjustments `ids` that
        no post mentions yet (one already claimed keeps its post)."""
        wanted = list(ids)
        if not wanted:
            return
        id_set, param = self._db.int_set(wanted)
        await self._db.execute(
            "UPDATE score_adjustments SET mentioned_in = ? "  # noqa: S608 (the seam's value set)
            "WHERE challenge_id = ? AND mentioned_in IS NULL AND id IN " + id_set,
            (post_key, challenge_id, param),
        )

    async def mentioned_in(self, challenge_id: int, post_key: str) -> list[Adjustment]:
        """The adjustments the post `post_key` mentions, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM score_adjustments WHERE challenge_id = ? AND mentioned_in = ? "
            "ORDER BY adjusted_at, id",
            (challenge_id, post_key),
        )
        return [_adjustment(row) for row in rows]

    async def release_mentions(self, challenge_id: int, post_key: str) -> None:
        """Give back the adjustments of a post that did not go out (the channel refused it):
        the next post mentions them."""
        await self._db.execute(
            "UPDATE score_adjustments SET mentioned_in = NULL "
            "WHERE challenge_id = ? AND mentioned_in = ?",
            (challenge_id, post_key),
        )
