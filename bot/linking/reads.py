"""`TokenReads`: the token manager's reads of account status and tokens, made together.

The daily run calls providers for thousands of accounts at once, and every call first reads
its account's status and tokens. One query per call made the database (and, on SQLite, its
thread) the busiest part of a run. Here every read asked for while a query runs waits for the
next one, which serves up to `max_batch` accounts at once (`AccountsRepo.token_rows`).

A read is always answered by a query that started after it was asked for, never by an earlier
one, so it is exactly as fresh as a read of its own: the token manager's refresh rules (a
refreshed pair is committed before use; after waiting for a refresh, the stored tokens are read
again) see what they saw before. A row that cannot be decrypted fails its own read only.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging

from bot.domain import AccountStatus
from bot.providers.base import TokenSet
from bot.storage.accounts import AccountsRepo
from bot.storage.db import Row

log = logging.getLogger(__name__)

Found = tuple[AccountStatus, TokenSet] | None
MAX_BATCH = 500


class TokenReads:
    """Coalesces concurrent status-and-tokens reads into one query per batch."""

    def __init__(self, accounts: AccountsRepo, *, max_batch: int = MAX_BATCH) -> None:
        self._accounts = accounts
        self._max_batch = max_batch
        self._asked: dict[int, list[asyncio.Future[Found]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def status_and_tokens(self, account_id: int) -> Found:
        """The account's status and decrypted tokens; None when it is not linked."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Found] = loop.create_future()
        self._asked.setdefault(account_id, []).append(future)
        if self._reader is None or self._reader.done():
            # A context of its own: the reads never join a caller's transaction.
            self._reader = loop.create_task(self._read_all(), context=contextvars.Context())
        return await future

    async def _read_all(self) -> None:
        """Answer what was asked, one query per batch, until nothing is waiting."""
        while self._asked:
            batch = dict(list(self._asked.items())[: self._max_batch])
            for account_id in batch:
                del self._asked[account_id]
            try:
                rows = await self._accounts.token_rows(list(batch))
            except asyncio.CancelledError:
                for futures in batch.values():
                    for future in futures:
                        future.cancel()
                raise
            except Exception as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for account_id, futures in batch.items():
                self._answer(futures, rows.get(account_id))

    def _answer(self, futures: list[asyncio.Future[Found]], row: Row | None) -> None:
        try:
            found = None if row is None else self._accounts.status_and_tokens_of(row)
        except Exception as exc:  # a token no configured key decrypts: this account only
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future in futures:
            if not future.done():
                future.set_result(found)
