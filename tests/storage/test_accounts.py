"""Linked accounts' tokens at rest: encrypted, key rotation, `stride reencrypt`."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import EncryptionKeyError, TokenCipher
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from tests.engines import stored_bytes

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


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
    raw = await stored_bytes(db)
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
