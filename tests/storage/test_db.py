"""The connection and its transactions: pragmas, rollbacks, and storage's own errors."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import threading
from pathlib import Path

import asyncpg
import pytest

from bot.storage import Database, DatabaseUnavailable, UniqueViolation
from bot.storage.accounts import UsersRepo
from tests.engines import sqlite_only

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


@sqlite_only
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


@sqlite_only
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
    integrity_error = {
        "sqlite": sqlite3.IntegrityError,
        "postgresql": asyncpg.IntegrityConstraintViolationError,
    }[db.engine]
    with pytest.raises(integrity_error, match=r"(?i)FOREIGN KEY"):
        await db.execute(
            "INSERT INTO participants VALUES (999, 5, NULL, '2026-11-01', '2026-11-01')"
        )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0


async def test_the_database_and_its_wal_and_shm_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    """It holds health data and names (issue 14.14), whatever the umask."""
    old_umask = os.umask(0o022)
    try:
        async with await Database.open(tmp_path / "data" / "stride.db") as db:
            await db.migrate()
            await UsersRepo(db).ensure(1, NOW)
            files = sorted(p.name for p in (tmp_path / "data").iterdir())
            assert files == ["stride.db", "stride.db-shm", "stride.db-wal"]
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "data").iterdir()}
    finally:
        os.umask(old_umask)
    assert modes == dict.fromkeys(files, 0o600)


async def test_an_older_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "stride.db"
    async with await Database.open(path):
        pass
    path.chmod(0o644)
    async with await Database.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"# README\nnot a database at all\n" * 200, b"\0" * 4096])
async def test_a_file_that_is_not_a_database_is_refused_by_name_and_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    """Issue 14.1: the connection is closed again (its thread would keep the process
    alive), the error names the file, and the file is not touched."""
    path = tmp_path / "README.md"
    path.write_bytes(content)
    path.chmod(0o644)
    threads = set(threading.enumerate())
    with pytest.raises(DatabaseUnavailable, match=f"{path} is not a usable SQLite database"):
        await Database.open(path)
    for thread in set(threading.enumerate()) - threads:
        thread.join(timeout=5)  # the connection's thread ends once closed
        assert not thread.is_alive()
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
