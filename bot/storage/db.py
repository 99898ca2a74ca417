"""The SQLite connection, transactions and the migration runner.

One aiosqlite connection per process, in autocommit mode so that transactions are explicit.
Tasks take turns through a lock: SQLite has one writer anyway, and a shared connection must
not interleave two tasks' statements inside one transaction. A task already inside
`transaction()` joins it instead of deadlocking (tracked with a context variable).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "stride_in_transaction", default=False
)

Params = Sequence[Any] | dict[str, Any]


def in_transaction() -> bool:
    """True inside `Database.transaction()` in the current task (its writes are not yet
    committed). The token manager refuses to refresh there: a rotated refresh token must be
    committed before the new access token is used."""
    return _in_transaction.get()


class MigrationError(RuntimeError):
    """A migration failed or the migrations folder is inconsistent."""


class DatabaseTooNew(RuntimeError):
    """The database was written by a newer Stride than this one."""


class UniqueViolation(Exception):
    """A write would duplicate a value that a unique index keeps unique.

    Storage's own error, so no engine's exception type reaches the services; repositories
    turn it into what it means for them (`bot.storage.challenges.DuplicateChallengeName`)."""


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """Translate the engine's exceptions that callers handle into storage's own."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if str(exc).startswith("UNIQUE constraint failed"):
            raise UniqueViolation(str(exc)) from exc
        raise


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def default_migrations_dir() -> Path:
    """`migrations/` beside the package in a checkout, or where the wheel installed it."""
    candidates = [
        Path(__file__).resolve().parents[2] / "migrations",
        Path(sys.prefix) / "share" / "stride" / "migrations",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise MigrationError("cannot find the migrations folder")


def load_migrations(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text("utf-8")))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 1, 2, 3… without gaps: expected {expected:04d}, "
                f"found {migration.name}"
            )
    return migrations


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements, so they can run inside one explicit transaction.

    `executescript` would commit before running, which makes a failing migration leave half
    a schema behind.
    """
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _strip_comments(statement):
                statements.append(statement)
            buffer = ""
    if _strip_comments(buffer).strip():
        raise MigrationError("migration ends with an incomplete statement")
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip().strip(";")


class Database:
    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        if str(path) != ":memory:":
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transactions ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the body atomically (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception)."""
        if _in_transaction.get():
            yield self
            return
        async with self._lock:
            token = _in_transaction.set(True)
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
                _in_transaction.reset(token)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if _in_transaction.get():
            yield
            return
        async with self._lock:
            yield

    # -- statements --------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the last inserted row id (0 when none)."""
        async with self._turn():
            with _engine_errors():
                cursor = await self._conn.execute(sql, params)
            rowid = cursor.lastrowid or 0
            await cursor.close()
            return rowid

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        async with self._turn():
            with _engine_errors():
                cursor = await self._conn.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._turn():
            await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._turn():
            # One trip to the database thread (execute + fetch + close), not three.
            return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """The first row; meant for queries that select one row (by key or with LIMIT 1)."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def ping(self) -> bool:
        try:
            return bool(await self.fetch_value("SELECT 1") == 1)
        except (sqlite3.Error, ValueError):
            return False

    # -- schema ------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(await self.fetch_value("PRAGMA user_version"))

    async def migrate(self, migrations: Sequence[Migration] | None = None) -> int:
        """Apply every pending migration, each atomically; returns the resulting version.

        `PRAGMA user_version` is the only record of the schema's version. It is set inside
        the same transaction as the migration's statements, so a failing migration leaves
        the previous schema and version intact.
        """
        if migrations is None:
            migrations = load_migrations(default_migrations_dir())
        current = await self.schema_version()
        latest = migrations[-1].version if migrations else 0
        if current > latest:
            raise DatabaseTooNew(
                f"the database {self.path} has schema version {current}, but this Stride "
                f"knows only up to {latest}: upgrade Stride instead of downgrading the database"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            await self._apply(migration)
            log.info("applied migration %s", migration.name)
        return await self.schema_version()

    async def _apply(self, migration: Migration) -> None:
        statements = split_statements(migration.sql)
        try:
            async with self.transaction():
                for statement in statements:
                    await self._conn.execute(statement)
                # PRAGMA takes no parameters; the version is an int from the file name.
                await self._conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except sqlite3.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
