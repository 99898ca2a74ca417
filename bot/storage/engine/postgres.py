"""The PostgreSQL engine: an asyncpg pool behind the same `Database` API.

A statement outside a transaction runs on any pooled connection. `transaction()` takes one
connection and binds it to the task (a context variable): every statement of the task, and of
tasks it starts, runs there in turn until the transaction ends; a nested `transaction()`
joins. An exclusive transaction (the default) first takes a transaction-scoped advisory lock,
so, as with SQLite's BEGIN IMMEDIATE, one runs at a time across every process and a body may
read, decide and write. Migrations run under another advisory lock, and the schema version
is the one row of `stride_schema`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import asyncpg

from bot.storage.engine.base import ROWS, Columns, Database, Params, Row, _in_transaction
from bot.storage.engine.dialect import (
    PLAIN_IDENTIFIER,
    arguments,
    check_portable,
    numbered,
    postgresql_ddl,
)
from bot.storage.engine.errors import DatabaseUnavailable, MigrationError, UniqueViolation
from bot.storage.engine.migrations import Migration, split_statements

log = logging.getLogger(__name__)


# Advisory lock keys (any 64-bit numbers, the same in every Stride process).
WRITER_LOCK = 0x5374726964650001  # "Stride" 1: exclusive transactions
MIGRATION_LOCK = 0x5374726964650002  # "Stride" 2: migrations
VERSION_TABLE = "stride_schema"
POOL_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10.0
_CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{user}{parts.hostname or ''}{port}{parts.path}"


@dataclass(slots=True)
class _Bound:
    """The connection of the task's transaction; its statements take turns."""

    connection: asyncpg.Connection
    exclusive: bool
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise UniqueViolation(str(exc)) from exc


def _rowcount(status: str) -> int:
    """How many rows a command changed, from its status ("UPDATE 2", "INSERT 0 1")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


async def _setup_connection(connection: asyncpg.Connection) -> None:
    # Sums and averages of BIGINT come back as NUMERIC: give floats, as SQLite would, not
    # Decimals that no repository expects.
    await connection.set_type_codec(
        "numeric", encoder=str, decoder=float, schema="pg_catalog", format="text"
    )


async def _reset_connection(connection: asyncpg.Connection) -> None:
    # asyncpg's default reset costs a round trip per statement; Stride keeps no session
    # state (its advisory locks end with their transactions), so only a connection left
    # inside a transaction needs it.
    if connection.is_in_transaction():
        await connection.reset()


class PostgresDatabase(Database):
    engine: ClassVar[str] = "postgresql"

    def __init__(self, pool: asyncpg.Pool, target: str) -> None:
        self._pool = pool
        self.target = target
        self._writer = asyncio.Lock()
        self._bound: contextvars.ContextVar[_Bound | None] = contextvars.ContextVar(
            f"stride_pg_transaction_{id(self)}", default=None
        )

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresDatabase:
        target = describe(url)
        try:
            pool = await asyncpg.create_pool(
                url,
                # Every connection opened up front: none is set up in the middle of a run.
                min_size=pool_size,
                max_size=pool_size,
                init=_setup_connection,
                reset=_reset_connection,
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except _CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {target}: {exc}") from exc
        return cls(pool, target)

    async def close(self) -> None:
        await self._pool.close()

    # -- connections and transactions --------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        bound = self._bound.get()
        if bound is not None:
            async with bound.lock:
                yield bound.connection
            return
        async with self._pool.acquire() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def transaction(self, *, exclusive: bool = True) -> AsyncIterator[Database]:
        bound = self._bound.get()
        if bound is not None:
            if exclusive and not bound.exclusive:
                async with bound.lock:
                    await bound.connection.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
                bound.exclusive = True
            yield self
            return
        async with contextlib.AsyncExitStack() as stack:
            if exclusive:
                # Waiters queue here, not on pooled connections.
                await stack.enter_async_context(self._writer)
            connection = await stack.enter_async_context(self._pool.acquire())
            async with connection.transaction():
                if exclusive:
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
                token = self._bound.set(_Bound(connection, exclusive))
                flag = _in_transaction.set(True)
                try:
                    yield self
                finally:
                    _in_transaction.reset(flag)
                    self._bound.reset(token)

    # -- statements --------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        await self.execute_rowcount(sql, params)
        return 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        text, names = numbered(sql)
        args = arguments(names, params)
        async with self._connection() as connection:
            with _engine_errors():
                return _rowcount(await connection.execute(text, *args))

    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        text, names = numbered(sql)
        batch = [arguments(names, row) for row in rows]
        if not batch:
            return
        async with self._connection() as connection:
            with _engine_errors():
                await connection.executemany(text, batch)

    async def _execute_rows(
        self, sql: str, columns: Columns, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        arrays = ", ".join(f"CAST(? AS {kind}[])" for _, kind in columns)
        names = ", ".join(name for name, _ in columns)
        text, _ = numbered(sql.replace(ROWS, f"unnest({arrays}) AS r({names})"))
        async with self._connection() as connection:
            with _engine_errors():
                await connection.execute(
                    text, *(list(column) for column in zip(*rows, strict=True))
                )

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        text, names = numbered(sql)
        args = arguments(names, params)
        async with self._connection() as connection:
            with _engine_errors():
                return list(await connection.fetch(text, *args))

    async def ping(self) -> bool:
        try:
            return bool(await self.fetch_value("SELECT 1") == 1)
        except _CONNECTION_ERRORS:
            return False

    # -- what the seam answers for the repositories ------------------------------------

    def int_set(self, values: Iterable[int]) -> tuple[str, object]:
        return "(SELECT unnest(CAST(? AS BIGINT[])))", sorted(set(values))

    def text_set(self, values: Iterable[str]) -> tuple[str, object]:
        return "(SELECT unnest(CAST(? AS TEXT[])))", sorted(set(values))

    async def table_columns(self) -> dict[str, list[tuple[str, bool]]]:
        rows = await self.fetch_all(
            "SELECT c.table_name, c.column_name, c.is_nullable = 'NO' AS not_null "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.table_name <> ? ORDER BY c.table_name, c.ordinal_position",
            (VERSION_TABLE,),
        )
        tables: dict[str, list[tuple[str, bool]]] = {}
        for row in rows:
            tables.setdefault(str(row[0]), []).append((str(row[1]), bool(row[2])))
        return tables

    async def reset_id_sequences(self, tables: Iterable[str]) -> None:
        """Move each table's identity sequence (of its `id` column) past the largest id."""
        columns = await self.table_columns()
        for table in tables:
            has_id = any(name == "id" for name, _ in columns.get(table, ()))
            if not PLAIN_IDENTIFIER.match(table) or not has_id:
                continue  # not one of ours, or no id column
            top = f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1'  # noqa: S608 (checked identifier)
            await self.fetch_value(
                f"SELECT setval(pg_get_serial_sequence(?, 'id'), {top}, false) "
                "WHERE pg_get_serial_sequence(?, 'id') IS NOT NULL",
                (table, table),
            )

    # -- schema ------------------------------------------------------------------------

    async def schema_version(self) -> int:
        if await self.fetch_value("SELECT to_regclass(?)", (VERSION_TABLE,)) is None:
            return 0
        value = await self.fetch_value(f"SELECT version FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608 (a constant)
        return 0 if value is None else int(value)

    @contextlib.asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[Database]:
        async with self.transaction(exclusive=False):
            await self.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            await self.execute(
                f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
                "id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)"
            )
            yield self

    async def _run_migration(self, migration: Migration) -> None:
        statements = split_statements(migration.sql)
        check_portable(migration.version, migration.name, statements)
        try:
            for statement in statements:
                await self.execute(postgresql_ddl(statement))
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        await self.execute(
            f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, ?) "  # noqa: S608 (a constant)
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            (migration.version,),
        )
