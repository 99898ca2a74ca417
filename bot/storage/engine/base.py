"""What every engine offers the repositories: the `Database` API, its rows and its errors.

`Database` is abstract; `Database.open(target)` picks the engine from the target (a path:
SQLite, a `postgresql://` URL: PostgreSQL). The migration loop lives here, so both engines
apply one numbered sequence the same way: each migration in its own transaction, with the
schema version re-read under the engine's migration lock first (another process may have
applied it meanwhile).
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeGuard

from bot.storage.engine.backfills import BACKFILLS
from bot.storage.engine.dialect import PLAIN_IDENTIFIER
from bot.storage.engine.errors import DatabaseTooNew
from bot.storage.engine.migrations import Migration, bundled_migrations

log = logging.getLogger(__name__)

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")

Params = Sequence[Any] | dict[str, Any]
# The columns of a row source (`Database.execute_rows`): (name, storage type) each.
Columns = Sequence[tuple[str, str]]
ROWS = "{rows}"  # where a statement of `execute_rows` reads its rows

_STORAGE_TYPES = frozenset({"INTEGER", "REAL", "TEXT", "BLOB"})

# True inside a transaction of the current task, whatever the engine (see `in_transaction`).
_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "stride_in_transaction", default=False
)


def is_postgresql_url(target: Path | str) -> TypeGuard[str]:
    return isinstance(target, str) and target.startswith(POSTGRESQL_SCHEMES)


class Row(Protocol):
    """A result row of either engine: by column name (`row["id"]`) or position (`row[0]`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


def in_transaction() -> bool:
    """True inside `Database.transaction()` in the current task (its writes are not yet
    committed). The token manager refuses to refresh there: a rotated refresh token must be
    committed before the new access token is used."""
    return _in_transaction.get()


class Database(abc.ABC):
    """One database, on one engine. Statements take `?` parameters (or `:name` with a
    dict); rows support `row["column"]` and `row[0]`."""

    engine: ClassVar[str]
    # What error messages name: the file, or the server and database (never a password).
    target: str

    @classmethod
    async def open(cls, target: Path | str) -> Database:
        """Open the SQLite file at `target`, or connect to the PostgreSQL `target` URL."""
        if is_postgresql_url(target):
            from bot.storage.engine.postgres import PostgresDatabase

            return await PostgresDatabase.connect(target)
        from bot.storage.engine.sqlite import SqliteDatabase

        return await SqliteDatabase.connect(Path(target))

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transactions and statements (each engine's own) -------------------------------

    @abc.abstractmethod
    def transaction(
        self, *, exclusive: bool = True
    ) -> contextlib.AbstractAsyncContextManager[Database]:
        """Run the body atomically, ROLLBACK on any exception; a task already inside a
        transaction joins it.

        Exclusive (the default): one such transaction at a time across every process, so a
        body may read, decide and write (SQLite's BEGIN IMMEDIATE; on PostgreSQL a
        transaction-scoped advisory lock). `exclusive=False` changes nothing on SQLite; on
        PostgreSQL it is a plain READ COMMITTED transaction, for bodies whose statements
        decide by themselves (conditional writes, `FOR UPDATE SKIP LOCKED`).

        One difference remains: SQLite holds back every other writer while a transaction
        runs, PostgreSQL only other exclusive transactions. A write that depends on what the
        body read, to rows that code outside transactions also writes, repeats its condition
        in its WHERE clause (compare and set), as `AccountsRepo.reencrypt_all` does."""

    @abc.abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; on SQLite returns the last inserted row id (0 when none), on
        PostgreSQL 0: get a new row's id with `INSERT … RETURNING id` and `fetch_value`."""

    @abc.abstractmethod
    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abc.abstractmethod
    async def execute_many(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def execute_rows(self, sql: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
        """Run `sql` over many rows at once. `sql` reads them from `{rows}`, a row source
        named `r` with these columns (name and storage type: INTEGER, REAL, TEXT, BLOB),
        and has no parameters of its own, e.g. `INSERT INTO t (a, b) SELECT r.a, r.b FROM
        {rows} WHERE true ON CONFLICT (a) DO UPDATE SET b = excluded.b` (an `INSERT …
        SELECT … ON CONFLICT` needs its WHERE clause, or SQLite reads ON as a join's).

        All rows or none are written, as by one statement. Rows must not repeat a key that
        `ON CONFLICT … DO UPDATE` (or an `UPDATE … FROM`) would change twice: PostgreSQL
        refuses to change one row twice in one statement.
        SQLite runs the statement once per row (`executemany`: its fastest way); PostgreSQL
        runs it once, with an array per column (`unnest`), not one protocol round per row."""
        if sql.count(ROWS) != 1:
            raise ValueError(f"a statement of execute_rows reads its rows from {ROWS} once")
        for name, kind in columns:
            if not PLAIN_IDENTIFIER.match(name) or kind not in _STORAGE_TYPES:
                raise ValueError(f"not a row source column: {name} {kind}")
        batch = [tuple(row) for row in rows]
        if any(len(row) != len(columns) for row in batch):
            raise ValueError("every row has one value per column")
        if batch:
            await self._execute_rows(sql, columns, batch)

    @abc.abstractmethod
    async def _execute_rows(
        self, sql: str, columns: Columns, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """`execute_rows` once its arguments were checked (at least one row)."""

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row; meant for queries that select one row (by key or with LIMIT 1)."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    @abc.abstractmethod
    async def ping(self) -> bool: ...

    # -- what the seam answers for the repositories ------------------------------------

    @abc.abstractmethod
    def int_set(self, values: Iterable[int]) -> tuple[str, object]:
        """A set of ints as one parameter: `(sql, param)`, where `sql` is a parenthesised
        subquery with one `?` (`x IN <sql>`, `x NOT IN <sql>`) and `param` goes in its place.
        One statement text however many values."""

    @abc.abstractmethod
    def text_set(self, values: Iterable[str]) -> tuple[str, object]:
        """Like `int_set`, for strings."""

    @abc.abstractmethod
    async def table_columns(self) -> dict[str, list[tuple[str, bool]]]:
        """Every table of the application's schema (not the engine's own): its columns as
        (name, NOT NULL), in declaration order; tables by name."""

    @abc.abstractmethod
    async def reset_id_sequences(self, tables: Iterable[str]) -> None:
        """After rows were inserted with their ids given (a copy from another database): the
        next new row of each of these tables gets an id after the largest one there."""

    # -- schema ------------------------------------------------------------------------

    @abc.abstractmethod
    async def schema_version(self) -> int: ...

    @abc.abstractmethod
    def _migration_lock(self) -> contextlib.AbstractAsyncContextManager[Database]:
        """A transaction holding the engine's migration lock (only one process migrates)."""

    @abc.abstractmethod
    async def _run_migration(self, migration: Migration) -> None:
        """The migration's statements and the new version, inside `_migration_lock`."""

    async def migrate(self, migrations: Sequence[Migration] | None = None) -> int:
        """Apply every pending migration, each atomically; returns the resulting version.

        The schema version is set in the same transaction as the migration's statements, so
        a failing migration leaves the previous schema and version intact; it is re-read
        under the migration lock, so processes migrating at once apply each migration once.
        """
        if migrations is None:
            migrations = bundled_migrations()
        latest = migrations[-1].version if migrations else 0
        current = await self.schema_version()
        self._refuse_newer(current, latest)
        for migration in migrations:
            if migration.version > current and await self._apply(migration, latest):
                log.info("applied migration %s", migration.name)
        return await self.schema_version()

    async def _apply(self, migration: Migration, latest: int) -> bool:
        """Apply one migration unless another process did meanwhile; True when applied."""
        async with self._migration_lock():
            current = await self.schema_version()
            self._refuse_newer(current, latest)
            if current >= migration.version:
                return False
            await self._run_migration(migration)
            backfill = BACKFILLS.get(migration.name)
            if backfill is not None:
                await backfill(self)
        return True

    def _refuse_newer(self, current: int, latest: int) -> None:
        if current > latest:
            raise DatabaseTooNew(
                f"the database {self.target} has schema version {current}, but this Stride "
                f"knows only up to {latest}: upgrade Stride instead of downgrading the database"
            )
