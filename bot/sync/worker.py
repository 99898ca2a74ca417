"""One live fetch: what a leased account needs, fetching it, and recording how it went.

`SyncWorker.plan` decides, for a batch of leased accounts, what each one is fetched for: the
days of its owner's active challenges that are neither frozen nor final by the clock, through
today (the daily run's own `need_of` and `plan_fetches`, so a live fetch asks for exactly what
the daily run would, today included). `SyncWorker.sync` fetches one account with the daily run's
`fetch_one` (the token manager's `call_with_token`, the provider's rate limiter and its
retries) and records the outcome: values stored and the queue row finished in one
transaction, written together with other workers' (`GroupCommit`); a failed fetch waits for
its `Backoff`. Then, off the fetch's path, new values go to the fair-play review of each
challenge, and `member_synced(discord_id)` is emitted for each member whose values were
stored (what reacts to a sync, the nudges, listens to it).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.challenges.model import Challenge, ChallengeStatus, Participant
from bot.clock import Clock
from bot.daily.calendar import calendar_of, days_between
from bot.daily.collect import ReviewedValue, need_of, values_by_player
from bot.daily.fetch import (
    ChallengeNeed,
    FetchFailure,
    FetchJob,
    FetchOutcome,
    TokenCall,
    fetch_one,
    plan_fetches,
)
from bot.daily.plan import Work
from bot.daily.source import ChallengeSource
from bot.events import EventBus
from bot.metrics import Metrics
from bot.providers.base import Provider
from bot.storage.db import Database
from bot.storage.sync import QueueEntry, Retry, SyncRepo
from bot.storage.values import FetchedValue, PlayerAccount, ValuesRepo
from bot.sync.batch import GroupCommit

log = logging.getLogger(__name__)

# A provider that did not answer (or a bug) is tried again after these waits; after the last
# one the row goes, and the next notification, poll or daily run fetches the account.
RETRYABLE = frozenset({FetchFailure.UNAVAILABLE, FetchFailure.UNEXPECTED})
# What follows stored fetches (reviews, events) waits this long to gather: in a storm it is a
# few big batches, and the database serves the fetches and the interactions first.
AFTER_STORE_LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between failed fetches of one account: doubling from `first` up to `longest`."""

    first: dt.timedelta = dt.timedelta(seconds=30)
    longest: dt.timedelta = dt.timedelta(minutes=30)
    attempts: int = 6  # fetches in all, the first included

    def after(self, failures: int) -> dt.timedelta | None:
        """The wait after the `failures`-th failed fetch in a row; None: give up."""
        if failures >= self.attempts:
            return None
        return min(self.longest, self.first * int(2 ** (failures - 1)))


class SyncStatus(StrEnum):
    SYNCED = "synced"  # fetched and stored
    NOTHING_TO_FETCH = "nothing_to_fetch"  # no active challenge needs this account's data now
    RETRYING = "retrying"  # the provider did not answer: fetched again at `retry_at`
    FAILED = "failed"  # needs a re-link, or an answer we could not use: not tried again


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    account_id: int
    status: SyncStatus
    failure: FetchFailure | None = None
    retry_at: dt.datetime | None = None


@dataclass(slots=True)
class LivePlan:
    """What each leased account is fetched for (no job: nothing to fetch)."""

    jobs: dict[int, FetchJob] = field(default_factory=dict)  # by account id
    challenges_of: dict[int, set[int]] = field(default_factory=dict)  # by player

    def job_for(self, account_id: int) -> FetchJob | None:
        return self.jobs.get(account_id)


@dataclass(frozen=True, slots=True)
class _Finished:
    entry: QueueEntry
    fetched: FetchOutcome | None  # None: nothing was fetched


def closed_days(challenge: Challenge, frozen: set[dt.date], now: dt.datetime) -> set[dt.date]:
    """The challenge's days no live write may change at `now` (a live fetch, a phone's
    upload): those frozen in storage (`frozen`) and those final by the clock, even before the
    daily run freezes them; every day of a challenge that has ended."""
    if challenge.status is ChallengeStatus.ENDED:
        return set(days_between(challenge.start, challenge.end))
    final_by_clock = calendar_of(challenge).last_final_day(now)
    if final_by_clock is None:
        return set(frozen)
    return frozen | set(days_between(challenge.start, final_by_clock))


def live_work(
    challenge: Challenge,
    players: Sequence[Participant],
    final_days: set[dt.date],
    now: dt.datetime,
) -> Work | None:
    """The work of a live fetch for some of a challenge's players: every day not final yet,
    through today (in the challenge's time zone); None before the challenge starts. A day
    final by the clock counts as final even before the daily run freezes it in storage
    (`closed_days`), so a live fetch never writes a value after a day's grace end."""
    calendar = calendar_of(challenge)
    today = min(calendar.local_date(now), challenge.end)
    if today < challenge.start:
        return None
    return Work(
        challenge=challenge,
        calendar=calendar,
        participants=list(players),
        new_days=[today],
        results=False,
        ended_early=False,
        final_days=closed_days(challenge, final_days, now),
    )


def outcome_of(
    entry: QueueEntry, fetched: FetchOutcome | None, now: dt.datetime, backoff: Backoff
) -> SyncOutcome:
    """How a leased fetch ended, and whether it is tried again."""
    if fetched is None:
        return SyncOutcome(entry.account_id, SyncStatus.NOTHING_TO_FETCH)
    if fetched.failure is None:
        return SyncOutcome(entry.account_id, SyncStatus.SYNCED)
    wait = backoff.after(entry.attempts + 1) if fetched.failure in RETRYABLE else None
    if wait is None:
        return SyncOutcome(entry.account_id, SyncStatus.FAILED, fetched.failure)
    return SyncOutcome(entry.account_id, SyncStatus.RETRYING, fetched.failure, now + wait)


class SyncWorker:
    """Plans, fetches and records live fetches; the queue decides when (`bot.sync.queue`)."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        providers: Mapping[str, Provider],
        call_with_token: TokenCall,
        backoff: Backoff,
        events: EventBus | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._events = events
        self._clock = clock
        self._challenges = challenges
        self._providers = providers
        self._call_with_token = call_with_token
        self._backoff = backoff
        self._metrics = metrics
        self._repo = SyncRepo(db)
        self._values = ValuesRepo(db)
        self._records = GroupCommit(self._record, name="sync-records")
        self._after: GroupCommit[tuple[frozenset[int], FetchOutcome], None] = GroupCommit(
            self._after_store, name="sync-after-store", linger=AFTER_STORE_LINGER_SECONDS
        )

    async def plan(self, entries: Sequence[QueueEntry], now: dt.datetime) -> LivePlan:
        """What each leased account is fetched for, for the whole batch at once."""
        accounts = await self._repo.player_accounts(entry.account_id for entry in entries)
        by_player: defaultdict[int, list[PlayerAccount]] = defaultdict(list)
        for linked in accounts.values():
            by_player[linked.account.discord_id].append(linked)
        plan = LivePlan()
        needs = []
        playing = await self._repo.active_challenges_of(by_player)
        for challenge_id, players in sorted(playing.items()):
            need = await self._need(challenge_id, players, now)
            if need is not None:
                needs.append(need)
                for player in need.players:
                    plan.challenges_of.setdefault(player, set()).add(challenge_id)
        for job in plan_fetches(needs, by_player, self._providers):
            plan.jobs[job.account.id] = job
        return plan

    async def _need(
        self, challenge_id: int, players: Collection[int], now: dt.datetime
    ) -> ChallengeNeed | None:
        challenge = await self._challenges.get(challenge_id)
        if challenge is None:
            return None
        participants = [
            p for p in await self._challenges.participants(challenge_id) if p.discord_id in players
        ]
        work = live_work(challenge, participants, await self._values.final_days(challenge_id), now)
        return None if work is None else need_of(work)

    async def sync(self, entry: QueueEntry, job: FetchJob | None, plan: LivePlan) -> SyncOutcome:
        """Fetch one leased account (when there is anything to fetch) and record it."""
        fetched = None
        if job is not None:
            provider = self._providers[job.account.provider]
            fetched = await fetch_one(job, provider, self._call_with_token)
            self._count(fetched)
        outcome = await self._records.submit(_Finished(entry, fetched))
        if fetched is not None and fetched.values:
            player = fetched.job.account.discord_id
            self._after.add((frozenset(plan.challenges_of.get(player, ())), fetched))
        return outcome

    async def _record(self, finished: Sequence[_Finished]) -> list[SyncOutcome]:
        """Store what a batch of fetches brought and finish their queue rows, atomically."""
        now = self._clock.now()
        outcomes = [outcome_of(item.entry, item.fetched, now, self._backoff) for item in finished]
        values = [
            FetchedValue(item.fetched.job.account.discord_id, item.fetched.job.account.provider, v)
            for item in finished
            if item.fetched is not None
            for v in item.fetched.values
        ]
        synced = [
            item.entry.account_id
            for item, outcome in zip(finished, outcomes, strict=True)
            if outcome.status is SyncStatus.SYNCED
        ]
        done, retries, dropped = _by_ending(finished, outcomes)
        async with self._db.transaction():
            await self._values.store_fetched(values, synced, now)
            await self._repo.finish(done, now, retries=retries, dropped=dropped)
        return outcomes

    async def _after_store(
        self, items: Sequence[tuple[frozenset[int], FetchOutcome]]
    ) -> list[None]:
        """What follows a batch of stored fetches: the fair-play review, then the events."""
        await self._review(items)
        if self._events is not None:
            for player in sorted({fetched.job.account.discord_id for _, fetched in items}):
                try:
                    await self._events.emit("member_synced", discord_id=player)
                except Exception:
                    log.exception("a member_synced handler failed")
        return [None] * len(items)

    async def _review(self, items: Sequence[tuple[frozenset[int], FetchOutcome]]) -> None:
        """Hand each challenge its players' new values for the fair-play checks."""
        by_challenge: defaultdict[int, list[ReviewedValue]] = defaultdict(list)
        for challenge_ids, fetched in items:
            for values in values_by_player([fetched]).values():
                for challenge_id in challenge_ids:
                    by_challenge[challenge_id].extend(values)
        for challenge_id, values in sorted(by_challenge.items()):
            try:
                await self._challenges.review_new_values(challenge_id, values)
            except Exception:
                # Flags are advice for the admins; the values stay stored and counted.
                log.exception("fair-play review of challenge %d failed", challenge_id)

    def _count(self, fetched: FetchOutcome) -> None:
        if self._metrics is not None:
            label = "ok" if fetched.failure is None else fetched.failure.value
            self._metrics.provider_requests.labels(fetched.job.account.provider, label).inc()

    async def flush(self) -> None:
        """Wait for the records and reviews submitted so far (shutdown)."""
        await self._records.flush()
        await self._after.flush()


def _by_ending(
    finished: Iterable[_Finished], outcomes: Iterable[SyncOutcome]
) -> tuple[list[QueueEntry], list[Retry], list[QueueEntry]]:
    """The rows that are done, those tried again (with when), and those given up."""
    done, retries, dropped = [], [], []
    for item, outcome in zip(finished, outcomes, strict=True):
        if outcome.status is SyncStatus.RETRYING and outcome.retry_at is not None:
            retries.append(Retry(item.entry, outcome.retry_at))
        elif outcome.status is SyncStatus.FAILED:
            dropped.append(item.entry)
        else:
            done.append(item.entry)
    return done, retries, dropped
