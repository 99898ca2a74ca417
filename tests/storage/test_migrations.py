"""The migration runner: numbered files, atomic migrations, a database newer than the code,
and `stride migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.cli import cmd_migrate
from bot.storage import Database, DatabaseTooNew, MigrationError
from bot.storage.db import (
    Migration,
    bundled_migrations,
    default_migrations_dir,
    load_migrations,
    split_statements,
)
from bot.storage.engine.postgres import describe
from tests.engines import Databases


def test_migrate_command_creates_database_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "new" / "stride.db"
    out = io.StringIO()
    assert cmd_migrate(path, out, io.StringIO()) == 0
    latest = len(load_migrations(default_migrations_dir()))
    assert f"schema version {latest} ({latest} migration(s) applied)" in out.getvalue()
    before = path.read_bytes()
    out = io.StringIO()
    assert cmd_migrate(path, out, io.StringIO()) == 0
    assert f"schema version {latest} (0 migration(s) applied)" in out.getvalue()
    assert path.read_bytes() == before


async def test_failing_migration_leaves_previous_schema_intact(databases: Databases) -> None:
    migrations = [
        Migration(1, "0001_a", "CREATE TABLE a (x INTEGER);"),
        Migration(
            2,
            "0002_b",
            "CREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (1);\n"
            "INSERT INTO nowhere VALUES (1);",
        ),
    ]
    db = await databases.open(migrated=False)
    with pytest.raises(MigrationError, match="0002_b failed"):
        await db.migrate(migrations)
    assert await db.schema_version() == 1
    tables = set(await db.table_columns())
    assert "a" in tables
    assert "b" not in tables
    assert await db.fetch_value("SELECT COUNT(*) FROM a") == 0


async def _set_schema_version(db: Database, version: int) -> None:
    """What a newer Stride would have left (each engine's one record of the version)."""
    if db.engine == "sqlite":
        await db.execute(f"PRAGMA user_version = {version:d}")
        return
    await db.execute(
        "CREATE TABLE stride_schema (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)"
    )
    await db.execute("INSERT INTO stride_schema (id, version) VALUES (1, ?)", (version,))


async def test_database_newer_than_code_is_refused(databases: Databases) -> None:
    db = await databases.open(migrated=False)
    await _set_schema_version(db, 999)
    with pytest.raises(DatabaseTooNew, match="schema version 999"):
        await db.migrate()
    assert await db.schema_version() == 999


async def test_two_processes_migrating_an_empty_database_at_once_apply_each_migration_once(
    databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    """`stride migrate` overlapping `stride run`, or two processes starting together: the
    version is re-read under the migration lock, so neither applies a migration twice
    ("table users already exists")."""
    latest = len(bundled_migrations())
    target = await databases.target(migrated=False)
    first, second = await databases.open(target), await databases.open(target)
    caplog.set_level(logging.INFO, logger="bot.storage.engine.base")
    assert await asyncio.gather(first.migrate(), second.migrate()) == [latest, latest]
    applied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("applied")]
    assert len(applied) == latest == len(set(applied))
    assert await second.fetch_value("SELECT COUNT(*) FROM users") == 0


def test_migrate_command_refuses_newer_database(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "t.db")) as conn:
        conn.execute("PRAGMA user_version = 999")
    out, err = io.StringIO(), io.StringIO()
    assert cmd_migrate(tmp_path / "t.db", out, err) == 1
    assert "upgrade Stride" in err.getvalue()


def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="expected 0002"):
        load_migrations(tmp_path)


def test_split_statements_keeps_semicolons_inside_strings_and_drops_comments() -> None:
    script = "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\n\nSELECT 1;\n"
    assert split_statements(script) == [
        "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
        "SELECT 1;",
    ]


def test_migrate_on_a_file_that_is_not_a_database_says_so_in_one_line_and_exits(
    tmp_path: Path,
) -> None:
    """Issue 14.1: it printed a traceback and hung for ever (the connection's thread)."""
    readme = tmp_path / "README.md"
    readme.write_text("# Stride\n\nNot a database.\n" * 100)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--database", str(readme)],
        capture_output=True,
        text=True,
        timeout=60,  # a guard: it exits at once
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {readme} is not a usable SQLite database: file is not a database"
    ]


@pytest.mark.parametrize("db_engine", ["postgresql"])
async def test_migrate_command_migrates_the_postgresql_database_of_database_url(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(await databases.target(migrated=False))
    monkeypatch.setenv("DATABASE_URL", url)
    out, err = io.StringIO(), io.StringIO()
    latest = len(bundled_migrations())
    assert await asyncio.to_thread(cmd_migrate, None, out, err) == 0, err.getvalue()
    assert out.getvalue() == (
        f"{describe(url)}: schema version {latest} ({latest} migration(s) applied)\n"
    )
    password = urlsplit(url).password
    assert password and f":{password}@" not in out.getvalue()
