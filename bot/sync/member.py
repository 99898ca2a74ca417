"""`/sync`: a member refreshes their own data now (`MemberSync`), once per cooldown.

`MemberSync.refresh` queues every active account of the member (of an enabled provider
that is fetched from) in the sync queue, ahead of polls, and waits a bounded time for the
fetches to end, so the reply can say what happened; an account whose device sends by itself
(Apple Health) is not queued and is reported as having nothing to fetch. The cooldown is
recorded in the database before anything is queued (`member_syncs`): two /sync at once start
one refresh, and a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.providers.base import Provider
from bot.storage.db import Database
from bot.storage.sync import SyncRepo
from bot.sync.queue import SyncQueue
from bot.sync.worker import SyncOutcome, SyncStatus

# How long /sync waits for the fetches before it answers (the interaction is deferred).
WAIT_SECONDS = 10.0


class RefreshStatus(StrEnum):
    COOLING_DOWN = "cooling_down"  # asked within the cooldown: see `try_again_at`
    NO_ACCOUNTS = "no_accounts"  # no active account with an enabled provider
    DONE = "done"  # every account's fetch ended (see each outcome)
    STILL_RUNNING = "still_running"  # not every fetch ended within the wait; they go on


@dataclass(frozen=True, slots=True)
class AccountRefresh:
    provider: str
    outcome: SyncOutcome | None  # None: still being fetched


@dataclass(frozen=True, slots=True)
class Refresh:
    status: RefreshStatus
    accounts: tuple[AccountRefresh, ...] = ()
    try_again_at: dt.datetime | None = None  # when the member may /sync again


class MemberSync:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        queue: SyncQueue,
        providers: Mapping[str, Provider],
        cooldown: dt.timedelta,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._repo = SyncRepo(db)
        self._clock = clock
        self._queue = queue
        self._providers = providers
        self._cooldown = cooldown
        self._wait_seconds = wait_seconds

    async def refresh(self, discord_id: int) -> Refresh:
        """Fetch the member's accounts now, unless they asked within the cooldown."""
        enabled = [
            (account_id, provider)
            for account_id, provider in await self._repo.member_accounts(discord_id)
            if provider in self._providers
        ]
        if not enabled:
            return Refresh(RefreshStatus.NO_ACCOUNTS)
        # A device that sends by itself (Apple Health) has nothing to fetch: not queued.
        accounts = [item for item in enabled if self._providers[item[1]].info.fetches]
        sent = tuple(
            AccountRefresh(provider, SyncOutcome(account_id, SyncStatus.NOTHING_TO_FETCH))
            for account_id, provider in enabled
            if (account_id, provider) not in accounts
        )
        if not accounts:
            return Refresh(RefreshStatus.DONE, sent)
        now = self._clock.now()
        blocked_until = await self._repo.start_member_sync(discord_id, now, self._cooldown)
        if blocked_until is not None:
            return Refresh(RefreshStatus.COOLING_DOWN, try_again_at=blocked_until)
        watchers = {account_id: self._queue.watch(account_id) for account_id, _ in accounts}
        try:
            await self._queue.enqueue(watchers, reason="member")
            await asyncio.wait(watchers.values(), timeout=self._wait_seconds)
        finally:
            for watcher in watchers.values():
                if not watcher.done():
                    watcher.cancel()  # stops waiting; the fetch goes on
        results = tuple(
            AccountRefresh(provider, _outcome(watchers[account_id]))
            for account_id, provider in accounts
        )
        finished = all(result.outcome is not None for result in results)
        return Refresh(
            RefreshStatus.DONE if finished else RefreshStatus.STILL_RUNNING,
            results + sent,
            try_again_at=now + self._cooldown,
        )


def _outcome(watcher: asyncio.Future[SyncOutcome]) -> SyncOutcome | None:
    return None if watcher.cancelled() else watcher.result()
