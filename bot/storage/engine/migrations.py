"""The numbered migrations: where they are found, how they are read and split.

They ship inside the `bot` package (`bot/migrations` is the repository's top-level
`migrations/` folder, linked into the package and copied into the wheel as package data), and
are read with `importlib.resources`, so an editable install, a wheel in a virtualenv and a
`pip install --user` all find them.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path

from bot.storage.engine.errors import MigrationError

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def default_migrations_dir() -> Traversable:
    """The migrations shipped with this Stride (package data of `bot`)."""
    directory = files("bot").joinpath("migrations")
    if not directory.is_dir():
        raise MigrationError("cannot find the migrations folder (bot/migrations)")
    return directory


def bundled_migrations() -> list[Migration]:
    return load_migrations(default_migrations_dir())


def load_migrations(directory: Traversable | Path) -> list[Migration]:
    """Every `NNNN_name.sql` of the folder, in order; numbered 1, 2, 3… without gaps."""
    migrations = []
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".sql"):
            continue
        match = _MIGRATION_NAME.match(entry.name)
        if not match:
            raise MigrationError(f"migration file name not of the form NNNN_name.sql: {entry.name}")
        name = entry.name.removesuffix(".sql")
        migrations.append(Migration(int(match.group(1)), name, entry.read_text("utf-8")))
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
