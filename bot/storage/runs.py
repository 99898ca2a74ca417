"""Run records (one per challenge, day and kind of post), post intents, and the ranks shown
in each post.

A run record is what makes the daily run idempotent: a day with a record has been scored
and is never scored again as a new day; its status says whether its post went out
(`posted`), is still to go (`scored`) or failed and is retried at the next run (`failed`).

A post intent makes posting idempotent: it is recorded before a post is sent, with the run
records the post covers, its key (what marks the message in the channel) and its nonce, and
cleared in the transaction that marks those records posted. One left behind means the
process stopped in between: the post may or may not have gone out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database, Row
from bot.storage.values import STILL_PLAYING


class RunStatus(StrEnum):
    SCORED = "scored"
    POSTED = "posted"
    FAILED = "failed"


class RunKind(StrEnum):
    DAILY = "daily"  # the day was scored at its own post time
    CATCH_UP = "catch_up"  # scored together with other missed days
    RESULTS = "results"  # the end-of-challenge results post


DAY_KINDS = (RunKind.DAILY.value, RunKind.CATCH_UP.value)


@dataclass(frozen=True, slots=True)
class RunRecord:
    challenge_id: int
    day: dt.date
    kind: RunKind
    status: RunStatus
    message_id: int | None
    error_code: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class RunOverview:
    last_day: dt.date | None  # the last day scored (daily or catch-up)
    post_owed: bool  # a record is still `scored` or `failed`
    has_results: bool


@dataclass(frozen=True, slots=True)
class PostIntent:
    """A post that was about to be sent, and the run records it covers."""

    challenge_id: int
    post_key: str
    nonce: str
    created_at: dt.datetime
    covered: list[RunRecord]


@dataclass(frozen=True, slots=True)
class PostedRank:
    discord_id: int
    rank: int
    score: float


def _record(row: Row) -> RunRecord:
    return RunRecord(
        challenge_id=int(row["challenge_id"]),
        day=dt.date.fromisoformat(row["day"]),
        kind=RunKind(row["kind"]),
        status=RunStatus(row["status"]),
        message_id=None if row["message_id"] is None else int(row["message_id"]),
        error_code=row["error_code"],
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time(row["finished_at"]) if row["finished_at"] else None,
    )


class RunsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def day_records(self, challenge_id: int) -> dict[dt.date, RunRecord]:
        """The record of every day scored so far (daily or catch-up), by day."""
        rows = await self._db.fetch_all(
            "SELECT * FROM scheduled_runs WHERE challenge_id = ? AND kind IN (?, ?) ORDER BY day",
            (challenge_id, *DAY_KINDS),
        )
        return {record.day: record for record in map(_record, rows)}

    async def results_record(self, challenge_id: int) -> RunRecord | None:
        row = await self._db.fetch_one(
            "SELECT * FROM scheduled_runs WHERE challenge_id = ? AND kind = ?",
            (challenge_id, RunKind.RESULTS.value),
        )
        return None if row is None else _record(row)

    async def overview(self) -> dict[int, RunOverview]:
        """Per challenge with any record: the last day scored, whether a post is owed, and
        whether the results are recorded. One query, so a run can skip idle challenges."""
        rows = await self._db.fetch_all(
            "SELECT challenge_id, MAX(CASE WHEN kind != 'results' THEN day END) AS last_day, "
            "SUM(CASE WHEN status != 'posted' THEN 1 ELSE 0 END) AS unposted, "
            "MAX(CASE WHEN kind = 'results' THEN 1 ELSE 0 END) AS has_results "
            "FROM scheduled_runs GROUP BY challenge_id"
        )
        return {
            int(row["challenge_id"]): RunOverview(
                last_day=dt.date.fromisoformat(row["last_day"]) if row["last_day"] else None,
                post_owed=bool(row["unposted"]),
                has_results=bool(row["has_results"]),
            )
            for row in rows
        }

    async def record_scored(
        self,
        challenge_id: int,
        days: Sequence[dt.date],
        kind: RunKind,
        started_at: dt.datetime,
        finished_at: dt.datetime,
    ) -> None:
        """One `scored` record per day; a day that already has one keeps it."""
        await self._db.execute_many(
            "INSERT INTO scheduled_runs (challenge_id, day, status, kind, started_at, finished_at) "
            "VALUES (?, ?, 'scored', ?, ?, ?) ON CONFLICT (challenge_id, day, kind) DO NOTHING",
            [
                (
                    challenge_id,
                    day.isoformat(),
                    kind.value,
                    to_db_time(started_at),
                    to_db_time(finished_at),
                )
                for day in days
            ],
        )

    async def mark_posted(
        self,
        challenge_id: int,
        records: Iterable[RunRecord],
        message_id: int,
        now: dt.datetime,
    ) -> None:
        await self._db.execute_many(
            "UPDATE scheduled_runs SET status = 'posted', message_id = ?, error_code = NULL, "
            "finished_at = ? WHERE challenge_id = ? AND day = ? AND kind = ?",
            [
                (message_id, to_db_time(now), challenge_id, r.day.isoformat(), r.kind.value)
                for r in records
            ],
        )

    async def mark_skipped(
        self, challenge_id: int, records: Iterable[RunRecord], now: dt.datetime
    ) -> None:
        """Record days as handled without a post of their own (the challenge posts only its
        weekly recap): `posted`, with no message."""
        await self._db.execute_many(
            "UPDATE scheduled_runs SET status = 'posted', message_id = NULL, error_code = NULL, "
            "finished_at = ? WHERE challenge_id = ? AND day = ? AND kind = ?",
            [(to_db_time(now), challenge_id, r.day.isoformat(), r.kind.value) for r in records],
        )

    async def mark_failed(
        self,
        challenge_id: int,
        records: Iterable[RunRecord],
        error_code: str,
        now: dt.datetime,
    ) -> None:
        await self._db.execute_many(
            "UPDATE scheduled_runs SET status = 'failed', error_code = ?, finished_at = ? "
            "WHERE challenge_id = ? AND day = ? AND kind = ?",
            [
                (error_code, to_db_time(now), challenge_id, r.day.isoformat(), r.kind.value)
                for r in records
            ],
        )

    # -- post intents ------------------------------------------------------------------

    async def record_intent(
        self,
        challenge_id: int,
        covered: Iterable[RunRecord],
        post_key: str,
        nonce: str,
        now: dt.datetime,
    ) -> None:
        """Record, before sending, the post that covers `covered` (replacing an older
        intent of the challenge)."""
        async with self._db.transaction():
            await self.clear_intent(challenge_id)
            await self._db.execute(
                "INSERT INTO post_intents (challenge_id, post_key, nonce, created_at) "
                "VALUES (?, ?, ?, ?)",
                (challenge_id, post_key, nonce, to_db_time(now)),
            )
            await self._db.execute_many(
                "INSERT INTO post_intent_runs (challenge_id, day, kind) VALUES (?, ?, ?)",
                [(challenge_id, r.day.isoformat(), r.kind.value) for r in covered],
            )

    async def pending_intent(self, challenge_id: int) -> PostIntent | None:
        """The challenge's post intent left behind by a stop between send and record."""
        row = await self._db.fetch_one(
            "SELECT * FROM post_intents WHERE challenge_id = ?", (challenge_id,)
        )
        if row is None:
            return None
        covered = await self._db.fetch_all(
            "SELECT r.* FROM post_intent_runs AS i JOIN scheduled_runs AS r "
            "USING (challenge_id, day, kind) WHERE i.challenge_id = ? ORDER BY r.day, r.kind",
            (challenge_id,),
        )
        return PostIntent(
            challenge_id=challenge_id,
            post_key=row["post_key"],
            nonce=row["nonce"],
            created_at=from_db_time(row["created_at"]),
            covered=[_record(record) for record in covered],
        )

    async def clear_intent(self, challenge_id: int) -> None:
        """Forget the challenge's post intent (its covered records go with it)."""
        await self._db.execute("DELETE FROM post_intents WHERE challenge_id = ?", (challenge_id,))

    # -- posted ranks ------------------------------------------------------------------

    async def last_posted_ranks(self, challenge_id: int, before: dt.date) -> dict[int, int] | None:
        """The ranks shown in the last post about a day before `before`, or None if none."""
        rows = await self._db.fetch_all(
            "SELECT discord_id, rank FROM posted_ranks WHERE challenge_id = ? AND day = "
            "(SELECT MAX(day) FROM posted_ranks WHERE challenge_id = ? AND day < ?)",
            (challenge_id, challenge_id, before.isoformat()),
        )
        if not rows:
            return None
        return {int(row["discord_id"]): int(row["rank"]) for row in rows}

    async def save_posted_ranks(
        self, challenge_id: int, day: dt.date, ranks: Sequence[PostedRank]
    ) -> None:
        """The ranks a post showed, for the players still in the challenge."""
        latest = {r.discord_id: r for r in ranks}  # one row per player
        await self._db.execute_rows(
            "INSERT INTO posted_ranks (challenge_id, day, discord_id, rank, score) "  # noqa: S608 (constants only)
            "SELECT r.challenge_id, r.day, r.discord_id, r.rank, r.score FROM {rows} "
            + STILL_PLAYING
            + " ON CONFLICT (challenge_id, day, discord_id) DO UPDATE SET "
            "rank = excluded.rank, score = excluded.score",
            (
                ("challenge_id", "INTEGER"),
                ("day", "TEXT"),
                ("discord_id", "INTEGER"),
                ("rank", "INTEGER"),
                ("score", "REAL"),
            ),
            [
                (challenge_id, day.isoformat(), r.discord_id, r.rank, r.score)
                for r in latest.values()
            ],
        )
