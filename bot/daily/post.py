"""The run's posting step: send every post a challenge owes, exactly once, and record how it
went (`Poster`).

A challenge owes a post for every day scored and not posted yet: a daily post for one day, a
catch-up post for several, the results post once the last day is final. The post carries a
chart of the cumulative scores. It goes out through the `Messenger`: before a Discord client
is connected nothing is sent or recorded (the next run posts it); a post that fails is
recorded as `failed` with an error code and retried at the next run. A post that went out is
recorded as posted with the ranks it showed, for the next post's rank changes.

Exactly once: before a post is sent its intent is recorded (the run records it covers, its
key and its nonce), and the transaction that records it as posted clears the intent. An
intent left behind (the process died between the send and that transaction) is settled
before anything else is posted: when the channel's history has the bot's message with the
post's key (the chart's file name, `post_key`), the post is recorded with that message and
not sent; otherwise the same post is sent again with the same nonce, which Discord also
de-duplicates. The days that became due since go in the next post, never in both. A send
that failed with an unknown outcome keeps its intent; one the channel refused does not.

Corrections by admins: a post claims those its board counts that no post mentioned yet, with
its intent, and lists them in its footer (`bot.daily.mentions`): each is said exactly once.

Across processes: the run holds the challenge's leased claim (`bot.daily.once.PostClaims`)
while it scores and posts; each send renews it first and is dropped when it was lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.challenges.model import Challenge
from bot.clock import Clock
from bot.daily.calendar import days_between
from bot.daily.mentions import CorrectionMentions
from bot.daily.once import PostClaims
from bot.daily.plan import Work, post_kind
from bot.daily.report import RunReport
from bot.daily.standings import Board, StandingsReader
from bot.notify import NONCE_MAX_LENGTH, Attachment, ChannelUnavailable, Messenger, NotConnected
from bot.render.chart import ChartInput
from bot.render.leaderboard import EmbedContent, render_catch_up_post, render_daily_post
from bot.storage.db import Database
from bot.storage.runs import PostedRank, PostIntent, RunKind, RunRecord, RunsRepo, RunStatus

log = logging.getLogger(__name__)

ChartRenderer = Callable[[ChartInput], bytes]

ERROR_CHANNEL_UNAVAILABLE = "channel_unavailable"
ERROR_POST_FAILED = "post_failed"
# Looking for a post in the channel's history: from this long before its intent was
# recorded (our clock and Discord's may disagree a little).
CLOCK_MARGIN = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class OwedPost:
    """The run records one post covers, and the challenge as that post shows it."""

    challenge: Challenge  # a results post: ends where the results stop
    covered: list[RunRecord]
    through: dt.date  # the last day it shows

    @property
    def kind(self) -> RunKind:
        return post_kind(self.covered)


def owed_post(challenge: Challenge, covered: Sequence[RunRecord]) -> OwedPost:
    """The post covering these records: the results (with any days posted with them), or
    the days, through the last of them."""
    results = next((r for r in covered if r.kind is RunKind.RESULTS), None)
    if results is not None:
        # An early end leaves out the day it happened on: the results stop where they do.
        return OwedPost(replace(challenge, end=results.day), list(covered), results.day)
    return OwedPost(challenge, list(covered), max(r.day for r in covered))


def post_key(challenge_id: int, covered: Sequence[RunRecord]) -> str:
    """What marks a post in its channel: its chart's file name, which names the challenge
    and what the post covers ("results", its day, or its first and last day)."""
    days = sorted(record.day.isoformat() for record in covered)
    if post_kind(covered) is RunKind.RESULTS:
        covers = "results"
    elif len(days) == 1:
        covers = days[0]
    else:
        covers = f"{days[0]}-to-{days[-1]}"
    return f"stride-{challenge_id}-{covers}.png"


def post_nonce(key: str) -> str:
    """The nonce sent with a post: the same for every attempt at the same post."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:NONCE_MAX_LENGTH]


def post_content(
    board: Board, covered: Sequence[RunRecord], corrections_note: str | None = None
) -> EmbedContent:
    """The post for these records (its chart is `board.chart()`), `corrections_note` in its
    footer (the corrections by admins it is the first to mention)."""
    name = board.challenge.name
    if board.final:
        results = board.post(corrections_note)
        if results is None:  # pragma: no cover - a results board always has days
            raise RuntimeError("results without any scored day")
        return results
    days = sorted(r.day for r in covered)
    if len(days) == 1:
        return render_daily_post(
            board.standings,
            board.names,
            challenge_name=name,
            day=days[0],
            units=board.units,
            hidden=board.hidden,
            previous_ranks=board.previous_ranks,
            corrected=board.corrected,
            corrections_note=corrections_note,
        )
    return render_catch_up_post(
        board.standings,
        board.names,
        challenge_name=name,
        days=days,
        units=board.units,
        hidden=board.hidden,
        previous_ranks=board.previous_ranks,
        corrected=board.corrected,
        corrections_note=corrections_note,
    )


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
        claims: PostClaims | None = None,
    ) -> None:
        self._claims = claims
        self._db = db
        self._clock = clock
        self._standings = standings
        self._messenger = messenger
        self._runs = runs
        self._render_chart = render_chart
        self._mentions = CorrectionMentions(db)

    async def post(self, item: Work, report: RunReport, scored: Board | None) -> RunKind | None:
        """Send the posts the work's challenge owes: one a stop left in flight, if any, then
        what is owed now (`scored`: the standings this run just scored, shown when they are
        the ones due); returns the kind of the last one posted."""
        challenge = item.challenge
        settled: RunKind | None = None
        pending = await self._runs.pending_intent(challenge.id)
        if pending is not None:
            if not await self._settle(item, pending, report, scored):
                return None
            settled = post_kind(pending.covered) if pending.covered else None
        owed = await self._owed(challenge)
        if owed is None:
            return settled
        if not self._messenger.connected:
            log.warning("no Discord client yet: the post of challenge %d waits", challenge.id)
            return settled
        board = await self._board_to_show(item, owed, scored)
        key = post_key(challenge.id, owed.covered)
        nonce = post_nonce(key)
        async with self._db.transaction():
            await self._runs.record_intent(
                challenge.id, owed.covered, key, nonce, self._clock.now()
            )
            await self._mentions.claim(board, key)  # said by this post, and only this one
        message_id = await self._send(board, owed, key, nonce, report)
        if message_id is None:
            return settled
        await self._posted(board, owed, message_id, report)
        return owed.kind

    async def _settle(
        self, item: Work, pending: PostIntent, report: RunReport, scored: Board | None
    ) -> bool:
        """Settle a post a stop left in flight: recorded with its message if it went out,
        else sent again (same key, same nonce); False while it stays unsettled."""
        challenge = item.challenge
        if not pending.covered:  # its run records are gone: nothing is owed for it
            await self._runs.clear_intent(challenge.id)
            return True
        if not self._messenger.connected:
            log.warning("no Discord client yet: the post of challenge %d waits", challenge.id)
            return False
        owed = owed_post(challenge, pending.covered)
        try:
            message_id = await self._messenger.find_post(
                challenge.channel_id,
                attachment_name=pending.post_key,
                after=pending.created_at - CLOCK_MARGIN,
            )
        except NotConnected:
            return False
        except ChannelUnavailable as exc:
            # Without the history, sending again could post it twice: wait and retry.
            log.warning("challenge %d: cannot check its last post: %s", challenge.id, exc)
            await self._failed(owed, ERROR_CHANNEL_UNAVAILABLE, report)
            return False
        board = await self._board_to_show(item, owed, scored)
        if message_id is not None:
            log.info("challenge %d: its post went out before a stop; recorded", challenge.id)
        else:
            message_id = await self._send(board, owed, pending.post_key, pending.nonce, report)
            if message_id is None:
                return False
        await self._posted(board, owed, message_id, report)
        return True

    async def _posted(
        self, board: Board, owed: OwedPost, message_id: int, report: RunReport
    ) -> None:
        """Record the post as posted, with the ranks it showed, and clear its intent."""
        challenge_id = owed.challenge.id
        ranks = [PostedRank(p.player_id, p.rank, p.score) for p in board.standings.players]
        async with self._db.transaction():
            await self._runs.mark_posted(challenge_id, owed.covered, message_id, self._clock.now())
            await self._runs.save_posted_ranks(challenge_id, owed.through, ranks)
            await self._runs.clear_intent(challenge_id)
        report.posts[challenge_id] = message_id
        report.posted_boards[challenge_id] = board
        report.post_kinds[challenge_id] = owed.kind

    async def _owed(self, challenge: Challenge) -> OwedPost | None:
        """The post the challenge owes: its results, with any days not posted before them,
        or the days scored and not posted; None when every post went out."""
        records = await self._runs.day_records(challenge.id)
        unposted = [r for r in records.values() if r.status is not RunStatus.POSTED]
        results = await self._runs.results_record(challenge.id)
        if results is not None and results.status is not RunStatus.POSTED:
            unposted.append(results)
        return owed_post(challenge, unposted) if unposted else None

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

    async def _send(
        self, board: Board, owed: OwedPost, key: str, nonce: str, report: RunReport
    ) -> int | None:
        """Post with its chart (named `key`) and `nonce`; the message id, or None when it
        waits or failed (recorded)."""
        challenge = owed.challenge
        if self._claims is not None and not await self._claims.still_ours(challenge.id):
            # Our lease ran out and another process took the challenge over: it posts.
            log.warning("challenge %d: taken over by another process; not posting", challenge.id)
            return None
        content = post_content(board, owed.covered, await self._mentions.note(board, key))
        with report.timed("chart"):
            chart = await asyncio.to_thread(self._render_chart, board.chart())
        try:
            return await self._messenger.post(
                challenge.channel_id,
                embed=content,
                files=[Attachment(key, chart)],
                nonce=nonce,
            )
        except NotConnected:
            log.warning(
                "the Discord client disconnected: the post of challenge %d waits", challenge.id
            )
            return None
        except ChannelUnavailable as exc:
            log.warning("challenge %d: could not post: %s", challenge.id, exc)
            async with self._db.transaction():
                await self._failed(owed, ERROR_CHANNEL_UNAVAILABLE, report)
                await self._runs.clear_intent(challenge.id)  # refused: nothing went out
                await self._mentions.release(challenge.id, key)
            return None
        except Exception:
            # It may have gone out all the same: the intent stays, for the next run to settle.
            log.exception("challenge %d: posting failed", challenge.id)
            await self._failed(owed, ERROR_POST_FAILED, report)
            return None

    async def _failed(self, owed: OwedPost, code: str, report: RunReport) -> None:
        await self._runs.mark_failed(owed.challenge.id, owed.covered, code, self._clock.now())
        report.failed_posts[owed.challenge.id] = code
