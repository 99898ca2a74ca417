"""Intraday polling for what cannot push (`Poller`): a slice of the accounts every minute.

Every `interval` (POLL_MINUTES) each account that needs polling is fetched once: an active
account of a player in a challenge that is in play (from the start of its first day until its
last day is final), for a metric its provider does not push here (not in the provider's
`ProviderInfo.push_metrics`: Google Fit never pushes, Google Health's subscriptions do not
cover active minutes and calories, and nothing pushes where webhooks are not configured). The
accounts
are spread evenly over the interval by a stable hash of their id: the poll job runs every
minute and queues, into the sync queue, the accounts whose turn falls in that minute, each
due at its own instant. A provider with a published app-wide quota gets a longer cycle when
polling its accounts would take more than `QUOTA_SHARE` of it, so polls leave room for the
daily run, notifications and /sync.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.challenges.model import Challenge
from bot.clock import Clock
from bot.daily.calendar import ONE_DAY, calendar_of
from bot.daily.source import ChallengeSource
from bot.domain import Metric
from bot.providers import google_health, withings
from bot.providers.base import Provider
from bot.storage.db import Database
from bot.storage.sync import SyncRepo
from bot.sync.queue import SyncQueue

log = logging.getLogger(__name__)

POLL_JOB_ID = "sync-poll"
SLICE_SECONDS = 60
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the scheduler's interval anchor too
# The share of a provider's app-wide quota that polling may take.
QUOTA_SHARE = 0.5
# Requests a minute per application, where the provider publishes a limit.
APP_QUOTAS_PER_MINUTE: Mapping[str, int] = {
    "google_health": google_health.APP_LIMIT_PER_MINUTE,
    "withings": withings.APP_LIMIT_PER_MINUTE,
}


def in_play(challenge: Challenge, now: dt.datetime) -> bool:
    """From the start of the first day until the last day is final."""
    calendar = calendar_of(challenge)
    return calendar.day_ends_at(challenge.start - ONE_DAY) <= now < calendar.final_at(challenge.end)


def turn_of(account_id: int) -> float:
    """Where in every cycle the account is polled, in [0, 1): a stable hash of its id."""
    digest = hashlib.blake2b(str(account_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def cycle_minutes(requests: int, interval_minutes: int, quota_per_minute: int | None) -> int:
    """The length of one polling cycle: the interval, or longer when `requests` a cycle would
    take more than `QUOTA_SHARE` of the quota."""
    if quota_per_minute is None:
        return interval_minutes
    needed = math.ceil(requests / (quota_per_minute * QUOTA_SHARE))
    return max(interval_minutes, needed)


@dataclass(frozen=True, slots=True)
class PolledAccount:
    """An account to poll: its provider and the metrics it is polled for."""

    provider: str
    metrics: frozenset[Metric]


def due_in_slice(
    polled: Mapping[int, PolledAccount], slice_start: dt.datetime, interval_minutes: int
) -> dict[int, dt.datetime]:
    """The accounts whose turn falls in the minute from `slice_start`, with their instant."""
    requests: dict[str, int] = {}
    for item in polled.values():
        requests[item.provider] = requests.get(item.provider, 0) + len(item.metrics)
    into = (slice_start - _EPOCH).total_seconds()
    due = {}
    for account_id, item in polled.items():
        cycle = 60.0 * cycle_minutes(
            requests[item.provider], interval_minutes, APP_QUOTAS_PER_MINUTE.get(item.provider)
        )
        offset = (turn_of(account_id) * cycle - into % cycle) % cycle
        if offset < SLICE_SECONDS:
            due[account_id] = slice_start + dt.timedelta(seconds=offset)
    return due


class Poller:
    """The poll job: queues the accounts whose turn is in the current minute."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        providers: Mapping[str, Provider],
        queue: SyncQueue,
        interval_minutes: int,
    ) -> None:
        self._repo = SyncRepo(db)
        self._clock = clock
        self._challenges = challenges
        self._providers = providers
        self._queue = queue
        self._interval = interval_minutes

    async def run(self) -> None:
        """The job: queue the accounts whose turn falls in this minute."""
        now = self._clock.now()
        slice_start = now - dt.timedelta(seconds=(now - _EPOCH).total_seconds() % SLICE_SECONDS)
        due = due_in_slice(await self.polled(now), slice_start, self._interval)
        await self._queue.enqueue(sorted(due), reason="poll", due=due)
        if due:
            log.debug("poll: %d account(s) queued", len(due))

    async def polled(self, now: dt.datetime) -> dict[int, PolledAccount]:
        """Every account that needs polling at `now`, with what it is polled for."""
        playing = {c.id: c for c in await self._challenges.active_challenges() if in_play(c, now)}
        providers: dict[int, str] = {}
        metrics: dict[int, set[Metric]] = {}
        for candidate in await self._repo.poll_candidates():
            challenge = playing.get(candidate.challenge_id)
            provider = self._providers.get(candidate.provider)
            if (
                challenge is None
                or provider is None
                or not provider.info.fetches_metric(challenge.metric)
                or challenge.metric in provider.info.push_metrics
            ):
                continue
            providers[candidate.account_id] = candidate.provider
            metrics.setdefault(candidate.account_id, set()).add(challenge.metric)
        return {
            account_id: PolledAccount(providers[account_id], frozenset(wanted))
            for account_id, wanted in metrics.items()
        }
