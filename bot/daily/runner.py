"""The daily run's orchestrator (`DailyRunner`): idempotent, and catching up.

One scheduler job per challenge fires at its post time in its time zone, a one-shot job at
its next grace end (re-armed after it ran: that is the instant a day becomes final, and the
day is fetched one last time and frozen then, posted or not), and an hourly sweep. Every job
does the same thing: `run_due()`, which looks at the clock and the run records and handles
every challenge that has work, together. So a job fired late, twice, by hand or after
downtime does the right thing, and two challenges posting at the same minute fetch their
shared players once. When Stride was down at a grace end, the first run after it freezes the
day from that run's fetch: without the providers' sync times nothing better is possible.

A run plans (`bot.daily.plan`), fetches every due challenge's values at once
(`bot.daily.collect`), then scores (`bot.daily.score`) and posts (`bot.daily.post`) each
challenge in turn; one challenge's failure never stops the others. The runner also keeps the
jobs in step with the challenges (created, edited, ended), posts the results of a
challenge an admin ends early and fetches the baseline of a player who just joined. With a
`RecapService`, a challenge in "weekly only" mode has its days recorded without a post, and
after the posts every weekly recap due is posted (`bot.daily.recap`), under the challenge's
post claim as its daily posts are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from functools import partial
from typing import Any

from bot.challenges.model import Challenge, ChallengeStatus
from bot.clock import Clock
from bot.daily.calendar import calendar_of
from bot.daily.collect import Collector
from bot.daily.fetch import TokenCall
from bot.daily.once import PostClaims, ShardSource, SharedFetch
from bot.daily.plan import Planner, Work
from bot.daily.post import ChartRenderer, Poster
from bot.daily.recap import RecapService, recap_day_due
from bot.daily.report import RunReport
from bot.daily.score import Scorer
from bot.daily.source import ChallengeSource
from bot.daily.standings import StandingsReader
from bot.events import EventBus
from bot.metrics import Metrics
from bot.notify import Messenger
from bot.providers.base import Provider
from bot.render.chart import render_cumulative_chart
from bot.scheduling import JobScheduler
from bot.shards import Shards
from bot.storage.claims import ClaimsRepo, default_owner
from bot.storage.db import Database
from bot.storage.runs import RunKind, RunsRepo
from bot.storage.values import ValuesRepo

log = logging.getLogger(__name__)

JOB_PREFIX = "daily-run:"
FINAL_JOB_PREFIX = "daily-final:"
# An hourly safety net beside the per-challenge jobs: APScheduler skips a post time that does
# not exist on a DST day (00:00 in America/Santiago on 2026-09-06, say), and a run whose shared
# fetch failed is retried within the hour instead of a day later. `run_due` decides from the
# clock and the run records, so an extra run posts nothing early and nothing twice.
SWEEP_JOB_ID = "daily-run-sweep"
SWEEP_SECONDS = 3600


class DailyRunner:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        standings: StandingsReader,
        call_with_token: TokenCall,
        providers: Mapping[str, Provider],
        events: EventBus,
        messenger: Messenger,
        concurrency: int,
        scheduler: JobScheduler | None = None,
        metrics: Metrics | None = None,
        render_chart: ChartRenderer = render_cumulative_chart,
        recaps: RecapService | None = None,
        shards: Shards | None = None,
        claims: ClaimsRepo | None = None,
    ) -> None:
        # Several processes on one database (`bot.daily.once`): this one's shards only, and
        # each challenge's posts and each account's fetch claimed (`claims`: whose process).
        challenges = ShardSource(challenges, shards or Shards())
        claims = claims or ClaimsRepo(db, default_owner())
        self._post_claims = PostClaims(claims, clock)
        self._clock = clock
        self._challenges = challenges
        self._scheduler = scheduler
        self._recaps = recaps  # weekly recaps, and the "weekly only" mode
        self._metrics = metrics
        values, runs = ValuesRepo(db), RunsRepo(db)
        self._planner = Planner(challenges=challenges, values=values, runs=runs)
        self._collector = Collector(
            challenges=challenges,
            values=values,
            providers=providers,
            call_with_token=call_with_token,
            concurrency=concurrency,
            metrics=metrics,
            shared=SharedFetch(db=db, claims=claims, clock=clock),
        )
        self._scorer = Scorer(
            db=db, clock=clock, challenges=challenges, standings=standings, events=events,
            values=values, runs=runs,
        )  # fmt: skip
        self._poster = Poster(
            db=db,
            clock=clock,
            standings=standings,
            messenger=messenger,
            runs=runs,
            render_chart=render_chart,
            claims=self._post_claims,
        )
        # One run at a time: jobs of challenges with the same post time fire together, and
        # the second finds nothing left to do.
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[RunReport]] = set()

    # -- scheduling --------------------------------------------------------------------

    @staticmethod
    def job_id(challenge_id: int) -> str:
        return f"{JOB_PREFIX}{challenge_id}"

    @staticmethod
    def final_job_id(challenge_id: int) -> str:
        return f"{FINAL_JOB_PREFIX}{challenge_id}"

    def schedule(self, challenge: Challenge) -> None:
        """The challenge's jobs: at its post time in its time zone, and at its next grace end
        (both replace older ones)."""
        if self._scheduler is None:
            return
        if challenge.status is not ChallengeStatus.ACTIVE:
            self._unschedule(challenge.id)
            return
        self._scheduler.add_daily(
            self.job_id(challenge.id), self._run_job, at=challenge.post_time, tz=challenge.zone
        )
        self._arm_final_job(challenge)

    def _arm_final_job(self, challenge: Challenge) -> None:
        """The one-shot job at the challenge's next grace end; none once its last day is final
        (the same instant again changes nothing, `JobScheduler.add_at`)."""
        if self._scheduler is None:
            return
        job_id = self.final_job_id(challenge.id)
        at = calendar_of(challenge).next_final_at(self._clock.now())
        if at is None:
            self._scheduler.remove(job_id)
        else:
            self._scheduler.add_at(job_id, partial(self._final_job, challenge.id), at=at)

    def _unschedule(self, challenge_id: int) -> None:
        if self._scheduler is not None:
            self._scheduler.remove(self.job_id(challenge_id))
            self._scheduler.remove(self.final_job_id(challenge_id))

    async def _run_job(self) -> None:
        await self.run_due()

    async def _final_job(self, challenge_id: int) -> None:
        """At a grace end: the run fetches the day that just became final once more and
        freezes it (a day becoming final is no post); then the job waits for the next one."""
        try:
            await self.run_due()
        finally:
            challenge = await self._challenges.get(challenge_id)
            if challenge is not None and challenge.status is ChallengeStatus.ACTIVE:
                self._arm_final_job(challenge)

    def subscribe(self, events: EventBus) -> None:
        """Keep the jobs in step with the challenges, post results on an early end, and fetch
        the baseline of a player who joins."""
        events.on("challenge_changed", self._on_changed)
        events.on("challenge_ended", self._on_ended)
        events.on("participant_joined", self._on_joined)

    async def _on_changed(self, challenge_id: int) -> None:
        challenge = await self._challenges.get(challenge_id)
        if challenge is None:
            self._unschedule(challenge_id)
        else:
            self.schedule(challenge)

    async def _on_ended(self, challenge_id: int) -> None:
        self._unschedule(challenge_id)
        # In a task of its own: the results need provider calls and a post, which must not
        # hold up (or be undone by) whatever ended the challenge.
        self._in_background(self.close_early(challenge_id), name=f"results-{challenge_id}")

    async def _on_joined(self, challenge_id: int, discord_id: int) -> None:
        # In a task of its own: /join answers at once, and the fetch follows.
        self._in_background(
            self.fetch_baselines(challenge_id), name=f"baseline-{challenge_id}-{discord_id}"
        )

    def _in_background(self, work: Coroutine[Any, Any, RunReport], *, name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> RunReport:
        """At start-up: a job for every active challenge, then catch up on what was missed."""
        for challenge in await self._challenges.active_challenges():
            self.schedule(challenge)
        if self._scheduler is not None:
            self._scheduler.add_interval(SWEEP_JOB_ID, self._run_job, seconds=SWEEP_SECONDS)
        return await self.run_due()

    async def wait_background(self) -> None:
        """Wait for the results posts and baseline fetches started by events (tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel results posts and baseline fetches still running (a run commits all of a
        day or none of it)."""
        for task in list(self._background):
            task.cancel()
        await self.wait_background()

    # -- the run -----------------------------------------------------------------------

    async def run_due(self) -> RunReport:
        """Handle every active challenge that has work at the clock's current instant."""
        async with self._lock:
            started = time.perf_counter()
            now = self._clock.now()
            work = await self._planner.due(now)
            report = await self._process(work, now)
            if self._recaps is not None:  # after the daily posts: a recap follows its day's
                report.recaps.update(await self._post_recaps(self._recaps, now))
            if self._metrics is not None and work:
                self._metrics.daily_run_seconds.observe(time.perf_counter() - started)
            return report

    async def _post_recaps(self, recaps: RecapService, now: dt.datetime) -> dict[int, int]:
        """The weekly recaps due now, each under its challenge's post claim, as its daily
        posts: a challenge another process is posting gets its recap from that process."""
        posted: dict[int, int] = {}
        for challenge in await self._challenges.active_challenges():
            if challenge.days <= 7:
                continue  # no recaps (`recap_day_due`): no settings to read
            settings = await recaps.settings(challenge.id)
            if recap_day_due(challenge, settings.recap_day, now) is None:
                continue
            if not await self._post_claims.hold(challenge.id):
                log.info("challenge %d: another process is posting its recap", challenge.id)
                continue
            posted.update(
                await recaps.post_due([challenge], still_ours=self._post_claims.still_ours)
            )
            # Not in a `finally`: a process that dies here keeps the claim until its lease ends.
            await self._post_claims.done(challenge.id)
        return posted

    async def close_early(self, challenge_id: int) -> RunReport:
        """Score what was played of a challenge an admin ended early, and post its results."""
        # Its results come from this run only: wait while another process posts it.
        if not await self._post_claims.wait_until_free(challenge_id):
            log.error("challenge %d: held by another process; results not posted", challenge_id)
            return RunReport()
        async with self._lock:
            now = self._clock.now()
            challenge = await self._challenges.get(challenge_id)
            if challenge is None:
                return RunReport()  # deleted: nothing to post
            item = await self._planner.plan(challenge, now, ended_early=True)
            return await self._process([item] if item is not None else [], now)

    async def fetch_baselines(self, challenge_id: int) -> RunReport:
        """Fetch the baselines of the challenge's players who have none yet (one who just
        joined), once it has started: before that, the fortnight is not over, and the first
        run after the start fetches them."""
        async with self._lock:
            now = self._clock.now()
            report = RunReport()
            challenge = await self._challenges.get(challenge_id)
            if challenge is None or challenge.status is not ChallengeStatus.ACTIVE:
                return report
            players = await self._planner.baselines_due(challenge, now)
            if players:
                await self._collector.collect_baselines(challenge, players, now, report)
            return report

    async def _process(self, work: Sequence[Work], now: dt.datetime) -> RunReport:
        work = await self._post_claims.take(work)  # another process may be doing some of it
        report = RunReport(challenges=[item.challenge.id for item in work])
        scoring = [item for item in work if item.scores]
        if scoring:
            await self._collector.collect(scoring, now, report)
        for item in work:
            # One challenge's failure (a bug, a bad configuration) never stops the others.
            try:
                await self._score_and_post(item, now, report)
            except Exception as exc:
                log.exception("daily run of challenge %d failed", item.challenge.id)
                report.errors[item.challenge.id] = type(exc).__name__
            # Not in a `finally`: a process that dies here keeps the claim until its lease ends.
            await self._post_claims.done(item.challenge.id)
        log.info(
            "daily run: %d challenge(s), %d account(s) fetched, %d failed, %d post(s)",
            len(work),
            report.accounts_fetched,
            sum(report.fetch_failures.values()),
            len(report.posts),
        )
        return report

    async def _score_and_post(self, item: Work, now: dt.datetime, report: RunReport) -> None:
        with report.timed("score"):
            board = await self._scorer.score(item, now, report) if item.scores else None
        with report.timed("post"):
            if self._recaps is not None:
                await self._recaps.skip_daily_posts(item.challenge)  # "weekly only"
            posted = await self._poster.post(item, report, board)
            if posted is RunKind.RESULTS:
                await self._challenges.finish(item.challenge.id)  # closed: no more runs
                self._unschedule(item.challenge.id)
            elif item.challenge.status is ChallengeStatus.ACTIVE and not item.ended_early:
                self._arm_final_job(item.challenge)  # past a grace end that was not fired
