"""The run's fetch step: bring every due challenge's values up to date (`Collector`).

`need_of` says which days one challenge needs fetched: every day through the last one scored
that is not frozen yet (or is to be backfilled); `bot.daily.baselines` adds the fortnight
before the start for the players whose baseline is not fetched yet and works each one out as
the answers come in (`BaselineWatch`).
`Collector.collect` fetches what all due challenges need at once (`bot.daily.fetch`: one job
per linked account, on a bounded pool), stores the values while the fetch goes on
(`bot.daily.writer`: a batch of accounts at a time, each batch in one transaction with the
accounts marked synced), then the baselines, and hands each challenge its players' new values
for the fair-play review;
`Collector.collect_baselines` fetches just the baselines (a player who just joined). A job
the live sync already did (`bot.daily.fetch.covered_by_push`) is not fetched again: the values
it stored are what gets scored and frozen (never for a player whose baseline or backfill is due).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from bot.challenges.model import Challenge
from bot.daily.baselines import (
    BaselineTarget,
    BaselineWatch,
    baseline_need_of,
    own_baselines,
)
from bot.daily.calendar import days_between
from bot.daily.fetch import (
    ChallengeNeed,
    FetchJob,
    FetchOutcome,
    TokenCall,
    covered_by_push,
    fetch_all,
    plan_fetches,
)
from bot.daily.once import SharedFetch
from bot.daily.plan import Work
from bot.daily.report import RunReport
from bot.daily.source import ChallengeSource
from bot.daily.writer import ValueWriter
from bot.domain import DailyValue, Metric
from bot.metrics import Metrics
from bot.providers.base import Provider
from bot.storage.values import FetchedValue, ValuesRepo

log = logging.getLogger(__name__)

ReviewedValue = tuple[int, Metric | str, dt.date, float]  # player, metric, day, value
REVIEW_PLAYERS = 20_000  # players' new values per fair-play review call


def need_of(item: Work) -> ChallengeNeed | None:
    """The days to fetch for one challenge's work; None when it has nothing to fetch."""
    days = [
        day
        for day in days_between(item.challenge.start, min(item.through, item.challenge.end))
        if item.to_score(day)
    ]
    if not days:
        return None
    return ChallengeNeed(
        challenge_id=item.challenge.id,
        players=frozenset(p.discord_id for p in item.participants),
        metric=item.challenge.metric,
        first=days[0],
        last=days[-1],
        include_manual=item.challenge.allow_manual,
    )


def values_by_player(outcomes: Sequence[FetchOutcome]) -> dict[int, list[ReviewedValue]]:
    """Every new value, by the player it belongs to."""
    by_player: dict[int, list[ReviewedValue]] = {}
    for outcome in outcomes:
        player = outcome.job.account.discord_id
        by_player.setdefault(player, []).extend(
            [(player, v.metric, v.day, v.value) for v in outcome.values]
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
        shared: SharedFetch,
    ) -> None:
        self._shared = shared
        self._challenges = challenges
        self._values = values
        self._providers = providers
        self._call_with_token = call_with_token
        self._concurrency = concurrency
        self._metrics = metrics

    async def collect(self, work: Sequence[Work], now: dt.datetime, report: RunReport) -> None:
        """Fetch and store what the work needs (baselines due included); review new values."""
        targets = [(item.challenge, item.baseline_due) for item in work]
        needs = [need_of(item) for item in work]
        needs += [baseline_need_of(challenge, players) for challenge, players in targets]
        # Final days a backfill scores again were never fetched live: always fetched.
        backfilled = {p.discord_id for i in work if i.backfill_from for p in i.participants}
        # The review looks at the challenges' own days only: the rest (the baseline fortnight)
        # is let go once stored, which keeps a large run's memory down.
        days = (min(i.challenge.start for i in work), max(i.challenge.end for i in work))
        outcomes = await self._fetch_and_store(needs, targets, now, report, backfilled, days)
        if outcomes:
            with report.timed("review"):
                await self._review(work, outcomes)

    async def collect_baselines(
        self, challenge: Challenge, players: frozenset[int], now: dt.datetime, report: RunReport
    ) -> None:
        """Fetch and keep these players' baselines in the challenge (and nothing else)."""
        need = baseline_need_of(challenge, players)
        await self._fetch_and_store([need], [(challenge, players)], now, report)

    async def _fetch_and_store(
        self,
        needs: Sequence[ChallengeNeed | None],
        targets: Sequence[BaselineTarget],
        now: dt.datetime,
        report: RunReport,
        backfilled: Collection[int] = (),
        keep: tuple[dt.date, dt.date] | None = None,
    ) -> list[FetchOutcome]:
        """Fetch and store what the needs ask for; the outcomes, with the values of the days
        in `keep` only when it is given."""
        wanted = [need for need in needs if need is not None]
        if not wanted:
            return []
        accounts = await self._values.challenge_accounts(need.challenge_id for need in wanted)
        sent = {target.id: await self._sent_history(target, due) for target, due in targets}
        pinned = {player for _, players in targets for player in players} | set(backfilled)
        jobs = await self._not_pushed(plan_fetches(wanted, accounts, self._providers), pinned)
        rules = self._challenges.rules
        watch = BaselineWatch(
            targets=targets, rules=rules, providers=self._providers, sent=sent, jobs=jobs, keep=keep
        )
        fetched: list[FetchOutcome] = []

        async def fetch(some: Sequence[FetchJob]) -> list[FetchOutcome]:
            outcomes = await self._fetch_storing(some, now, report, watch)
            fetched.extend(outcomes)
            return outcomes

        async def store(
            new: Sequence[FetchOutcome], seen: Sequence[FetchOutcome], waiting: frozenset[int]
        ) -> None:
            """The baselines: those the watch worked out, and those of the players it could
            not (no account fetched here; `seen` has their outcomes whole)."""
            baselines = watch.take_rows()
            for challenge, players in targets:
                if left := players - waiting - watch.done:
                    baselines += own_baselines(
                        challenge, rules(challenge), left, seen, self._providers, sent[challenge.id]
                    )
            with report.timed("store"):
                await self._values.store_baselines(baselines, now)

        # Each account once across the processes running together (`bot.daily.once`).
        outcomes = await self._shared.run(jobs, fetch, store)
        self._count(fetched, report)
        return [watch.lean(outcome) for outcome in outcomes]

    async def _fetch_storing(
        self, jobs: Sequence[FetchJob], now: dt.datetime, report: RunReport, watch: BaselineWatch
    ) -> list[FetchOutcome]:
        """Fetch the jobs and store their values as they come (`ValueWriter`); what is kept of
        each is what the watch gives back."""

        def each(outcome: FetchOutcome) -> FetchOutcome:
            writer.add(outcome)
            return watch.take(outcome)

        async with ValueWriter(lambda done: self._store(done, now)) as writer:
            with report.timed("fetch"):
                outcomes = await fetch_all(
                    jobs,
                    self._providers,
                    self._call_with_token,
                    concurrency=self._concurrency,
                    each=each,
                )
            with report.timed("store"):  # what is left to write after the last answer
                await writer.flush()
        return outcomes

    async def _sent_history(
        self, challenge: Challenge, players: frozenset[int]
    ) -> dict[int, list[DailyValue]]:
        """What these players' devices sent by themselves (providers never fetched from,
        Apple Health) for the fortnight before the challenge's start, from storage."""
        sent: defaultdict[int, list[DailyValue]] = defaultdict(list)
        need = baseline_need_of(challenge, players)
        for name, provider in sorted(self._providers.items()):
            if need is None or provider.info.fetches or need.metric not in provider.info.metrics:
                continue
            found = await self._values.provider_values(
                players, name, need.metric, need.first, need.last
            )
            for player, values in found.items():
                sent[player].extend(values)
        return dict(sent)

    async def _not_pushed(
        self, jobs: Sequence[FetchJob], pinned: Collection[int]
    ) -> list[FetchJob]:
        """The jobs minus those the live sync already did (`covered_by_push`); the jobs of
        `pinned` players (a baseline due, a backfill) are always kept: they need this fetch."""
        queued = await self._values.queued_accounts(job.account.id for job in jobs)
        kept = []
        for job in jobs:
            provider = self._providers[job.account.provider]
            if job.account.discord_id in pinned or not covered_by_push(job, provider, queued):
                kept.append(job)
            else:
                log.debug("account %d: synced by push since its last day", job.account.id)
        return kept

    async def _store(self, outcomes: Sequence[FetchOutcome], now: dt.datetime) -> None:
        values = (  # a generator: stored in batches, never all in a list at once
            FetchedValue(outcome.job.account.discord_id, outcome.job.account.provider, value)
            for outcome in outcomes
            for value in outcome.values
        )
        synced = [o.job.account.id for o in outcomes if o.failure is None]
        await self._values.store_fetched(values, synced, now)

    async def _review(self, work: Sequence[Work], outcomes: Sequence[FetchOutcome]) -> None:
        """Hand each challenge its players' new values of its own days for the fair-play
        checks (they look at no other day: the baseline fortnight's values are left out here,
        which keeps a large run's memory down)."""
        by_player: defaultdict[int, list[FetchOutcome]] = defaultdict(list)
        for outcome in outcomes:
            by_player[outcome.job.account.discord_id].append(outcome)
        for item in work:
            first, last = item.challenge.start, item.challenge.end
            players = item.participants
            # A part of the players at a time: the review reads their history (weeks of values
            # each), and a challenge of 100,000 players must not hold all of it at once.
            for at in range(0, len(players), REVIEW_PLAYERS):
                values = [
                    (p.discord_id, v.metric, v.day, v.value)
                    for p in players[at : at + REVIEW_PLAYERS]
                    for outcome in by_player.get(p.discord_id, ())
                    for v in outcome.values
                    if first <= v.day <= last
                ]
                if values and not await self._reviewed(item.challenge.id, values):
                    break

    async def _reviewed(self, challenge_id: int, values: Sequence[ReviewedValue]) -> bool:
        """Review some new values of a challenge; False when the review failed."""
        try:
            await self._challenges.review_new_values(challenge_id, values)
        except Exception:
            # Flags are advice for the admins; scoring and posting go on without them.
            log.exception("fair-play review of challenge %d failed", challenge_id)
            return False
        return True

    def _count(self, outcomes: Sequence[FetchOutcome], report: RunReport) -> None:
        """Fetches and their failures, in the report and the metrics."""
        report.accounts_fetched += len(outcomes)
        for outcome in outcomes:
            if outcome.failure is not None:
                report.fetch_failures[outcome.failure] += 1
            if self._metrics is not None:
                label = "ok" if outcome.failure is None else outcome.failure.value
                self._metrics.provider_requests.labels(outcome.job.account.provider, label).inc()
