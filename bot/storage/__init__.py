"""The storage layer: the one place where SQL lives."""

from bot.storage.db import Database, DatabaseTooNew, MigrationError

__all__ = ["Database", "DatabaseTooNew", "MigrationError"]
