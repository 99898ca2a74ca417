"""`stride reencrypt` with keys that cannot decrypt a stored token, or with no key at all."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from bot.crypto import TokenCipher
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def store_tokens(path: Path, key: bytes) -> int:
    async def store() -> int:
        async with await Database.open(path) as db:
            await db.migrate()
            await UsersRepo(db).ensure(5, NOW)
            tokens = TokenSet("acc-5", "ref-5", NOW + dt.timedelta(hours=1), ("steps",), None)
            account = await AccountsRepo(db, TokenCipher([key])).save_link(
                5, "oura", "o-5", tokens, NOW
            )
            return account.id

    return asyncio.run(store())


def access_token(path: Path, key: bytes, account_id: int) -> str | None:
    async def read() -> str | None:
        async with await Database.open(path) as db:
            tokens = await AccountsRepo(db, TokenCipher([key])).tokens(account_id)
            return None if tokens is None else tokens.access_token

    return asyncio.run(read())


def test_keys_that_cannot_decrypt_say_what_to_do_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stride.db"
    old_key = Fernet.generate_key()
    account_id = store_tokens(path, old_key)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())  # old one lost
    assert main(["reencrypt"]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert "cannot be decrypted with any configured key" in line
    assert "TOKEN_ENCRYPTION_KEYS" in line and "stride reencrypt" in line
    assert captured.out == ""
    assert access_token(path, old_key, account_id) == "acc-5"  # still readable as before


def test_no_key_at_all_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stride.db"
    store_tokens(path, Fernet.generate_key())
    monkeypatch.setenv("DATABASE_PATH", str(path))
    assert main(["reencrypt"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "TOKEN_ENCRYPTION_KEYS is not set" in line and str(tmp_path / "stride.key") in line
    assert not (tmp_path / "stride.key").exists()


def test_the_generated_key_file_is_used_when_no_keys_are_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stride.db"
    key = Fernet.generate_key()
    (tmp_path / "stride.key").write_text(key.decode() + "\n")
    account_id = store_tokens(path, key)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    assert main(["reencrypt"]) == 0
    assert "1 linked account(s)" in capsys.readouterr().out
    assert access_token(path, key, account_id) == "acc-5"


def test_no_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    assert main(["reencrypt"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert str(tmp_path / "missing.db") in line
    assert not (tmp_path / "missing.db").exists()
