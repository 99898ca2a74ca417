"""The SQLite engine: one aiosqlite connection per process.

The connection is in autocommit mode so that transactions are explicit. Tasks take turns
through a lock: SQLite has one writer anyway, and a shared connection must not interleave two
tasks' statements inside one transaction. A task already inside `transaction()` joins it
instead of deadlocking (tracked with a context variable of this database). The schema version is
`PRAGMA user_version`. The database file (and so its `-wal` and `-shm`, which SQLite creates
with the file's permissions) is readable by its owner only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from bot.storage.engine.base import ROWS, Columns, Database, Params, Row, _in_transaction
from bot.storage.engine.dialect import check_portable
from bot.storage.engine.errors import DatabaseUnavailable, MigrationError, UniqueViolation
from bot.storage.engine.migrations import Migration, split_statements

log = logging.getLogger(__name__)

MEMORY = ":memory:"
FILE_MODE = 0o600


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """Translate the engine's exceptions that callers handle into storage's own."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if str(exc).startswith("UNIQUE constraint failed"):
            raise UniqueViolation(str(exc)) from exc
        raise


def _create_private(path: Path) -> None:
    """Create the database file (and its folders) readable by its owner only (it holds
    health data and names), unless it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise DatabaseUnavailable(f"{path} is a directory, not an SQLite database")
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))


def _make_private(path: Path) -> None:
    """Take group and world access away from an existing database of ours (one made before
    Stride created them private); SQLite gives `-wal` and `-shm` the file's permissions."""
    info = path.stat()
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.chmod(path, FILE_MODE)
        log.info("made the database %s readable by its owner only", path)


class SqliteDatabase(Database):
    engine: ClassVar[str] = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        self.target = str(path)
        self._lock = asyncio.Lock()
        # True in the task (and the tasks it starts) inside this database's transaction.
        self._joined: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"stride_sqlite_transaction_{id(self)}", default=False
        )

    @classmethod
    async def connect(cls, path: Path) -> SqliteDatabase:
        """Open (creating it if needed) the database file; `DatabaseUnavailable` names it
        when it is not an SQLite database or cannot be written."""
        try:
            if str(path) != MEMORY:
                _create_private(path)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot open the database {path}: {exc.strerror}") from exc
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open the database {path}: {exc}") from exc
        try:
            await cls._configure(conn, in_memory=str(path) == MEMORY)
        except sqlite3.Error as exc:
            # Close it, or its thread keeps the process alive.
            await conn.close()
            raise DatabaseUnavailable(f"{path} is not a usable SQLite database: {exc}") from exc
        if str(path) != MEMORY:
            _make_private(path)
        return cls(conn, path)

    @staticmethod
    async def _configure(conn: aiosqlite.Connection, *, in_memory: bool) -> None:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        if not in_memory:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")

    async def close(self) -> None:
        await self._conn.close()

    # -- transactions ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self, *, exclusive: bool = True) -> AsyncIterator[Database]:
        """BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception (always exclusive)."""
        if self._joined.get():
            yield self
            return
        async with self._lock:
            token = _in_transaction.set(True)
            joined = self._joined.set(True)
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                try:
                    await self._conn.execute("COMMIT")
                except sqlite3.Error:
                    # A COMMIT that fails (a deferred constraint, a full disk) leaves the
                    # transaction open, and every later BEGIN on this connection would fail.
                    await self._conn.execute("ROLLBACK")
                    raise
            finally:
                self._joined.reset(joined)
                _in_transaction.reset(token)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._joined.get():
            yield
            return
        async with self._lock:
            yield

    # -- statements --------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._turn():
            with _engine_errors():
                cursor = await self._conn.execute(sql, params)
            rowid = cursor.lastrowid or 0
            await cursor.close()
            return rowid

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        async with self._turn():
            with _engine_errors():
                cursor = await self._conn.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._turn():
            with _engine_errors():
                await self._conn.executemany(sql, rows)

    async def _execute_rows(
        self, sql: str, columns: Columns, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        names = ", ".join(f"? AS {name}" for name, _ in columns)
        async with self.transaction():  # all rows or none, as one statement would
            await self.execute_many(sql.replace(ROWS, f"(SELECT {names}) AS r"), rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._turn():
            # One trip to the database thread (execute + fetch + close), not three.
            with _engine_errors():
                return list(await self._conn.execute_fetchall(sql, params))

    async def ping(self) -> bool:
        try:
            return bool(await self.fetch_value("SELECT 1") == 1)
        except (sqlite3.Error, ValueError):
            return False

    # -- what the seam answers for the repositories ------------------------------------

    def int_set(self, values: Iterable[int]) -> tuple[str, object]:
        return "(SELECT value FROM json_each(?))", json.dumps(sorted(set(values)))

    def text_set(self, values: Iterable[str]) -> tuple[str, object]:
        return "(SELECT value FROM json_each(?))", json.dumps(sorted(set(values)))

    async def table_columns(self) -> dict[str, list[tuple[str, bool]]]:
        names = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        tables = {}
        for row in names:
            name = str(row["name"])
            info = await self.fetch_all('SELECT name, "notnull" FROM pragma_table_info(?)', (name,))
            tables[name] = [(str(c["name"]), bool(c["notnull"])) for c in info]
        return tables

    # -- schema ------------------------------------------------------------------------

    async def reset_id_sequences(self, tables: Iterable[str]) -> None:
        """Nothing to do: SQLite takes a new row id from the largest one in the table."""

    async def schema_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version"))

    def _migration_lock(self) -> contextlib.AbstractAsyncContextManager[Database]:
        # BEGIN IMMEDIATE takes the database's write lock: a second process waits here
        # (busy_timeout) and then re-reads the version this transaction set.
        return self.transaction()

    async def _run_migration(self, migration: Migration) -> None:
        statements = split_statements(migration.sql)
        check_portable(migration.version, migration.name, statements)
        try:
            for statement in statements:
                await self._conn.execute(statement)
            # PRAGMA takes no parameters; the version is an int from the file name.
            await self._conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except sqlite3.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
