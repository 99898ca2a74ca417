"""The run's fetch step: bring every due challenge's values up to date (`Collector`).

`need_of` says what one challenge needs fetched: every day through the last one scored that
is not final yet (or is to be backfilled), plus the baseline fortnight before the start while
the first day is fetched. `Collector.collect` fetches what all due challenges need at once
(`bot.daily.fetch`: one job per linked account, on a bounded pool), stores the values in one
transaction and hands each challenge its players' new values for the fair-play review.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

from bot.daily.calendar import days_between
from bot.daily.fetch import ChallengeNeed, FetchOutcome, TokenCall, fetch_all, plan_fetches
from bot.daily.plan import Work
from bot.daily.report import RunReport
from bot.daily.source import ChallengeSource
from bot.domain import Metric
from bot.metrics import Metrics
from bot.providers.base import Provider
from bot.scoring import BASELINE_DAYS
from bot.storage.values import FetchedValue, ValuesRepo

log = logging.getLogger(__name__)

ReviewedValue = tuple[int, Metric | str, dt.date, float]  # player, metric, day, value


def need_of(item: Work) -> ChallengeNeed | None:
    """The dates to fetch for one challenge's work; None when it has nothing to fetch."""
    days = [
        day
        for day in days_between(item.challenge.start, min(item.through, item.challenge.end))
        if item.to_score(day)
    ]
    if not days:
        return None
    first = days[0]
    if first == item.challenge.start:
        first -= dt.timedelta(days=BASELINE_DAYS)
    return ChallengeNeed(
        challenge_id=item.challenge.id,
        players=frozenset(p.discord_id for p in item.participants),
        metric=item.challenge.metric,
        first=first,
        last=days[-1],
        include_manual=item.challenge.allow_manual,
    )


def values_by_player(outcomes: Sequence[FetchOutcome]) -> dict[int, list[ReviewedValue]]:
    """Every new value, by the player it belongs to."""
    by_player: dict[int, list[ReviewedValue]] = {}
    for outcome in outcomes:
        player = outcome.job.account.discord_id
        by_player.setdefault(player, []).extend(
            (player, v.metric, v.day, v.value) for v in outcome.values
        )
    return by_player


class Collector:
    """Fetches, stores and reviews the new values of the challenges a run scores."""

    def __init__(
        self,
        *,
        challenges: ChallengeSource,
        values: ValuesRepo,
        providers: Mapping[str, Provider],
        call_with_token: TokenCall,
        concurrency: int,
        metrics: Metrics | None,
    ) -> None:
        self._challenges = challenges
        self._values = values
        self._providers = providers
        self._call_with_token = call_with_token
        self._concurrency = concurrency
        self._metrics = metrics

    async def collect(self, work: Sequence[Work], now: dt.datetime, report: RunReport) -> None:
        needs = [need for need in map(need_of, work) if need is not None]
        if not needs:
            return
        accounts = await self._values.challenge_accounts(need.challenge_id for need in needs)
        jobs = plan_fetches(needs, accounts, self._providers)
        with report.timed("fetch"):
            outcomes = await fetch_all(
                jobs, self._providers, self._call_with_token, concurrency=self._concurrency
            )
        with report.timed("store"):
            await self._store(outcomes, now)
        with report.timed("review"):
            await self._review(work, outcomes)
        self._count(outcomes, report)

    async def _store(self, outcomes: Sequence[FetchOutcome], now: dt.datetime) -> None:
        values = [
            FetchedValue(outcome.job.account.discord_id, outcome.job.account.provider, value)
            for outcome in outcomes
            for value in outcome.values
        ]
        synced = [o.job.account.id for o in outcomes if o.failure is None]
        await self._values.store_fetched(values, synced, now)

    async def _review(self, work: Sequence[Work], outcomes: Sequence[FetchOutcome]) -> None:
        """Hand each challenge its players' new values for the fair-play checks."""
        by_player = values_by_player(outcomes)
        for item in work:
            values = [v for p in item.participants for v in by_player.get(p.discord_id, ())]
            if not values:
                continue
            try:
                await self._challenges.review_new_values(item.challenge.id, values)
            except Exception:
                # Flags are advice for the admins; scoring and posting go on without them.
                log.exception("fair-play review of challenge %d failed", item.challenge.id)

    def _count(self, outcomes: Sequence[FetchOutcome], report: RunReport) -> None:
        """Fetches and their failures, in the report and the metrics."""
        report.accounts_fetched += len(outcomes)
        for outcome in outcomes:
            if outcome.failure is not None:
                report.fetch_failures[outcome.failure] += 1
            if self._metrics is not None:
                label = "ok" if outcome.failure is None else outcome.failure.value
                self._metrics.provider_requests.labels(outcome.job.account.provider, label).inc()
