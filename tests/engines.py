"""Fresh databases for tests, on SQLite or PostgreSQL (the `databases` and `db` fixtures).

SQLite: a file in the test's `tmp_path` (the first one is `stride.db`). PostgreSQL: a new
database on the server of `STRIDE_TEST_POSTGRES_URL`, copied from a migrated template with
`CREATE DATABASE … TEMPLATE` (about 30 ms, instead of migrating each time), dropped after
the test. The template is made once per set of migrations (its name carries their hash),
under an advisory lock, so test runs side by side share it. Without the variable the
PostgreSQL tests skip, except under `CI=true`, where that is a failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
import sqlite3
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.storage import Database
from bot.storage.db import bundled_migrations
from bot.storage.engine import dialect, postgres
from bot.storage.engine.base import is_postgresql_url
from bot.storage.engine.postgres import PostgresDatabase

ENGINES = ("sqlite", "postgresql")
POSTGRES_URL_VARIABLE = "STRIDE_TEST_POSTGRES_URL"
TEST_POOL_SIZE = 4
_TEMPLATE_LOCK = 0x5374726964650099
_templates_ready: set[str] = set()


def postgres_server_url() -> str:
    """The test server's URL; skips the test without it (fails it under CI=true)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_URL_VARIABLE} is not set: CI must run the PostgreSQL tests")
    pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}=postgresql://…")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _template_name() -> str:
    """Named after what a migrated database depends on: the migrations and the seam."""
    digest = hashlib.sha256()
    for migration in bundled_migrations():
        digest.update(migration.sql.encode())
    for module in (dialect, postgres):
        digest.update(inspect.getsource(module).encode())
    return f"stride_tpl_{digest.hexdigest()[:16]}"


async def _ensure_template(server: str) -> str:
    name = _template_name()
    if name in _templates_ready:
        return name
    admin = await asyncpg.connect(server)
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", _TEMPLATE_LOCK)
        ready = await admin.fetchval(
            "SELECT datistemplate FROM pg_database WHERE datname = $1", name
        )
        if not ready:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
            async with await PostgresDatabase.connect(
                with_database(server, name), pool_size=1
            ) as db:
                await db.migrate()
            await admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{time.time():.0f}'")
            await admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
        await _drop_leftovers(admin, keep=name)
        await admin.execute("SELECT pg_advisory_unlock($1)", _TEMPLATE_LOCK)
    finally:
        await admin.close()
    _templates_ready.add(name)
    return name


async def _drop_leftovers(admin: asyncpg.Connection, *, keep: str) -> None:
    """Best effort: templates of older migrations (made over an hour ago: a run side by side
    may still copy one) and the databases of test processes that died."""
    rows = await admin.fetch(
        "SELECT datname, shobj_description(oid, 'pg_database') AS made FROM pg_database "
        "WHERE datname LIKE 'stride\\_t\\_%' OR datname LIKE 'stride\\_tpl\\_%'"
    )
    for row in rows:
        name, made = row["datname"], row["made"]
        if name.startswith("stride_tpl_"):
            stale = name != keep and made is not None and float(made) < time.time() - 3600
        else:  # stride_t_<pid>_<random>
            pid = name.split("_")[2]
            stale = pid.isdigit() and not _alive(int(pid))
        if stale:
            with contextlib.suppress(asyncpg.PostgresError):
                await admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Databases:
    """Fresh databases on one engine for one test; all closed (PostgreSQL's dropped) after."""

    def __init__(self, engine: str, tmp_path: Path) -> None:
        self.engine = engine
        self._tmp_path = tmp_path
        self._opened: list[Database] = []
        self._created: list[str] = []
        self._server = postgres_server_url() if engine == "postgresql" else ""

    async def target(self, *, migrated: bool = True) -> Path | str:
        """A new database (migrated, or empty): its SQLite path or PostgreSQL URL."""
        if self.engine == "sqlite":
            count = len(self._created)
            path = self._tmp_path / ("stride.db" if count == 0 else f"stride-{count + 1}.db")
            self._created.append(str(path))
            if migrated:
                async with await Database.open(path) as db:
                    await db.migrate()
            return path
        name = f"stride_t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(self._server)
        try:
            template = await _ensure_template(self._server) if migrated else "template0"
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            except asyncpg.InvalidCatalogNameError:  # a run beside this one replaced it
                _templates_ready.discard(template)
                template = await _ensure_template(self._server)
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        self._created.append(name)
        return with_database(self._server, name)

    async def open(self, target: Path | str | None = None, *, migrated: bool = True) -> Database:
        """Open `target`, or a new database; closed after the test."""
        if target is None:
            target = await self.target(migrated=migrated)
        db: Database
        if is_postgresql_url(target):
            # Fewer connections than in production: test runs side by side share one server.
            db = await PostgresDatabase.connect(target, pool_size=TEST_POOL_SIZE)
        else:
            db = await Database.open(target)
        self._opened.append(db)
        return db

    async def aclose(self) -> None:
        for db in self._opened:
            await db.close()
        if self.engine != "postgresql" or not self._created:
            return
        admin = await asyncpg.connect(self._server)
        try:
            for name in self._created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


sqlite_only = pytest.mark.parametrize("db_engine", ["sqlite"])
"""For a test of SQLite itself (its pragmas, its files): runs on SQLite only."""


async def stored_bytes(db: Database) -> bytes:
    """Everything the database holds, as bytes: SQLite's files (checkpointed), or every
    value of every table on PostgreSQL (text as UTF-8, BYTEA as it is)."""
    if db.engine == "sqlite":
        path = Path(db.target)
        await db.execute("PRAGMA wal_checkpoint(FULL)")
        return b"".join(
            p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name)
        )
    chunks = []
    for table in await db.table_columns():
        for row in await db.fetch_all(f'SELECT * FROM "{table}"'):
            for value in tuple(row):
                chunks.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\0".join(chunks)


def integrity_error(db: Database) -> type[Exception]:
    """The engine's own error for a broken constraint other than a unique one (a CHECK, a
    foreign key), which storage does not translate: it is a bug, not a user's duplicate."""
    if db.engine == "sqlite":
        return sqlite3.IntegrityError
    return asyncpg.IntegrityConstraintViolationError
