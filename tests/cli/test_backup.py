"""`stride backup PATH`: the database (while Stride has it open) and the key files, private,
with a restore note that works; PostgreSQL is sent to pg_dump."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from bot.cli import main
from bot.crypto import cipher_from_settings
from bot.providers.base import TokenSet
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def link_member(db: Database, settings: Settings, discord_id: int) -> None:
    cipher = cipher_from_settings(None, settings.database_path)  # generates stride.key
    await UsersRepo(db).ensure(discord_id, NOW)
    tokens = TokenSet(f"acc-{discord_id}", "ref", NOW + dt.timedelta(hours=1), ("steps",))
    await AccountsRepo(db, cipher).save_link(discord_id, "oura", f"o-{discord_id}", tokens, NOW)


async def test_backup_while_stride_has_the_database_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("DATABASE_PATH", str(data / "stride.db"))
    settings = Settings()
    (data / "publish.key").parent.mkdir()
    (data / "publish.key").write_text("p" * 64 + "\n")
    target = tmp_path / "backups" / "today"
    async with await Database.open(settings.database_path) as live:  # the running bot
        await live.migrate()
        await link_member(live, settings, 1)
        async with live.transaction():  # a write in flight while the backup runs
            await UsersRepo(live).ensure(2, NOW)
            code = await asyncio.to_thread(main, ["backup", str(target)])
    assert code == 0
    assert "stride.db" in capsys.readouterr().out
    assert sorted(p.name for p in target.iterdir()) == [
        "RESTORE.txt",
        "publish.key",
        "stride.db",
        "stride.key",
    ]
    assert mode(target) == 0o700
    assert all(mode(p) == 0o600 for p in target.iterdir())
    note = (target / "RESTORE.txt").read_text()
    assert str(data) in note and "chown 10001" in note

    # Restore as the note says, into a fresh folder, and read a member's tokens back.
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in ("stride.db", "stride.key", "publish.key"):
        (restored / name).write_bytes((target / name).read_bytes())
    async with await Database.open(restored / "stride.db") as db:
        await db.migrate()
        cipher = cipher_from_settings(None, restored / "stride.db")
        account = await AccountsRepo(db, cipher).get(1, "oura")
        assert account is not None
        tokens = await AccountsRepo(db, cipher).tokens(account.id)
        assert tokens is not None and tokens.access_token == "acc-1"
        # The write in flight was not committed: not in the copy.
        assert await db.fetch_value("SELECT COUNT(*) FROM users") == 1


def test_backup_into_a_folder_that_is_not_empty_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stride.db"))
    assert main(["migrate"]) == 0
    target = tmp_path / "old-backup"
    target.mkdir()
    (target / "stride.db").write_text("an older backup")
    capsys.readouterr()
    assert main(["backup", str(target)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert str(target) in line and "already exists" in line
    assert (target / "stride.db").read_text() == "an older backup"


def test_backup_without_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    assert main(["backup", str(tmp_path / "b")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "no database at" in line and "missing.db" in line
    assert not (tmp_path / "b").exists()


def test_backup_on_postgresql_says_to_use_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://stride:pw-value@db.example/stride")
    assert main(["backup", str(tmp_path / "b")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "pg_dump" in line and "pw-value" not in line
    assert not (tmp_path / "b").exists()


def test_the_backup_files_stay_private_under_a_loose_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stride.db"))
    assert main(["migrate"]) == 0
    previous = os.umask(0)
    try:
        assert main(["backup", str(tmp_path / "b")]) == 0
    finally:
        os.umask(previous)
    assert {mode(p) for p in (tmp_path / "b").iterdir()} == {0o600}
