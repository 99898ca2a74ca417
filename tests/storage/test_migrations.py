"""The migration runner: numbered files, atomic migrations, a database newer than the code,
and `stride migrate`."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli import cmd_migrate
from bot.storage import Database, DatabaseTooNew, MigrationError
from bot.storage.db import Migration, default_migrations_dir, load_migrations, split_statements


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


async def test_failing_migration_leaves_previous_schema_intact(tmp_path: Path) -> None:
    migrations = [
        Migration(1, "0001_a", "CREATE TABLE a (x INTEGER);"),
        Migration(
            2,
            "0002_b",
            "CREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (1);\n"
            "INSERT INTO nowhere VALUES (1);",
        ),
    ]
    async with await Database.open(tmp_path / "t.db") as db:
        with pytest.raises(MigrationError, match="0002_b failed"):
            await db.migrate(migrations)
        assert await db.schema_version() == 1
        tables = {row[0] for row in await db.fetch_all("SELECT name FROM sqlite_master")}
        assert "a" in tables
        assert "b" not in tables
        assert await db.fetch_value("SELECT COUNT(*) FROM a") == 0


async def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "t.db") as db:
        await db.execute("PRAGMA user_version = 999")
        with pytest.raises(DatabaseTooNew, match="schema version 999"):
            await db.migrate()
        assert await db.schema_version() == 999


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
