"""Storage of the publish cog: the guild switch, day inputs, the outbox and sink health."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.publish.aggregate import Contribution
from bot.storage.claims import ClaimsRepo, default_owner
from bot.storage.db import Database, Row


def to_db_time(instant: dt.datetime) -> str:
    """Fixed-width UTC text, so that string order is time order in SQL comparisons."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def from_db_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class ChallengeFacts:
    """What publishing needs to know about a challenge."""

    id: int
    guild_id: int
    name: str
    metric: str
    daily_goal: float | None
    daily_cap: float | None
    created_by: int


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    idempotency_key: str
    sink: str
    guild_id: int
    challenge_id: int
    day: dt.date
    payload: str


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    idempotency_key: str
    sink: str
    guild_id: int
    challenge_id: int
    day: dt.date
    payload: str
    attempts: int
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SinkState:
    sink: str
    last_success_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    failing_since: dt.datetime | None = None
    consecutive_failures: int = 0
    reported_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """Where to tell a guild's admins about a failing sink."""

    guild_id: int
    leaderboard_channel_id: int | None
    challenge_creator_id: int


def _entry(row: Row) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        sink=row["sink"],
        guild_id=row["guild_id"],
        challenge_id=row["challenge_id"],
        day=dt.date.fromisoformat(row["day"]),
        payload=row["payload"],
        attempts=row["attempts"],
        next_attempt_at=dt.datetime.fromisoformat(row["next_attempt_at"]).astimezone(dt.UTC),
        delivered_at=from_db_time(row["delivered_at"]),
        last_error=row["last_error"],
    )


def _sink_state(row: Row) -> SinkState:
    return SinkState(
        sink=row["sink"],
        last_success_at=from_db_time(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=from_db_time(row["last_error_at"]),
        failing_since=from_db_time(row["failing_since"]),
        consecutive_failures=row["consecutive_failures"],
        reported_at=from_db_time(row["reported_at"]),
    )


_OUTBOX_COLUMNS = (
    "id, idempotency_key, sink, guild_id, challenge_id, day, payload, attempts, "
    "next_attempt_at, delivered_at, last_error"
)


class PublishRepo:
    def __init__(self, db: Database, *, claims: ClaimsRepo | None = None) -> None:
        self._db = db
        # Which process delivers each sink's outbox (`bot.publish.worker`, `outbox:<sink>`).
        self.claims = claims if claims is not None else ClaimsRepo(db, default_owner())

    # -- the guild switch --------------------------------------------------------------

    async def publish_enabled(self, guild_id: int) -> bool:
        value = await self._db.fetch_value(
            "SELECT publish_enabled FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return bool(value)

    async def set_publish_enabled(self, guild_id: int, enabled: bool, now: dt.datetime) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, publish_enabled, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET "
            "publish_enabled = excluded.publish_enabled, updated_at = excluded.updated_at",
            (guild_id, int(enabled), to_db_time(now)),
        )

    # -- what a day's message is made of -----------------------------------------------

    async def challenge(self, challenge_id: int) -> ChallengeFacts | None:
        row = await self._db.fetch_one(
            "SELECT id, guild_id, name, metric, daily_goal, daily_cap, created_by "
            "FROM challenges WHERE id = ?",
            (challenge_id,),
        )
        if row is None:
            return None
        return ChallengeFacts(
            id=row["id"],
            guild_id=row["guild_id"],
            name=row["name"],
            metric=row["metric"],
            daily_goal=row["daily_goal"],
            daily_cap=row["daily_cap"],
            created_by=row["created_by"],
        )

    async def contributions(self, challenge_id: int, day: dt.date) -> list[Contribution]:
        """Final values of the day from players who have not opted out of publishing."""
        rows = await self._db.fetch_all(
            "SELECT s.value, s.goal_met FROM daily_scores AS s "
            "JOIN users AS u ON u.discord_id = s.discord_id "
            "WHERE s.challenge_id = ? AND s.day = ? AND s.final = 1 "
            "AND s.value IS NOT NULL AND u.publish_opt_out = 0",
            (challenge_id, day.isoformat()),
        )
        return [Contribution(float(row["value"]), bool(row["goal_met"])) for row in rows]

    async def latest_final_day(self, guild_id: int) -> tuple[int, dt.date] | None:
        """The guild's most recent final challenge day (what a preview is built from)."""
        row = await self._db.fetch_one(
            "SELECT s.challenge_id, MAX(s.day) AS day FROM daily_scores AS s "
            "JOIN challenges AS c ON c.id = s.challenge_id "
            "WHERE c.guild_id = ? AND s.final = 1 "
            "GROUP BY s.challenge_id ORDER BY day DESC, s.challenge_id DESC LIMIT 1",
            (guild_id,),
        )
        return None if row is None else (row["challenge_id"], dt.date.fromisoformat(row["day"]))

    # -- the outbox --------------------------------------------------------------------

    async def enqueue(self, rows: Sequence[NewOutboxRow], now: dt.datetime) -> int:
        """Insert rows whose idempotency key is new; returns how many were inserted."""
        inserted = 0
        stamp = to_db_time(now)
        for row in rows:
            inserted += await self._db.execute_rowcount(
                "INSERT INTO publish_outbox (idempotency_key, sink, guild_id, challenge_id, day, "
                "payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    row.idempotency_key,
                    row.sink,
                    row.guild_id,
                    row.challenge_id,
                    row.day.isoformat(),
                    row.payload,
                    stamp,
                    stamp,
                ),
            )
        return inserted

    async def due(self, sink: str, now: dt.datetime, limit: int) -> list[OutboxEntry]:
        rows = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM publish_outbox "  # noqa: S608 (constant columns)
            "WHERE sink = ? AND delivered_at IS NULL AND next_attempt_at <= ? "
            "ORDER BY day, id LIMIT ?",
            (sink, to_db_time(now), limit),
        )
        return [_entry(row) for row in rows]

    async def oldest_pending(self, guild_id: int) -> OutboxEntry | None:
        row = await self._db.fetch_one(
            f"SELECT {_OUTBOX_COLUMNS} FROM publish_outbox "  # noqa: S608 (constant columns)
            "WHERE guild_id = ? AND delivered_at IS NULL ORDER BY day, id LIMIT 1",
            (guild_id,),
        )
        return None if row is None else _entry(row)

    async def entries(self, challenge_id: int) -> list[OutboxEntry]:
        rows = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM publish_outbox "  # noqa: S608 (constant columns)
            "WHERE challenge_id = ? ORDER BY day, sink",
            (challenge_id,),
        )
        return [_entry(row) for row in rows]

    async def mark_delivered(self, entry_id: int, now: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE publish_outbox SET delivered_at = ?, attempts = attempts + 1, "
            "last_error = NULL WHERE id = ? AND delivered_at IS NULL",
            (to_db_time(now), entry_id),
        )

    async def mark_failed(self, entry_id: int, error: str, next_attempt_at: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE publish_outbox SET attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL",
            (error, to_db_time(next_attempt_at), entry_id),
        )

    async def postpone_sink(self, sink: str, until: dt.datetime) -> None:
        """Hold back every pending message of a failing sink until `until` (its backoff)."""
        await self._db.execute(
            "UPDATE publish_outbox SET next_attempt_at = CASE WHEN next_attempt_at < ? "
            "THEN ? ELSE next_attempt_at END WHERE sink = ? AND delivered_at IS NULL",
            (to_db_time(until), to_db_time(until), sink),
        )

    async def payload_for_day(self, challenge_id: int, day: dt.date) -> str | None:
        """A payload already written for this challenge day (to any sink), if there is one."""
        value = await self._db.fetch_value(
            "SELECT payload FROM publish_outbox WHERE challenge_id = ? AND day = ? "
            "ORDER BY id LIMIT 1",
            (challenge_id, day.isoformat()),
        )
        return None if value is None else str(value)

    async def backlog(self, guild_id: int) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT sink, COUNT(*) AS n FROM publish_outbox "
            "WHERE guild_id = ? AND delivered_at IS NULL GROUP BY sink",
            (guild_id,),
        )
        return {row["sink"]: int(row["n"]) for row in rows}

    async def discard_pending(self, guild_id: int) -> int:
        return await self._db.execute_rowcount(
            "DELETE FROM publish_outbox WHERE guild_id = ? AND delivered_at IS NULL", (guild_id,)
        )

    # -- sink health -------------------------------------------------------------------

    async def sink_states(self) -> dict[str, SinkState]:
        rows = await self._db.fetch_all(
            "SELECT sink, last_success_at, last_error, last_error_at, failing_since, "
            "consecutive_failures, reported_at FROM publish_sink_state"
        )
        return {row["sink"]: _sink_state(row) for row in rows}

    async def sink_state(self, sink: str) -> SinkState:
        row = await self._db.fetch_one(
            "SELECT sink, last_success_at, last_error, last_error_at, failing_since, "
            "consecutive_failures, reported_at FROM publish_sink_state WHERE sink = ?",
            (sink,),
        )
        return SinkState(sink=sink) if row is None else _sink_state(row)

    async def record_sink_success(self, sink: str, now: dt.datetime) -> None:
        await self._db.execute(
            "INSERT INTO publish_sink_state (sink, last_success_at) VALUES (?, ?) "
            "ON CONFLICT (sink) DO UPDATE SET last_success_at = excluded.last_success_at, "
            "failing_since = NULL, consecutive_failures = 0, reported_at = NULL",
            (sink, to_db_time(now)),
        )

    async def record_sink_failure(self, sink: str, error: str, now: dt.datetime) -> SinkState:
        stamp = to_db_time(now)
        await self._db.execute(
            "INSERT INTO publish_sink_state (sink, last_error, last_error_at, failing_since, "
            "consecutive_failures) VALUES (?, ?, ?, ?, 1) "
            "ON CONFLICT (sink) DO UPDATE SET last_error = excluded.last_error, "
            "last_error_at = excluded.last_error_at, "
            "failing_since = COALESCE(publish_sink_state.failing_since, excluded.failing_since), "
            "consecutive_failures = publish_sink_state.consecutive_failures + 1",
            (sink, error, stamp, stamp),
        )
        return await self.sink_state(sink)

    async def mark_reported(self, sink: str, now: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE publish_sink_state SET reported_at = ? WHERE sink = ?",
            (to_db_time(now), sink),
        )

    async def report_targets(self, sink: str) -> list[ReportTarget]:
        """One target per guild with messages waiting for `sink`."""
        rows = await self._db.fetch_all(
            "SELECT o.guild_id, g.leaderboard_channel_id, c.created_by "
            "FROM publish_outbox AS o "
            "JOIN challenges AS c ON c.id = o.challenge_id "
            "LEFT JOIN guild_settings AS g ON g.guild_id = o.guild_id "
            "WHERE o.id IN (SELECT MIN(id) FROM publish_outbox "
            "WHERE sink = ? AND delivered_at IS NULL GROUP BY guild_id) "
            "ORDER BY o.guild_id",
            (sink,),
        )
        return [
            ReportTarget(
                guild_id=row["guild_id"],
                leaderboard_channel_id=row["leaderboard_channel_id"],
                challenge_creator_id=row["created_by"],
            )
            for row in rows
        ]
