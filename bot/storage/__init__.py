"""The storage layer: the one place where SQL lives."""

from bot.storage.db import Database, DatabaseTooNew, MigrationError, UniqueViolation

__all__ = ["Database", "DatabaseTooNew", "MigrationError", "UniqueViolation"]
