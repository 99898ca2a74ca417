"""The database the repositories use, on either engine (see `bot.storage.engine`).

`open_database(settings)` is the one way the application opens it: PostgreSQL when
`DATABASE_URL` is set, else the SQLite file at `DATABASE_PATH`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.storage.engine.base import Database, Params, Row, in_transaction
from bot.storage.engine.errors import (
    DatabaseTooNew,
    DatabaseUnavailable,
    MigrationError,
    UniqueViolation,
)
from bot.storage.engine.migrations import (
    Migration,
    bundled_migrations,
    default_migrations_dir,
    load_migrations,
    split_statements,
)

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = [
    "Database",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "Migration",
    "MigrationError",
    "Params",
    "Row",
    "UniqueViolation",
    "bundled_migrations",
    "default_migrations_dir",
    "in_transaction",
    "load_migrations",
    "open_database",
    "split_statements",
]


async def open_database(settings: Settings) -> Database:
    """The configured database: `DATABASE_URL` (PostgreSQL) if set, else `DATABASE_PATH`."""
    if settings.database_url is not None:
        return await Database.open(settings.database_url.get_secret_value())
    return await Database.open(settings.database_path)
