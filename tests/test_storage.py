"""The migration runner, transactions, and token storage at rest."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import cmd_migrate
from bot.crypto import EncryptionKeyError, TokenCipher, cipher_from_settings, parse_keys
from bot.providers.base import TokenSet
from bot.storage import Database, DatabaseTooNew, MigrationError
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.db import Migration, default_migrations_dir, load_migrations, split_statements

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


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


async def test_pragmas_foreign_keys_and_wal(db: Database) -> None:
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    assert await db.fetch_value("PRAGMA journal_mode") == "wal"


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    users = UsersRepo(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await users.ensure(1, NOW)
            raise RuntimeError("boom")
    assert await users.time_zone(1) is None


async def test_a_failed_commit_rolls_back_and_the_connection_stays_usable(db: Database) -> None:
    """COMMIT itself can fail (a deferred foreign key, a full disk): the shared connection
    must not be left inside the open transaction, or every later BEGIN would fail."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():
            await db.execute("PRAGMA defer_foreign_keys = ON")  # checked at COMMIT
            await db.execute(
                "INSERT INTO participants VALUES (999, 5, NULL, '2026-11-01', '2026-11-01')"
            )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0
    async with db.transaction():
        await UsersRepo(db).ensure(1, NOW)
    assert await UsersRepo(db).time_zone(1) == "UTC"


def _tokens(access: str, refresh: str) -> TokenSet:
    return TokenSet(access, refresh, NOW + dt.timedelta(hours=1), ("steps",), None)


async def test_tokens_are_encrypted_at_rest(db: Database, cipher: TokenCipher) -> None:
    users, accounts = UsersRepo(db), AccountsRepo(db, cipher)
    await users.ensure(42, NOW)
    account = await accounts.save_link(
        42, "oura", "oura-user-1", _tokens("ACCESS-plain-123", "REFRESH-plain-456"), NOW
    )
    tokens = await accounts.tokens(account.id)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("ACCESS-plain-123", "REFRESH-plain-456")
    await db.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(
        p.read_bytes() for p in db.path.parent.iterdir() if p.name.startswith(db.path.name)
    )
    assert b"ACCESS-plain-123" not in raw
    assert b"REFRESH-plain-456" not in raw
    assert "ACCESS-plain-123" not in repr(tokens)


async def test_key_rotation_old_tokens_still_decrypt(db: Database) -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    await UsersRepo(db).ensure(7, NOW)
    old = AccountsRepo(db, TokenCipher([old_key]))
    account = await old.save_link(7, "withings", "w-1", _tokens("acc", "ref"), NOW)

    rotated = AccountsRepo(db, TokenCipher([new_key, old_key]))
    tokens = await rotated.tokens(account.id)
    assert tokens is not None and tokens.access_token == "acc"

    assert await rotated.reencrypt_all() == 1
    only_new = AccountsRepo(db, TokenCipher([new_key]))
    tokens = await only_new.tokens(account.id)
    assert tokens is not None and tokens.refresh_token == "ref"

    with pytest.raises(EncryptionKeyError, match="cannot be decrypted"):
        await AccountsRepo(db, TokenCipher([old_key])).tokens(account.id)


async def test_reencrypting_does_not_undo_a_concurrent_refresh(db: Database) -> None:
    """A refresh that commits while the re-encryption runs must survive it: the rotated
    refresh token is the only one the provider still honours (Oura, Withings)."""
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    await UsersRepo(db).ensure(7, NOW)
    account = await AccountsRepo(db, TokenCipher([old_key])).save_link(
        7, "oura", "o-1", _tokens("acc-1", "ref-1"), NOW
    )
    accounts = AccountsRepo(db, TokenCipher([new_key, old_key]))

    await asyncio.gather(
        accounts.reencrypt_all(), accounts.update_tokens(account.id, _tokens("acc-2", "ref-2"), NOW)
    )

    tokens = await AccountsRepo(db, TokenCipher([new_key])).tokens(account.id)
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("acc-2", "ref-2")


def test_generated_key_file_is_private_and_reused(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    db_path = tmp_path / "data" / "stride.db"
    first = cipher_from_settings(None, db_path)
    key_file = tmp_path / "data" / "stride.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "TOKEN_ENCRYPTION_KEYS is not set" in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    second = cipher_from_settings(None, db_path)
    assert second.decrypt(first.encrypt("hello")) == "hello"


def test_parse_keys_rejects_garbage_without_echoing_it() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(EncryptionKeyError) as caught:
        parse_keys(f"{good},garbage-key-material")
    assert "#2" in str(caught.value)
    assert "garbage-key-material" not in str(caught.value)


def test_reencrypt_command_finishes_a_key_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.cli import main

    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    path = tmp_path / "stride.db"

    async def store_with_old_key() -> int:
        async with await Database.open(path) as db:
            await db.migrate()
            await UsersRepo(db).ensure(5, NOW)
            account = await AccountsRepo(db, TokenCipher([old_key])).save_link(
                5, "oura", "o-5", _tokens("acc-5", "ref-5"), NOW
            )
            return account.id

    async def read_with_new_key_only(account_id: int) -> TokenSet | None:
        async with await Database.open(path) as db:
            return await AccountsRepo(db, TokenCipher([new_key])).tokens(account_id)

    account_id = asyncio.run(store_with_old_key())
    monkeypatch.setenv("DATABASE_PATH", str(path))
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", f"{new_key.decode()},{old_key.decode()}")
    assert main(["reencrypt"]) == 0
    assert "1 linked account(s)" in capsys.readouterr().out
    tokens = asyncio.run(read_with_new_key_only(account_id))
    assert tokens is not None and tokens.access_token == "acc-5"
