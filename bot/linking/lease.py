"""`RefreshLeases`: one Stride process at a time refreshes an account's tokens.

Several Stride processes may share one database (issue 13). A single-use refresh token (Oura's)
spent by two of them at once leaves one with `invalid_grant` and the member wrongly asked to
re-link, so every refresh (and revocation, and a re-link's store) runs under a lease in the
account's row: `hold(account_id)` takes it with one conditional UPDATE (free, run out, or ours
already) and gives it back once the new tokens are committed. A process that finds the lease
held waits (polling the row through the injected `sleep`) until it is given back or runs out,
then goes on; the token manager then re-reads the stored tokens, which the holder has
rotated, instead of spending the old refresh token. A crashed holder's lease runs out after
`duration` by the injected clock.

Within one process the token manager's per-account `asyncio.Lock` is taken first, so only one
coroutine per process ever waits here for an account.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.clock import Clock
from bot.storage.accounts import AccountsRepo

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Longer than any token request can take: the longest token timeout allowed (600 s) plus
# margin, and a retried refresh's four 30-second attempts with backoff.
REFRESH_LEASE = dt.timedelta(minutes=11)
# How often a waiting process looks whether the lease was given back.
POLL_SECONDS = 0.5


def process_owner() -> str:
    """A name for this process's leases: the host, the pid and a random part (two token
    managers in one process, as in the tests, hold leases apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class AccountGone(Exception):
    """The account's row vanished while waiting for its lease (unlinked meanwhile)."""


class RefreshLeases:
    """Leases on account refreshes, held in the `linked_accounts` rows."""

    def __init__(
        self,
        accounts: AccountsRepo,
        clock: Clock,
        *,
        owner: str | None = None,
        duration: dt.timedelta = REFRESH_LEASE,
        sleep: Sleep = asyncio.sleep,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._accounts = accounts
        self._clock = clock
        self.owner = owner or process_owner()
        self._duration = duration
        self._sleep = sleep
        self._poll = poll_seconds

    @contextlib.asynccontextmanager
    async def hold(
        self, account_id: int, *, patience: dt.timedelta | None = None
    ) -> AsyncIterator[None]:
        """Hold the account's lease for the block; waits while another process holds it.

        With `patience`, waits at most that long and then goes on without the lease (a
        member's browser waiting on a link must not wait for a crashed holder's lease to
        run out), and an account that no longer exists is nothing to wait for. Without it,
        raises `AccountGone` when the account no longer exists.
        """
        await self._take(account_id, patience)
        try:
            yield
        finally:
            await self._accounts.release_refresh_lease(account_id, self.owner)

    async def _take(self, account_id: int, patience: dt.timedelta | None) -> None:
        started = self._clock.now()
        waited = False
        while True:
            now = self._clock.now()
            if await self._accounts.take_refresh_lease(
                account_id, self.owner, now, now + self._duration
            ):
                if waited:
                    log.info("took the refresh lease of account %d after waiting", account_id)
                return
            until = await self._accounts.refresh_lease_until(account_id)
            if until is None:
                if not await self._accounts.exists(account_id):
                    if patience is not None:
                        return
                    raise AccountGone(account_id)
                continue  # given back between the two reads: take it now
            if patience is not None and now - started >= patience:
                log.warning("account %d: went on without the refresh lease", account_id)
                return
            if not waited:
                log.info(
                    "account %d: another Stride process is refreshing its tokens; waiting",
                    account_id,
                )
                waited = True
            await self._sleep(self._poll)
