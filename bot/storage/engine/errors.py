"""Storage's own errors: what the services may catch, whichever engine raised it."""

from __future__ import annotations


class MigrationError(RuntimeError):
    """A migration failed or the migrations folder is inconsistent."""


class DatabaseTooNew(RuntimeError):
    """The database was written by a newer Stride than this one."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened: not an SQLite file, a path Stride cannot write, a
    PostgreSQL server that refuses the connection. The message names the file or server
    (never a password)."""


class UniqueViolation(Exception):
    """A write would duplicate a value that a unique index keeps unique.

    Storage's own error, so no engine's exception type reaches the services; repositories
    turn it into what it means for them (`bot.storage.challenges.DuplicateChallengeName`)."""
