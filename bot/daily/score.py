"""The run's scoring step: standings from stored values, written down in one transaction.

`Scorer.score` computes a challenge's standings through its last due day, or the last day
that became final (`bot.daily.standings`: final days use the values frozen in
`daily_scores`, so a late sync can change a provisional day but never a final one), then
writes the score rows, the streaks, the run records, the finalisation of days past their
grace period (from the values this run just fetched) and the `day_finalised` events in one
transaction: a crash leaves either all of it or none of it. A run at a grace end that only
finalises a day writes no run record: the day's post comes at the post time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.clock import Clock
from bot.daily.plan import Work
from bot.daily.report import RunReport
from bot.daily.source import ChallengeSource
from bot.daily.standings import Board, StandingsReader
from bot.events import EventBus
from bot.scoring import scored_days
from bot.storage.db import Database
from bot.storage.runs import RunKind, RunsRepo
from bot.storage.values import ScoreRow, StreakRow, ValuesRepo


def score_rows(
    item: Work, board: Board, days: Sequence[dt.date], provisional: frozenset[dt.date]
) -> list[ScoreRow]:
    """The rows this run writes: every player's days to score (rows already final stay as
    they are, `save_scores`)."""
    return [
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
        if item.to_score(day)
    ]


def streak_rows(board: Board, through: dt.date) -> list[StreakRow]:
    return [
        StreakRow(p.player_id, p.current_streak, p.best_streak, through)
        for p in board.standings.players
    ]


class Scorer:
    """Scores one challenge's due days and records them."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeSource,
        standings: StandingsReader,
        events: EventBus,
        values: ValuesRepo,
        runs: RunsRepo,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._standings = standings
        self._events = events
        self._values = values
        self._runs = runs

    async def score(self, item: Work, now: dt.datetime, report: RunReport) -> Board:
        """Score and record the work's days; returns the standings scored."""
        challenge = item.challenge
        # Read again after the fetch, which can take a while: a player who left or deleted
        # their data meanwhile is neither posted nor given rows back.
        item.participants = await self._challenges.participants(challenge.id)
        through = item.through
        days = scored_days(self._challenges.rules(challenge), through)
        provisional = frozenset(day for day in days if not item.is_final(day, now))
        board = await self._standings.as_of(
            challenge, item.participants, through, provisional, final=item.results
        )
        rows = score_rows(item, board, days, provisional)
        # A day is final once its scores are frozen: without a player there is nothing to
        # freeze, and the day would be "finalised" again at every run.
        newly_final = [
            day for day in days if rows and day not in provisional and day not in item.final_days
        ]
        await self._record(item, now, rows, streak_rows(board, through), newly_final)
        item.final_days.update(newly_final)
        report.days_scored[challenge.id] = list(item.new_days)
        report.days_finalised[challenge.id] = newly_final
        return board

    async def _record(
        self,
        item: Work,
        now: dt.datetime,
        rows: Sequence[ScoreRow],
        streaks: Sequence[StreakRow],
        newly_final: Sequence[dt.date],
    ) -> None:
        """Scores, streaks, run records and `day_finalised` events: all of them or none."""
        challenge_id = item.challenge.id
        kind = RunKind.CATCH_UP if len(item.new_days) > 1 else RunKind.DAILY
        finished = self._clock.now()
        async with self._db.transaction():
            await self._values.save_scores(challenge_id, rows)
            await self._values.save_streaks(challenge_id, streaks)
            await self._runs.record_scored(challenge_id, item.new_days, kind, now, finished)
            if item.results:
                await self._runs.record_scored(
                    challenge_id, [item.last_day], RunKind.RESULTS, now, finished
                )
            for day in newly_final:
                await self._events.emit("day_finalised", challenge_id=challenge_id, day=day)
