"""The storage layer: the one place where SQL lives (engines in `bot.storage.engine`)."""

from bot.storage.db import (
    Database,
    DatabaseTooNew,
    DatabaseUnavailable,
    MigrationError,
    Row,
    UniqueViolation,
    open_database,
)

__all__ = [
    "Database",
    "DatabaseTooNew",
    "DatabaseUnavailable",
    "MigrationError",
    "Row",
    "UniqueViolation",
    "open_database",
]
