"""The connection and its transactions: pragmas, rollbacks, and storage's own errors."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from bot.storage import Database, UniqueViolation
from bot.storage.accounts import UsersRepo

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


async def test_pragmas_foreign_keys_and_wal(db: Database) -> None:
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    assert await db.fetch_value("PRAGMA journal_mode") == "wal"


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    users = UsersRepo(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await users.ensure(1, NOW)
            raise RuntimeError("boom")
    assert await users.time_zone(1) is None


async def test_a_failed_commit_rolls_back_and_the_connection_stays_usable(db: Database) -> None:
    """COMMIT itself can fail (a deferred foreign key, a full disk): the shared connection
    must not be left inside the open transaction, or every later BEGIN would fail."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():
            await db.execute("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT
            await db.execute(
                "INSERT INTO participants VALUES (999, 5, NULL, '2026-11-01', '2026-11-01')"
            )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0
    async with db.transaction():
        await UsersRepo(db).ensure(1, NOW)
    assert await UsersRepo(db).time_zone(1) == "UTC"


async def test_a_unique_index_violation_is_storages_own_error_and_writes_nothing(
    db: Database,
) -> None:
    await db.execute("CREATE TABLE tags (name TEXT NOT NULL)")
    await db.execute("CREATE UNIQUE INDEX tags_by_name ON tags (name)")
    await db.execute("INSERT INTO tags VALUES ('walk')")
    with pytest.raises(UniqueViolation):
        await db.execute("INSERT INTO tags VALUES ('walk')")
    with pytest.raises(UniqueViolation):
        await db.execute_rowcount("INSERT INTO tags VALUES ('walk')")
    assert await db.fetch_value("SELECT COUNT(*) FROM tags") == 1


async def test_other_integrity_errors_are_not_unique_violations(db: Database) -> None:
    """A missing foreign key is a bug, not a duplicate a repository could explain: it still
    raises as the engine's integrity error."""
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await db.execute(
            "INSERT INTO participants VALUES (999, 5, NULL, '2026-11-01', '2026-11-01')"
        )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0
