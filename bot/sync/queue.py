"""The durable sync queue (`SyncQueue`): requests in, coalesced per account, fetched by workers.

`request` (a provider's notification, through `bot.sync.requests.SyncRequests`) and `enqueue`
(the poller, `/sync`) write `sync_queue` rows: one per account however many requests, and a
request for an account being fetched marks it for exactly one more fetch. A notification is
due `SETTLE` after the first one, so the several a provider sends for one sync of a watch
are one fetch. Writes go out in group commits (`bot.sync.batch`), so a storm of
notifications is a few transactions, and each caller is answered once its request is
durable.

A dispatcher task leases what is due, at most `concurrency` accounts at a time, plans them
together and fetches each in a task of its own (`bot.sync.worker`); a finished fetch frees a
slot and wakes the dispatcher, and so does every new request. Leases expire (a process that
died), and a starting process takes its own back, so nothing is lost across a restart; a
lease is held until the fetch is recorded, so nothing is fetched twice.

`watch(account_id)` is a future resolved by the next fetch of that account that starts after
the call: what `/sync` and the benchmark wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from bot.clock import Clock
from bot.daily.fetch import TokenCall
from bot.daily.source import ChallengeSource
from bot.events import EventBus
from bot.metrics import Metrics
from bot.providers.base import Provider
from bot.storage.db import Database
from bot.storage.sync import QueueEntry, SyncRepo, SyncRequest
from bot.sync.batch import GroupCommit
from bot.sync.worker import Backoff, LivePlan, SyncOutcome, SyncStatus, SyncWorker

log = logging.getLogger(__name__)

# A fetch outlasting this (every retry of every request, rate-limit waits included) is taken
# for a dead process's, and its account is leased again.
LEASE = dt.timedelta(minutes=15)
# The dispatcher looks at the queue at least this often, for expired leases.
IDLE_SECONDS = 30.0
# When rows are due but none could be leased (a finished fetch not yet off the books).
RECHECK_SECONDS = 0.05
# A notification's fetch waits this long: a provider announces one sync of a watch with a
# notification per data type, and those arriving together are one fetch.
SETTLE = dt.timedelta(milliseconds=300)


def default_owner() -> str:
    """This process's name on its leases: stable across restarts of one host's Stride, so a
    restarted process takes back what it was fetching when it stopped."""
    return socket.gethostname() or "stride"


class SyncQueue:
    """Implements `SyncRequests`; `start()` runs the workers, `aclose()` stops them."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        providers: Mapping[str, Provider],
        call_with_token: TokenCall,
        concurrency: int,
        owner: str | None = None,
        lease: dt.timedelta = LEASE,
        settle: dt.timedelta = SETTLE,
        backoff: Backoff | None = None,
        events: EventBus | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._clock = clock
        self._concurrency = concurrency
        self._owner = owner or default_owner()
        self._lease = lease
        self._settle = settle
        self._repo = SyncRepo(db)
        self._worker = SyncWorker(
            db=db,
            clock=clock,
            challenges=challenges,
            providers=providers,
            call_with_token=call_with_token,
            backoff=backoff or Backoff(),
            events=events,
            metrics=metrics,
        )
        self._requests = GroupCommit(self._write_requests, name="sync-requests")
        self._wake = asyncio.Event()
        self._fetching: dict[int, asyncio.Task[SyncOutcome]] = {}
        self._watchers: defaultdict[int, list[asyncio.Future[SyncOutcome]]] = defaultdict(list)
        self._dispatcher: asyncio.Task[None] | None = None

    # -- requests ----------------------------------------------------------------------

    async def request(self, provider: str, provider_user_id: str, *, reason: str) -> int:
        """Queue the account behind a provider's notification (see `SyncRequests`)."""
        queued = await self._requests.submit(SyncRequest(provider, provider_user_id, reason))
        if queued:
            self._wake.set()
        return queued

    async def _write_requests(self, requests: Sequence[SyncRequest]) -> list[int]:
        now = self._clock.now()
        return await self._repo.request(requests, now, due_at=now + self._settle)

    async def enqueue(
        self,
        account_ids: Iterable[int],
        *,
        reason: str,
        due: Mapping[int, dt.datetime] | None = None,
    ) -> None:
        """Queue these accounts: due now, or each at its time in `due`."""
        now = self._clock.now()
        entries = [(account_id, (due or {}).get(account_id, now)) for account_id in account_ids]
        if entries:
            await self._repo.enqueue(entries, reason=reason, now=now)
            self._wake.set()

    def watch(self, account_id: int) -> asyncio.Future[SyncOutcome]:
        """Resolved with the outcome of the next fetch of `account_id` that starts after
        this call (in this process); cancel it to stop waiting."""
        future: asyncio.Future[SyncOutcome] = asyncio.get_running_loop().create_future()
        self._watchers[account_id].append(future)
        future.add_done_callback(lambda done: self._unwatch(account_id, done))
        return future

    def _unwatch(self, account_id: int, future: asyncio.Future[SyncOutcome]) -> None:
        """Forget a watcher that is done (resolved, or its caller stopped waiting)."""
        watchers = self._watchers.get(account_id)
        if watchers is not None and future in watchers:
            watchers.remove(future)
            if not watchers:
                del self._watchers[account_id]

    # -- the workers -------------------------------------------------------------------

    async def start(self) -> None:
        """Take back this owner's leases, then fetch what is due, and keep doing so."""
        released = await self._repo.release(self._owner)
        if released:
            log.info("sync queue: %d fetch(es) cut short by the last stop, queued again", released)
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="sync-dispatcher")

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Stop leasing, let fetches in flight finish for `grace_seconds` (the rest are cut
        short: their leases are taken back at the next start), and write what is pending."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        running = list(self._fetching.values())
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._requests.flush()
        await self._worker.flush()

    async def run_due(self) -> list[SyncOutcome]:
        """Fetch everything due now and wait for it (tests, the demo); with the dispatcher
        running, only what it has not leased yet."""
        outcomes: list[SyncOutcome] = []
        while started := await self._launch_due():
            outcomes += await asyncio.gather(*started)
        return outcomes

    async def _dispatch(self) -> None:
        while True:
            self._wake.clear()
            try:
                if not await self._launch_due():
                    await self._idle(await self._idle_seconds())
            except Exception:
                log.exception("sync queue: leasing failed; trying again shortly")
                await self._idle(IDLE_SECONDS)

    async def _idle_seconds(self) -> float:
        """How long to wait when nothing was leased: until the next row falls due (or a
        request or a free slot wakes the dispatcher first), at most `IDLE_SECONDS`."""
        if len(self._fetching) >= self._concurrency:
            return IDLE_SECONDS  # a finishing fetch wakes it
        next_due = await self._repo.next_due()
        if next_due is None:
            return IDLE_SECONDS
        wait = (next_due - self._clock.now()).total_seconds()
        return min(IDLE_SECONDS, max(RECHECK_SECONDS, wait))

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _launch_due(self) -> list[asyncio.Task[SyncOutcome]]:
        """Lease what is due into the free slots and start fetching it."""
        free = self._concurrency - len(self._fetching)
        if free <= 0:
            return []
        now = self._clock.now()
        entries = await self._repo.claim(
            self._owner, now, limit=free, lease=self._lease, skip=self._fetching.keys()
        )
        if not entries:
            return []
        plan = await self._worker.plan(entries, now)
        started = []
        for entry in entries:
            covered = self._watchers.pop(entry.account_id, [])
            task = asyncio.create_task(
                self._sync(entry, plan, covered), name=f"sync-{entry.account_id}"
            )
            self._fetching[entry.account_id] = task
            started.append(task)
        return started

    async def _sync(
        self, entry: QueueEntry, plan: LivePlan, covered: list[asyncio.Future[SyncOutcome]]
    ) -> SyncOutcome:
        try:
            outcome = await self._worker.sync(entry, plan.job_for(entry.account_id), plan)
        except Exception:
            # Its lease stays: the row is leased again once the lease expires.
            log.exception("sync queue: syncing account %d failed", entry.account_id)
            outcome = SyncOutcome(entry.account_id, SyncStatus.FAILED)
        finally:
            self._fetching.pop(entry.account_id, None)
            self._wake.set()
        for future in covered:
            if not future.done():
                future.set_result(outcome)
        return outcome

    async def waiting(self) -> int:
        """Accounts in the queue, being fetched or not."""
        return await self._repo.waiting()
