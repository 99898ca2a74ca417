"""The daily run: fetch what is new, score, finalise, post. Idempotent and catching up.

One scheduler job per challenge fires at its post time in its time zone, and every job does
the same thing: `run_due()`, which looks at the clock and the run records and handles every
challenge that has work, together. So a job fired late, twice, by hand or after downtime does
the right thing, and two challenges posting at the same minute fetch their shared players once.

For each challenge with work, one run:

1. **Plans** the days whose post is due and that have no run record yet (after downtime,
   several: each is scored once, in order, and one catch-up post covers them).
2. **Fetches** every player's non-final days (plus the baseline fortnight before the start
   until the first day is final), one job per linked account for all due challenges, on a
   bounded pool of workers; values are stored in one transaction.
3. **Scores** with the pure engine. Final days use the values frozen in `daily_scores`, so a
   late sync can change a provisional day but never a final one. Scores, streaks, the run
   records, the finalisation of days past their grace period and the `day_finalised` events
   are written in one transaction: a crash leaves either all of it or none of it.
4. **Posts** every day not yet posted: a daily post for one day, a catch-up post for several,
   the results post once the last day is final. A post that fails is recorded as `failed`
   with an error code and retried at the next run; the ranks shown are kept for the next
   post's rank changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.challenges.model import Challenge, ChallengeStatus, Participant
from bot.challenges.rulebook import ranks_by_streak
from bot.clock import Clock
from bot.daily.calendar import ChallengeCalendar, days_between
from bot.daily.fetch import (
    ChallengeNeed,
    FetchFailure,
    FetchOutcome,
    TokenCall,
    fetch_all,
    plan_fetches,
)
from bot.domain import DailyValue, Metric, ScoringMode
from bot.events import EventBus
from bot.metrics import Metrics
from bot.notify import Attachment, ChannelUnavailable, Messenger, NotConnected
from bot.providers.base import Provider
from bot.render.chart import render_cumulative_chart
from bot.render.leaderboard import (
    EmbedContent,
    render_catch_up_post,
    render_daily_post,
    render_results_post,
)
from bot.scheduling import JobScheduler
from bot.scoring import (
    BASELINE_DAYS,
    ChallengeRules,
    PlayerId,
    PlayerStanding,
    Standings,
    baseline_from_history,
    competition_ranks,
    compute_awards,
    compute_standings,
    cumulative_series,
    scored_days,
    team_standings,
)
from bot.storage.db import Database
from bot.storage.runs import (
    PostedRank,
    RunKind,
    RunOverview,
    RunRecord,
    RunsRepo,
    RunStatus,
)
from bot.storage.values import FetchedValue, ScoreRow, StreakRow, ValuesRepo

log = logging.getLogger(__name__)

ChartRenderer = Callable[
    [Mapping[int, Sequence[tuple[dt.date, float]]], Mapping[int, str], str, str], bytes
]

JOB_PREFIX = "daily-run:"
# An hourly safety net beside the per-challenge jobs: APScheduler skips a post time that does
# not exist on a DST day (00:00 in America/Santiago on 2026-09-06, say), and a run whose shared
# fetch failed is retried within the hour instead of a day later. `run_due` decides from the
# clock and the run records, so an extra run posts nothing early and nothing twice.
SWEEP_JOB_ID = "daily-run-sweep"
SWEEP_SECONDS = 3600
ERROR_CHANNEL_UNAVAILABLE = "channel_unavailable"
ERROR_POST_FAILED = "post_failed"


class ChallengeSource(Protocol):
    """What the daily run needs from `bot.challenges.ChallengeService`."""

    async def active_challenges(self) -> list[Challenge]: ...

    async def get(self, challenge_id: int) -> Challenge | None: ...

    async def participants(self, challenge_id: int) -> list[Participant]: ...

    def rules(self, challenge: Challenge) -> ChallengeRules: ...

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]: ...

    async def review_new_values(
        self, challenge_id: int, values: Sequence[tuple[int, Metric | str, dt.date, float]]
    ) -> Sequence[object]: ...

    async def finish(self, challenge_id: int) -> None: ...


def calendar_of(challenge: Challenge) -> ChallengeCalendar:
    return ChallengeCalendar(
        start=challenge.start,
        end=challenge.end,
        tz=challenge.zone,
        post_time=challenge.post_time,
        grace=dt.timedelta(hours=challenge.grace_hours),
    )


def fallback_name(discord_id: int) -> str:
    """What a player without a stored display name is called: 'Player …1234'."""
    return f"Player …{str(discord_id)[-4:]}"


def rank_by_best_streak(standings: Standings, teams: Mapping[PlayerId, str]) -> Standings:
    """Streak challenges: each player's score is their best streak, and ranks follow it."""
    scores = {p.player_id: float(p.best_streak) for p in standings.players}
    ranks = competition_ranks(scores)
    players = tuple(
        sorted(
            (
                replace(p, score=scores[p.player_id], rank=ranks[p.player_id])
                for p in standings.players
            ),
            key=lambda p: (p.rank, p.player_id),
        )
    )
    teams_ranked = team_standings(standings.rules.team_mode, players, teams)
    return replace(standings, players=players, teams=teams_ranked)


def chart_label(rules: ChallengeRules) -> str:
    metric = rules.metric
    # "Steps", not "Steps (steps)": the unit only when it adds something.
    unit = "" if metric.unit.casefold() == metric.label.casefold() else f" ({metric.unit})"
    match rules.mode:
        case ScoringMode.TOTAL:
            return f"{metric.label}{unit}"
        case ScoringMode.AVERAGE:
            return f"{metric.label}, daily average{unit}"
        case ScoringMode.GOAL_DAYS:
            return "Days the goal was met"
        case ScoringMode.IMPROVEMENT:
            return "% above usual"
        case _:
            return "Points"


@dataclass(frozen=True, slots=True)
class Board:
    """A challenge's standings as of its last scored day, ready to render."""

    challenge: Challenge
    standings: Standings
    names: dict[PlayerId, str]
    day: dt.date | None  # the last scored day; None before the first one is due
    previous_ranks: dict[PlayerId, int] | None  # ranks shown in the last post
    final: bool = False  # the challenge is over and its results are in

    def post(self) -> EmbedContent | None:
        """The results post once the challenge is over, else the daily post of `day`;
        None before the first day is over."""
        if self.day is None:
            return None
        if self.final:
            awards = compute_awards(self.standings)
            return render_results_post(
                self.standings, awards, self.names, challenge_name=self.challenge.name
            )
        return render_daily_post(
            self.standings,
            self.names,
            challenge_name=self.challenge.name,
            day=self.day,
            previous_ranks=self.previous_ranks,
        )


@dataclass(frozen=True, slots=True)
class PlayerSummary:
    """One player's place in one challenge, for `/me`."""

    board: Board
    standing: PlayerStanding


@dataclass(slots=True)
class RunReport:
    """What one `run_due()` did, for logs, the demo and the benchmark."""

    challenges: list[int] = field(default_factory=list)
    days_scored: dict[int, list[dt.date]] = field(default_factory=dict)
    days_finalised: dict[int, list[dt.date]] = field(default_factory=dict)
    posts: dict[int, int] = field(default_factory=dict)  # challenge -> message id
    boards: dict[int, Board] = field(default_factory=dict)  # challenge -> what was posted
    post_kinds: dict[int, RunKind] = field(default_factory=dict)  # daily, catch_up or results
    failed_posts: dict[int, str] = field(default_factory=dict)  # challenge -> error code
    accounts_fetched: int = 0
    fetch_failures: Counter[FetchFailure] = field(default_factory=Counter)
    errors: dict[int, str] = field(default_factory=dict)  # challenge -> what went wrong
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[phase] = self.seconds.get(phase, 0.0) + elapsed


@dataclass(slots=True)
class _Work:
    challenge: Challenge
    calendar: ChallengeCalendar
    participants: list[Participant]
    new_days: list[dt.date]  # due, no run record yet; oldest first
    results: bool  # the results post is due and not yet scored
    ended_early: bool
    final_days: set[dt.date]  # frozen in daily_scores
    # A late joiner counted from the start has no frozen scores on the days that were final
    # before they joined: from this day on, final days are fetched and scored again (for
    # them; the others' frozen scores stay as they are).
    backfill_from: dt.date | None = None

    def to_score(self, day: dt.date) -> bool:
        """Whether `day` is fetched and its scores are written in this run."""
        return day not in self.final_days or (
            self.backfill_from is not None and day >= self.backfill_from
        )

    @property
    def scores(self) -> bool:
        return bool(self.new_days) or self.results

    @property
    def through(self) -> dt.date:
        return self.new_days[-1] if self.new_days else self.last_day

    @property
    def last_day(self) -> dt.date:
        return self.challenge.end

    def is_final(self, day: dt.date, now: dt.datetime) -> bool:
        return self.ended_early or self.calendar.is_final(day, now)


class DailyRunner:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        call_with_token: TokenCall,
        providers: Mapping[str, Provider],
        events: EventBus,
        messenger: Messenger,
        concurrency: int,
        scheduler: JobScheduler | None = None,
        metrics: Metrics | None = None,
        render_chart: ChartRenderer = render_cumulative_chart,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._call_with_token = call_with_token
        self._providers = providers
        self._events = events
        self._messenger = messenger
        self._concurrency = concurrency
        self._scheduler = scheduler
        self._metrics = metrics
        self._render_chart = render_chart
        self._values = ValuesRepo(db)
        self._runs = RunsRepo(db)
        # One run at a time: jobs of challenges with the same post time fire together, and
        # the second finds nothing left to do.
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[RunReport]] = set()

    # -- scheduling --------------------------------------------------------------------

    @staticmethod
    def job_id(challenge_id: int) -> str:
        return f"{JOB_PREFIX}{challenge_id}"

    def schedule(self, challenge: Challenge) -> None:
        """The challenge's job, at its post time in its time zone (replaces an older one)."""
        if self._scheduler is None:
            return
        if challenge.status is not ChallengeStatus.ACTIVE:
            self._unschedule(challenge.id)
            return
        self._scheduler.add_daily(
            self.job_id(challenge.id), self._run_job, at=challenge.post_time, tz=challenge.zone
        )

    def _unschedule(self, challenge_id: int) -> None:
        if self._scheduler is not None:
            self._scheduler.remove(self.job_id(challenge_id))

    async def _run_job(self) -> None:
        await self.run_due()

    def subscribe(self, events: EventBus) -> None:
        """Keep the jobs in step with the challenges, and post results on an early end."""
        events.on("challenge_changed", self._on_changed)
        events.on("challenge_ended", self._on_ended)

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
        task = asyncio.create_task(self.close_early(challenge_id), name=f"results-{challenge_id}")
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
        """Wait for results posts started by `challenge_ended` (tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel results posts still running (a run commits all of a day or none of it)."""
        for task in list(self._background):
            task.cancel()
        await self.wait_background()

    # -- the run -----------------------------------------------------------------------

    async def run_due(self) -> RunReport:
        """Handle every active challenge that has work at the clock's current instant."""
        async with self._lock:
            started = time.perf_counter()
            now = self._clock.now()
            overview = await self._runs.overview()
            challenges = [
                challenge
                for challenge in await self._challenges.active_challenges()
                if _may_have_work(challenge, overview.get(challenge.id), now)
            ]
            # An ended challenge whose results post failed is no longer active, but is owed it.
            active = {challenge.id for challenge in challenges}
            for challenge_id, runs in overview.items():
                owed = runs.post_owed and challenge_id not in active
                ended = await self._challenges.get(challenge_id) if owed else None
                if ended is not None and ended.status is ChallengeStatus.ENDED:
                    challenges.append(ended)
            work = []
            for challenge in challenges:
                item = await self._plan(challenge, now, ended_early=False)
                if item is not None:
                    work.append(item)
            report = await self._process(work, now)
            if self._metrics is not None and work:
                self._metrics.daily_run_seconds.observe(time.perf_counter() - started)
            return report

    async def close_early(self, challenge_id: int) -> RunReport:
        """Score what was played of a challenge an admin ended early, and post its results."""
        async with self._lock:
            now = self._clock.now()
            challenge = await self._challenges.get(challenge_id)
            if challenge is None:
                return RunReport()  # deleted: nothing to post
            item = await self._plan(challenge, now, ended_early=True)
            return await self._process([item] if item is not None else [], now)

    async def _plan(
        self, challenge: Challenge, now: dt.datetime, *, ended_early: bool
    ) -> _Work | None:
        calendar = calendar_of(challenge)
        if ended_early:
            # Days up to yesterday were played; the results come now, all of them final.
            last = min(challenge.end, calendar.local_date(now) - dt.timedelta(days=1))
            if last < challenge.start:
                return None  # ended before its first day was over: no results to post
            challenge = replace(challenge, end=last)
            calendar = calendar_of(challenge)
        records = await self._runs.day_records(challenge.id)
        results_record = await self._runs.results_record(challenge.id)
        if ended_early:
            due, results_due = list(days_between(challenge.start, challenge.end)), True
        elif challenge.status is ChallengeStatus.ENDED:
            due, results_due = [], False  # closed: only posts still owed are sent
        else:
            due, results_due = calendar.due_days(now), calendar.results_due(now)
        new_days = [day for day in due if day not in records]
        results = results_due and results_record is None
        unposted = any(r.status is not RunStatus.POSTED for r in records.values()) or (
            results_record is not None and results_record.status is not RunStatus.POSTED
        )
        if not new_days and not results and not unposted:
            return None
        participants = await self._challenges.participants(challenge.id)
        return _Work(
            challenge=challenge,
            calendar=calendar,
            participants=participants,
            new_days=new_days,
            results=results,
            ended_early=ended_early,
            final_days=await self._values.final_days(challenge.id),
            backfill_from=await self._values.first_day_to_backfill(challenge.id),
        )

    async def _process(self, work: Sequence[_Work], now: dt.datetime) -> RunReport:
        report = RunReport(challenges=[item.challenge.id for item in work])
        scoring = [item for item in work if item.scores]
        if scoring:
            await self._fetch(scoring, now, report)
        for item in work:
            # One challenge's failure (a bug, a bad configuration) never stops the others.
            try:
                with report.timed("score"):
                    board = await self._score(item, now, report) if item.scores else None
                with report.timed("post"):
                    await self._post(item, now, report, board)
            except Exception as exc:
                log.exception("daily run of challenge %d failed", item.challenge.id)
                report.errors[item.challenge.id] = type(exc).__name__
        log.info(
            "daily run: %d challenge(s), %d account(s) fetched, %d failed, %d post(s)",
            len(work),
            report.accounts_fetched,
            sum(report.fetch_failures.values()),
            len(report.posts),
        )
        return report

    # -- fetching ----------------------------------------------------------------------

    def _need(self, item: _Work) -> ChallengeNeed | None:
        """The dates to fetch: every day through the last one scored that is not final yet
        (or is to be backfilled), and the baseline fortnight before the start while the first
        day is fetched."""
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

    async def _fetch(self, work: Sequence[_Work], now: dt.datetime, report: RunReport) -> None:
        needs = [need for need in map(self._need, work) if need is not None]
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
        report.accounts_fetched += len(outcomes)
        for outcome in outcomes:
            if outcome.failure is not None:
                report.fetch_failures[outcome.failure] += 1
            if self._metrics is not None:
                label = "ok" if outcome.failure is None else outcome.failure.value
                self._metrics.provider_requests.labels(outcome.job.account.provider, label).inc()

    async def _store(self, outcomes: Sequence[FetchOutcome], now: dt.datetime) -> None:
        values = [
            FetchedValue(outcome.job.account.discord_id, outcome.job.account.provider, value)
            for outcome in outcomes
            for value in outcome.values
        ]
        synced = [o.job.account.id for o in outcomes if o.failure is None]
        await self._values.store_fetched(values, synced, now)

    async def _review(self, work: Sequence[_Work], outcomes: Sequence[FetchOutcome]) -> None:
        """Hand each challenge its players' new values for the fair-play checks."""
        by_player: dict[int, list[tuple[int, Metric | str, dt.date, float]]] = {}
        for outcome in outcomes:
            player = outcome.job.account.discord_id
            by_player.setdefault(player, []).extend(
                (player, v.metric, v.day, v.value) for v in outcome.values
            )
        for item in work:
            values = [v for p in item.participants for v in by_player.get(p.discord_id, ())]
            if not values:
                continue
            try:
                await self._challenges.review_new_values(item.challenge.id, values)
            except Exception:
                # Flags are advice for the admins; scoring and posting go on without them.
                log.exception("fair-play review of challenge %d failed", item.challenge.id)

    # -- scoring -----------------------------------------------------------------------

    async def _score(self, item: _Work, now: dt.datetime, report: RunReport) -> Board:
        challenge = item.challenge
        # Read again after the fetch, which can take a while: a player who left or deleted
        # their data meanwhile is neither posted nor given rows back.
        item.participants = await self._challenges.participants(challenge.id)
        through = item.through
        rules = self._challenges.rules(challenge)
        days = scored_days(rules, through)
        provisional = frozenset(day for day in days if not item.is_final(day, now))
        board = await self._board(
            challenge, item.participants, through, provisional, final=item.results
        )
        rows = [
            ScoreRow(
                discord_id=player.player_id,
                day=day,
                value=player.daily_values.get(day),
                points=player.daily_points.get(day, 0.0),
                goal_met=player.goal_met.get(day, False),
                final=day not in provisional,
            )
            for player in board.standings.players
            for day in days
            if item.to_score(day)  # rows already final stay as they are (`save_scores`)
        ]
        streaks = [
            StreakRow(p.player_id, p.current_streak, p.best_streak, through)
            for p in board.standings.players
        ]
        # A day is final once its scores are frozen: without a player there is nothing to
        # freeze, and the day would be "finalised" again at every run.
        newly_final = [
            day for day in days if rows and day not in provisional and day not in item.final_days
        ]
        kind = RunKind.CATCH_UP if len(item.new_days) > 1 else RunKind.DAILY
        finished = self._clock.now()
        async with self._db.transaction():
            await self._values.save_scores(challenge.id, rows)
            await self._values.save_streaks(challenge.id, streaks)
            await self._runs.record_scored(challenge.id, item.new_days, kind, now, finished)
            if item.results:
                await self._runs.record_scored(
                    challenge.id, [item.last_day], RunKind.RESULTS, now, finished
                )
            for day in newly_final:
                await self._events.emit("day_finalised", challenge_id=challenge.id, day=day)
        item.final_days.update(newly_final)
        report.days_scored[challenge.id] = list(item.new_days)
        report.days_finalised[challenge.id] = newly_final
        return board

    async def _board(
        self,
        challenge: Challenge,
        participants: Sequence[Participant],
        through: dt.date,
        provisional: frozenset[dt.date],
        *,
        final: bool = False,
    ) -> Board:
        """Standings through `through` from stored data: frozen values on final days, the
        latest fetched values on the others, admin-excluded days left out. Baselines (the
        fortnight before the start) are read only where they count: improvement scoring,
        and the results' most-improved award (`final`)."""
        rules = self._challenges.rules(challenge)
        frozen = await self._values.final_scores(challenge.id)
        with_baselines = final or rules.mode is ScoringMode.IMPROVEMENT
        first = rules.start - dt.timedelta(days=BASELINE_DAYS) if with_baselines else rules.start
        stored = await self._values.challenge_values(
            challenge.id, rules.metric, first, min(through, rules.end)
        )
        excluded = await self._challenges.excluded_days(challenge.id)
        values: dict[PlayerId, list[DailyValue]] = {}
        baselines: dict[PlayerId, float] = {}
        for participant in participants:
            player = participant.discord_id
            player_frozen = frozen.get(player, {})
            mine = stored.get(player, [])
            counted = [
                DailyValue(rules.metric, day, value)
                for day, value in player_frozen.items()
                if value is not None and (player, day) not in excluded
            ]
            counted += [
                v for v in mine if v.day not in player_frozen and (player, v.day) not in excluded
            ]
            values[player] = counted
            baseline = baseline_from_history(rules, (v for v in mine if v.day < rules.start))
            if baseline is not None:
                baselines[player] = baseline
        teams = {p.discord_id: p.team for p in participants if p.team}
        standings = compute_standings(
            rules,
            values,
            through=through,
            provisional_days=provisional,
            baselines=baselines,
            teams=teams or None,
            first_days={p.discord_id: p.joined_on for p in participants},
        )
        if ranks_by_streak(challenge):
            standings = rank_by_best_streak(standings, teams)
        names = {p.discord_id: p.display_name or fallback_name(p.discord_id) for p in participants}
        return Board(
            challenge=challenge,
            standings=standings,
            names=names,
            day=standings.days[-1] if standings.days else None,
            previous_ranks=await self._runs.last_posted_ranks(challenge.id, before=through),
            final=final,
        )

    # -- posting -----------------------------------------------------------------------

    async def _post(
        self, item: _Work, now: dt.datetime, report: RunReport, board: Board | None
    ) -> None:
        challenge = item.challenge
        records = await self._runs.day_records(challenge.id)
        unposted = [r for r in records.values() if r.status is not RunStatus.POSTED]
        results = await self._runs.results_record(challenge.id)
        if results is not None and results.status is not RunStatus.POSTED:
            covered = [*unposted, results]
            through = results.day
            # An early end leaves out the day it happened on: the results stop where they do.
            challenge = replace(challenge, end=through)
        elif unposted:
            covered = unposted
            through = unposted[-1].day
        else:
            return
        messenger = self._messenger
        if not messenger.connected:
            log.warning("no Discord client yet: the post of challenge %d waits", challenge.id)
            return
        kind = _post_kind(covered)
        results_post = kind is RunKind.RESULTS
        if board is None or board.standings.through != through or board.final != results_post:
            provisional = frozenset(
                day
                for day in days_between(challenge.start, min(through, challenge.end))
                if day not in item.final_days
            )
            board = await self._board(
                challenge, item.participants, through, provisional, final=results_post
            )
        content, title = self._content(board, covered)
        series = cumulative_series(board.standings)
        with report.timed("chart"):
            chart = await asyncio.to_thread(
                self._render_chart, series, board.names, title, chart_label(board.standings.rules)
            )
        suffix = "results" if results_post else through.isoformat()
        attachment = Attachment(f"stride-{challenge.id}-{suffix}.png", chart)
        try:
            message_id = await messenger.post(
                challenge.channel_id, embed=content, files=[attachment]
            )
        except NotConnected:
            log.warning(
                "the Discord client disconnected: the post of challenge %d waits", challenge.id
            )
            return
        except ChannelUnavailable as exc:
            log.warning("challenge %d: could not post: %s", challenge.id, exc)
            await self._failed(challenge, covered, ERROR_CHANNEL_UNAVAILABLE, report)
            return
        except Exception:
            log.exception("challenge %d: posting failed", challenge.id)
            await self._failed(challenge, covered, ERROR_POST_FAILED, report)
            return
        ranks = [PostedRank(p.player_id, p.rank, p.score) for p in board.standings.players]
        async with self._db.transaction():
            await self._runs.mark_posted(challenge.id, covered, message_id, self._clock.now())
            await self._runs.save_posted_ranks(challenge.id, through, ranks)
        report.posts[challenge.id] = message_id
        report.boards[challenge.id] = board
        report.post_kinds[challenge.id] = kind
        if results_post:
            await self._challenges.finish(challenge.id)  # closed: no more runs
            self._unschedule(challenge.id)

    def _content(self, board: Board, covered: Sequence[RunRecord]) -> tuple[EmbedContent, str]:
        """The post for these records, and the chart's title."""
        name = board.challenge.name
        if board.final:
            results = board.post()
            if results is None:  # pragma: no cover - a results board always has days
                raise RuntimeError("results without any scored day")
            return results, f"{name}: final standings"
        days = sorted(r.day for r in covered)
        if len(days) == 1:
            content = render_daily_post(
                board.standings,
                board.names,
                challenge_name=name,
                day=days[0],
                previous_ranks=board.previous_ranks,
            )
        else:
            content = render_catch_up_post(
                board.standings,
                board.names,
                challenge_name=name,
                days=days,
                previous_ranks=board.previous_ranks,
            )
        return content, f"{name}: standings so far"

    async def _failed(
        self, challenge: Challenge, covered: Sequence[RunRecord], code: str, report: RunReport
    ) -> None:
        await self._runs.mark_failed(challenge.id, covered, code, self._clock.now())
        report.failed_posts[challenge.id] = code

    # -- on demand (/leaderboard, /me) -------------------------------------------------

    async def board(self, challenge: Challenge) -> Board:
        """The standings as of the last day whose post is due, or the final results once
        they are in, from stored data (no provider call); days not final are provisional."""
        now = self._clock.now()
        results = await self._runs.results_record(challenge.id)
        if results is not None:
            # An early end leaves out the day it happened on: the results stop where they did.
            challenge = replace(challenge, end=results.day)
            through = results.day
        else:
            through = min(calendar_of(challenge).last_due_day(now), challenge.end)
        participants = await self._challenges.participants(challenge.id)
        final_days = await self._values.final_days(challenge.id)
        provisional = frozenset(
            day for day in days_between(challenge.start, through) if day not in final_days
        )
        return await self._board(
            challenge, participants, through, provisional, final=results is not None
        )

    async def challenge_ids_of(self, discord_id: int) -> list[int]:
        """The challenges a user plays in (any status)."""
        return await self._values.player_challenge_ids(discord_id)

    async def player_summaries(
        self, discord_id: int, *, recent_days: int = 7
    ) -> list[PlayerSummary]:
        """Where a player stands in each challenge they are in: every one not ended, and
        those that ended in the last `recent_days` days; running ones first."""
        now = self._clock.now()
        summaries = []
        for challenge_id in await self.challenge_ids_of(discord_id):
            challenge = await self._challenges.get(challenge_id)
            if challenge is None or (
                challenge.status is ChallengeStatus.ENDED
                and (challenge.today(now) - challenge.end).days > recent_days
            ):
                continue
            board = await self.board(challenge)
            standing = next((p for p in board.standings.players if p.player_id == discord_id), None)
            if standing is not None:
                summaries.append(PlayerSummary(board, standing))
        return sorted(
            summaries,
            key=lambda s: (
                s.board.final,
                s.board.day is None,
                -s.board.challenge.start.toordinal(),
            ),
        )


def _may_have_work(challenge: Challenge, runs: RunOverview | None, now: dt.datetime) -> bool:
    """A cheap first look (no query): a day is due that is later than the last one scored,
    the results are due and not recorded, or a post is owed."""
    calendar = calendar_of(challenge)
    due = min(challenge.end, calendar.last_due_day(now))
    if runs is None:
        return due >= challenge.start or calendar.results_due(now)
    return (
        runs.post_owed
        or (runs.last_day is None and due >= challenge.start)
        or (runs.last_day is not None and due > runs.last_day)
        or (calendar.results_due(now) and not runs.has_results)
    )


def _post_kind(covered: Sequence[RunRecord]) -> RunKind:
    """What a post covering these records is: results, a catch-up, or a daily post."""
    if any(record.kind is RunKind.RESULTS for record in covered):
        return RunKind.RESULTS
    return RunKind.CATCH_UP if len(covered) > 1 else RunKind.DAILY
