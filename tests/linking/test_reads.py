"""`TokenReads`: concurrent reads of accounts' tokens share one query, and stay as fresh and as
separate as reads of their own (a later change is seen; one bad row fails its read only)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection

import pytest
from cryptography.fernet import Fernet

from bot.crypto import EncryptionKeyError, TokenCipher
from bot.domain import AccountStatus
from bot.linking.reads import TokenReads
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.db import Row

NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


class CountingRepo(AccountsRepo):
    """Counts the queries; `hold` keeps the first one waiting until it is set."""

    def __init__(self, db: Database, cipher: TokenCipher) -> None:
        super().__init__(db, cipher)
        self.queries: list[list[int]] = []
        self.started = asyncio.Event()
        self.hold: asyncio.Event | None = None

    async def token_rows(self, account_ids: Collection[int]) -> dict[int, Row]:
        self.queries.append(sorted(account_ids))
        self.started.set()
        if self.hold is not None and len(self.queries) == 1:
            await self.hold.wait()
        return await super().token_rows(account_ids)


def _tokens(access: str) -> TokenSet:
    return TokenSet(access, f"refresh-{access}", NOW + dt.timedelta(hours=1))


async def _link(db: Database, cipher: TokenCipher, count: int) -> list[int]:
    accounts = AccountsRepo(db, cipher)
    ids = []
    for user in range(1, count + 1):
        await UsersRepo(db).ensure(user, NOW)
        ids.append(
            (await accounts.save_link(user, "oura", f"o-{user}", _tokens(f"a{user}"), NOW)).id
        )
    return ids


async def test_concurrent_reads_share_one_query(db: Database, cipher: TokenCipher) -> None:
    ids = await _link(db, cipher, 40)
    repo = CountingRepo(db, cipher)
    reads = TokenReads(repo)

    found = await asyncio.gather(*(reads.status_and_tokens(i) for i in [*ids, *ids[:5], 10_000]))

    assert len(repo.queries) == 1
    assert [f[1].access_token if f else None for f in found] == [
        *(f"a{user}" for user in range(1, 41)),
        *(f"a{user}" for user in range(1, 6)),
        None,  # not linked
    ]
    assert all(f is None or f[0] is AccountStatus.ACTIVE for f in found)


async def test_a_read_asked_during_a_query_sees_what_was_committed_before_it(
    db: Database, cipher: TokenCipher
) -> None:
    first, second = await _link(db, cipher, 2)
    repo = CountingRepo(db, cipher)
    repo.hold = asyncio.Event()
    reads = TokenReads(repo, max_batch=10)
    early = asyncio.create_task(reads.status_and_tokens(first))
    await repo.started.wait()  # the first query runs (and waits)
    await AccountsRepo(db, cipher).update_tokens(second, _tokens("rotated"), NOW)

    async def release() -> None:
        assert repo.hold is not None
        repo.hold.set()

    # The late read is asked (and waits) before the first query is let go.
    late_found, _ = await asyncio.gather(reads.status_and_tokens(second), release())
    early_found = await early
    assert early_found is not None and early_found[1].access_token == "a1"
    assert late_found is not None and late_found[1].access_token == "rotated"
    assert repo.queries == [[first], [second]]  # the late read waited for a query of its own


async def test_a_token_no_key_decrypts_fails_its_own_read_only(
    db: Database, cipher: TokenCipher
) -> None:
    good = await _link(db, cipher, 1)
    await UsersRepo(db).ensure(99, NOW)
    stranger = TokenCipher([Fernet.generate_key()])
    bad = await AccountsRepo(db, stranger).save_link(99, "oura", "o-99", _tokens("x"), NOW)
    reads = TokenReads(AccountsRepo(db, cipher))

    found, failed = await asyncio.gather(
        reads.status_and_tokens(good[0]), reads.status_and_tokens(bad.id), return_exceptions=True
    )

    assert not isinstance(found, BaseException) and found is not None
    assert found[1].access_token == "a1"
    assert isinstance(failed, EncryptionKeyError)


async def test_a_failed_query_fails_the_reads_waiting_for_it(
    db: Database, cipher: TokenCipher
) -> None:
    ids = await _link(db, cipher, 2)
    repo = CountingRepo(db, cipher)
    reads = TokenReads(repo)
    await db.close()

    results = await asyncio.gather(
        *(reads.status_and_tokens(i) for i in ids), return_exceptions=True
    )

    assert all(isinstance(result, Exception) for result in results)
    with pytest.raises(Exception):  # noqa: B017 - the engine's own error for a closed database
        await reads.status_and_tokens(ids[0])
