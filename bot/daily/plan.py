"""Planning a run: which challenges have work at an instant, and what it is (`Planner`).

A challenge has work when a day's post is due that has no run record yet (after downtime,
several: each is scored once, in order), when a day is final and not frozen yet (it is
fetched once more and frozen, posted or not), when its results are due and not yet scored,
or when a post is still owed (it failed, or no Discord client was connected).
`may_have_work` is the cheap first look from the run overview; `Planner.plan` reads the
records and decides. An ended challenge is only owed its posts; one an admin ended early gets
its results now. Each run also fetches the baseline of every player who has none yet.
`post_kind` says what a post covering some run records is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.challenges.model import Challenge, ChallengeStatus, Participant
from bot.daily.calendar import ChallengeCalendar, calendar_of, days_between
from bot.daily.source import ChallengeSource
from bot.storage.runs import RunKind, RunOverview, RunRecord, RunsRepo, RunStatus
from bot.storage.values import ValuesRepo


@dataclass(slots=True)
class Work:
    """One challenge's work in a run."""

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
    # Final at the run's instant and not frozen yet: fetched once more, then frozen.
    finalise: list[dt.date] = field(default_factory=list)
    # Players whose baseline (the fortnight before the start) is fetched in this run.
    baseline_due: frozenset[int] = frozenset()

    def to_score(self, day: dt.date) -> bool:
        """Whether `day` is fetched and its scores are written in this run."""
        return day not in self.final_days or (
            self.backfill_from is not None and day >= self.backfill_from
        )

    @property
    def scores(self) -> bool:
        return bool(self.new_days) or self.results or bool(self.finalise)

    @property
    def through(self) -> dt.date:
        """The last day this run scores: the last day for the results, else the latest day
        whose post is due or that becomes final."""
        latest = [*self.new_days[-1:], *self.finalise[-1:]]
        return self.last_day if self.results or not latest else max(latest)

    @property
    def last_day(self) -> dt.date:
        return self.challenge.end

    def is_final(self, day: dt.date, now: dt.datetime) -> bool:
        return self.ended_early or self.calendar.is_final(day, now)


def may_have_work(
    challenge: Challenge, runs: RunOverview | None, last_frozen: dt.date | None, now: dt.datetime
) -> bool:
    """A cheap first look (no query): a day is due that is later than the last one scored, a
    day is final that is later than the last one frozen (`last_frozen`), the results are due
    and not recorded, or a post is owed."""
    calendar = calendar_of(challenge)
    due = min(challenge.end, calendar.last_due_day(now))
    last_final = calendar.last_final_day(now)
    to_freeze = last_final is not None and (last_frozen is None or last_final > last_frozen)
    if runs is None:
        return due >= challenge.start or to_freeze or calendar.results_due(now)
    return (
        runs.post_owed
        or to_freeze
        or (runs.last_day is None and due >= challenge.start)
        or (runs.last_day is not None and due > runs.last_day)
        or (calendar.results_due(now) and not runs.has_results)
    )


def post_kind(covered: Sequence[RunRecord]) -> RunKind:
    """What a post covering these records is: results, a catch-up, or a daily post."""
    if any(record.kind is RunKind.RESULTS for record in covered):
        return RunKind.RESULTS
    return RunKind.CATCH_UP if len(covered) > 1 else RunKind.DAILY


def played_part(challenge: Challenge, now: dt.datetime) -> Challenge | None:
    """A challenge an admin ends early, cut to the days played (up to yesterday); None when
    it ended before its first day was over (no results to post)."""
    last = min(challenge.end, calendar_of(challenge).local_date(now) - dt.timedelta(days=1))
    return replace(challenge, end=last) if last >= challenge.start else None


def due_now(
    challenge: Challenge, calendar: ChallengeCalendar, now: dt.datetime, *, ended_early: bool
) -> tuple[list[dt.date], bool]:
    """The days whose post is due, and whether the results are."""
    if ended_early:
        # Days up to yesterday were played; the results come now, all of them final.
        return list(days_between(challenge.start, challenge.end)), True
    if challenge.status is ChallengeStatus.ENDED:
        return [], False  # closed: only posts still owed are sent
    return calendar.due_days(now), calendar.results_due(now)


def days_to_finalise(
    challenge: Challenge,
    calendar: ChallengeCalendar,
    now: dt.datetime,
    final_days: set[dt.date],
    *,
    ended_early: bool,
) -> list[dt.date]:
    """The days final at `now` that are not frozen yet, oldest first (all days played of a
    challenge ended early; none of one that is closed)."""
    if ended_early:
        last: dt.date | None = challenge.end
    elif challenge.status is ChallengeStatus.ENDED:
        return []
    else:
        last = calendar.last_final_day(now)
    if last is None:
        return []
    return [day for day in days_between(challenge.start, last) if day not in final_days]


def post_owed(records: dict[dt.date, RunRecord], results: RunRecord | None) -> bool:
    """A day or the results was scored and is not posted yet."""
    return any(r.status is not RunStatus.POSTED for r in records.values()) or (
        results is not None and results.status is not RunStatus.POSTED
    )


class Planner:
    """Decides what each challenge has to do in a run, from the clock and the run records."""

    def __init__(self, *, challenges: ChallengeSource, values: ValuesRepo, runs: RunsRepo) -> None:
        self._challenges = challenges
        self._values = values
        self._runs = runs

    async def due(self, now: dt.datetime) -> list[Work]:
        """The work of every challenge that has some at `now`."""
        overview = await self._runs.overview()
        frozen = await self._values.last_final_days()
        challenges = [
            challenge
            for challenge in await self._challenges.active_challenges()
            if may_have_work(challenge, overview.get(challenge.id), frozen.get(challenge.id), now)
        ]
        challenges += await self._ended_owing_posts(overview, {c.id for c in challenges})
        work = []
        for challenge in challenges:
            item = await self.plan(challenge, now, ended_early=False)
            if item is not None:
                work.append(item)
        return work

    async def _ended_owing_posts(
        self, overview: Mapping[int, RunOverview], active: set[int]
    ) -> list[Challenge]:
        """Ended challenges still owed a post: one whose results post failed is no longer
        active, but is owed it."""
        ended = []
        for challenge_id, runs in overview.items():
            owed = runs.post_owed and challenge_id not in active
            challenge = await self._challenges.get(challenge_id) if owed else None
            if challenge is not None and challenge.status is ChallengeStatus.ENDED:
                ended.append(challenge)
        return ended

    async def plan(
        self, challenge: Challenge, now: dt.datetime, *, ended_early: bool
    ) -> Work | None:
        """The challenge's work at `now`, or None when it has none."""
        if ended_early:
            played = played_part(challenge, now)
            if played is None:
                return None
            challenge = played
        calendar = calendar_of(challenge)
        records = await self._runs.day_records(challenge.id)
        results_record = await self._runs.results_record(challenge.id)
        due, results_due = due_now(challenge, calendar, now, ended_early=ended_early)
        new_days = [day for day in due if day not in records]
        results = results_due and results_record is None
        participants = await self._challenges.participants(challenge.id)
        final_days = await self._values.final_days(challenge.id)
        finalise = (
            days_to_finalise(challenge, calendar, now, final_days, ended_early=ended_early)
            if participants  # without a player there is nothing to freeze
            else []
        )
        if not (new_days or results or finalise or post_owed(records, results_record)):
            return None
        return Work(
            challenge=challenge,
            calendar=calendar,
            participants=participants,
            new_days=new_days,
            results=results,
            ended_early=ended_early,
            final_days=final_days,
            backfill_from=await self._values.first_day_to_backfill(challenge.id),
            finalise=finalise,
            baseline_due=await self.baselines_due(challenge, now),
        )

    async def baselines_due(self, challenge: Challenge, now: dt.datetime) -> frozenset[int]:
        """The challenge's players whose baseline is still to fetch, once the fortnight it
        covers is over (none before: the first run after the start fetches them)."""
        if not calendar_of(challenge).baseline_over(now):
            return frozenset()
        return frozenset(await self._values.players_without_baseline(challenge.id))
