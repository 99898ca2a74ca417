"""The run's posting step: send every post a challenge owes, and record how it went (`Poster`).

A challenge owes a post for every day scored and not posted yet: a daily post for one day, a
catch-up post for several, the results post once the last day is final. The post carries a
chart of the cumulative scores. It goes out through the `Messenger`: before a Discord client
is connected nothing is sent or recorded (the next run posts it); a post that fails is
recorded as `failed` with an error code and retried at the next run. A post that went out is
recorded as posted with the ranks it showed, for the next post's rank changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.challenges.model import Challenge
from bot.clock import Clock
from bot.daily.calendar import days_between
from bot.daily.plan import Work, post_kind
from bot.daily.report import RunReport
from bot.daily.standings import Board, StandingsReader
from bot.domain import ScoringMode
from bot.notify import Attachment, ChannelUnavailable, Messenger, NotConnected
from bot.render.leaderboard import EmbedContent, render_catch_up_post, render_daily_post
from bot.scoring import ChallengeRules, cumulative_series
from bot.storage.db import Database
from bot.storage.runs import PostedRank, RunKind, RunRecord, RunsRepo, RunStatus

log = logging.getLogger(__name__)

ChartRenderer = Callable[
    [Mapping[int, Sequence[tuple[dt.date, float]]], Mapping[int, str], str, str], bytes
]

ERROR_CHANNEL_UNAVAILABLE = "channel_unavailable"
ERROR_POST_FAILED = "post_failed"


@dataclass(frozen=True, slots=True)
class OwedPost:
    """The run records one post covers, and the challenge as that post shows it."""

    challenge: Challenge  # a results post: ends where the results stop
    covered: list[RunRecord]
    through: dt.date  # the last day it shows

    @property
    def kind(self) -> RunKind:
        return post_kind(self.covered)


def chart_label(rules: ChallengeRules) -> str:
    """What the chart's scores are: 'Steps', 'Distance, daily average (km)', 'Points'."""
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


def post_content(board: Board, covered: Sequence[RunRecord]) -> tuple[EmbedContent, str]:
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


class Poster:
    """Sends the posts challenges owe and records them as posted or failed."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        standings: StandingsReader,
        messenger: Messenger,
        runs: RunsRepo,
        render_chart: ChartRenderer,
    ) -> None:
        self._db = db
        self._clock = clock
        self._standings = standings
        self._messenger = messenger
        self._runs = runs
        self._render_chart = render_chart

    async def post(self, item: Work, report: RunReport, scored: Board | None) -> RunKind | None:
        """Send the post the work's challenge owes, if any (`scored`: the standings this
        run just scored, shown when they are the ones due); returns the kind posted."""
        owed = await self._owed(item.challenge)
        if owed is None:
            return None
        if not self._messenger.connected:
            log.warning("no Discord client yet: the post of challenge %d waits", owed.challenge.id)
            return None
        board = await self._board_to_show(item, owed, scored)
        message_id = await self._send(board, owed, report)
        if message_id is None:
            return None
        ranks = [PostedRank(p.player_id, p.rank, p.score) for p in board.standings.players]
        async with self._db.transaction():
            await self._runs.mark_posted(
                owed.challenge.id, owed.covered, message_id, self._clock.now()
            )
            await self._runs.save_posted_ranks(owed.challenge.id, owed.through, ranks)
        report.posts[owed.challenge.id] = message_id
        report.posted_boards[owed.challenge.id] = board
        report.post_kinds[owed.challenge.id] = owed.kind
        return owed.kind

    async def _owed(self, challenge: Challenge) -> OwedPost | None:
        """The post the challenge owes: its results, with any days not posted before them,
        or the days scored and not posted; None when every post went out."""
        records = await self._runs.day_records(challenge.id)
        unposted = [r for r in records.values() if r.status is not RunStatus.POSTED]
        results = await self._runs.results_record(challenge.id)
        if results is not None and results.status is not RunStatus.POSTED:
            # An early end leaves out the day it happened on: the results stop where they do.
            return OwedPost(replace(challenge, end=results.day), [*unposted, results], results.day)
        if unposted:
            return OwedPost(challenge, unposted, unposted[-1].day)
        return None

    async def _board_to_show(self, item: Work, owed: OwedPost, scored: Board | None) -> Board:
        """The standings the post shows: those just scored when they are the ones due."""
        results_post = owed.kind is RunKind.RESULTS
        if (
            scored is not None
            and scored.standings.through == owed.through
            and scored.final == results_post
        ):
            return scored
        challenge = owed.challenge
        provisional = frozenset(
            day
            for day in days_between(challenge.start, min(owed.through, challenge.end))
            if day not in item.final_days
        )
        return await self._standings.as_of(
            challenge, item.participants, owed.through, provisional, final=results_post
        )

    async def _send(self, board: Board, owed: OwedPost, report: RunReport) -> int | None:
        """Post with its chart; the message id, or None when it waits or failed (recorded)."""
        challenge = owed.challenge
        content, title = post_content(board, owed.covered)
        series = cumulative_series(board.standings)
        with report.timed("chart"):
            chart = await asyncio.to_thread(
                self._render_chart, series, board.names, title, chart_label(board.standings.rules)
            )
        suffix = "results" if owed.kind is RunKind.RESULTS else owed.through.isoformat()
        attachment = Attachment(f"stride-{challenge.id}-{suffix}.png", chart)
        try:
            return await self._messenger.post(
                challenge.channel_id, embed=content, files=[attachment]
            )
        except NotConnected:
            log.warning(
                "the Discord client disconnected: the post of challenge %d waits", challenge.id
            )
            return None
        except ChannelUnavailable as exc:
            log.warning("challenge %d: could not post: %s", challenge.id, exc)
            await self._failed(owed, ERROR_CHANNEL_UNAVAILABLE, report)
            return None
        except Exception:
            log.exception("challenge %d: posting failed", challenge.id)
            await self._failed(owed, ERROR_POST_FAILED, report)
            return None

    async def _failed(self, owed: OwedPost, code: str, report: RunReport) -> None:
        await self._runs.mark_failed(owed.challenge.id, owed.covered, code, self._clock.now())
        report.failed_posts[owed.challenge.id] = code
