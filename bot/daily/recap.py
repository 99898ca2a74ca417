"""Weekly recaps and the "weekly only" mode (`RecapService`).

A challenge longer than a week gets a recap on the day its admins pick (Monday unless they
pick another, `/challenge recap`), after that day's daily post: the week's biggest climbers,
the streak milestones reached, the standings, the teams and the chart of the week's days
(`bot.daily.recap_content`). A recap covers the seven days before its day, so the first one
comes on the first recap day at least a week after the start, and none comes after the last
day (the results post closes the challenge). A recap missed through downtime still goes out
the day after, not later.

Exactly once, as the daily post (`bot.daily.post`): it is recorded with its key (its chart's
file name) and nonce before it is sent, and marked posted with its message afterwards; an
intent left behind is looked for in the channel's history before it is sent again with the
same nonce.

In "weekly only" mode the days are still scored every day, but their daily and catch-up
posts are not sent (`skip_daily_posts`, which the run calls before posting): the recap and
the results post are what the channel gets, so the recap is also the post that says what
admins corrected since the last one (`bot.daily.mentions`, claimed with its intent). With
daily posts on, the daily posts say it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.challenges.model import Challenge, ChallengeStatus
from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.daily.calendar import ONE_DAY, calendar_of, days_between
from bot.daily.mentions import CorrectionMentions
from bot.daily.post import CLOCK_MARGIN, post_nonce
from bot.daily.recap_content import recap_post, week_chart
from bot.daily.standings import Board, StandingsReader
from bot.errors import UserError
from bot.notify import Attachment, ChannelUnavailable, Messenger, NotConnected
from bot.render.chart import ChartInput, render_cumulative_chart
from bot.render.leaderboard import EmbedContent
from bot.storage.db import Database
from bot.storage.recaps import DailyPosts, RecapPost, RecapSettings, RecapsRepo
from bot.storage.runs import RunsRepo, RunStatus
from bot.storage.values import ValuesRepo

log = logging.getLogger(__name__)

# Whether this process still holds a challenge's post claim (renewing it): asked before a send.
StillOurs = Callable[[int], Awaitable[bool]]

RecapChart = Callable[[ChartInput], bytes]

WEEK = dt.timedelta(days=7)
LATE_DAYS = 1  # a recap missed through downtime still goes out this many days late


def recap_day_due(challenge: Challenge, recap_day: int, now: dt.datetime) -> dt.date | None:
    """The recap day whose recap is due at `now` (its post time has come, at most `LATE_DAYS`
    ago), or None: the challenge lasts a week or less, or no full week of it ends there."""
    if challenge.days <= 7 or challenge.status is not ChallengeStatus.ACTIVE:
        return None
    calendar = calendar_of(challenge)
    today = calendar.local_date(now)
    day = today - dt.timedelta(days=(today.weekday() - recap_day) % 7)
    if calendar.post_at(day - ONE_DAY) > now or (today - day).days > LATE_DAYS:
        return None
    if day - WEEK < challenge.start or day - ONE_DAY > challenge.end:
        return None
    return day


def recap_key(challenge_id: int, day: dt.date) -> str:
    """What marks a recap in its channel: its chart's file name."""
    return f"stride-{challenge_id}-recap-{day.isoformat()}.png"


class RecapService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeService,
        standings: StandingsReader,
        messenger: Messenger,
        render_chart: RecapChart = render_cumulative_chart,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._standings = standings
        self._messenger = messenger
        self._render_chart = render_chart
        self._repo = RecapsRepo(db)
        self._runs = RunsRepo(db)
        self._values = ValuesRepo(db)
        self._mentions = CorrectionMentions(db)

    # -- settings ----------------------------------------------------------------------

    async def settings(self, challenge_id: int) -> RecapSettings:
        return await self._repo.settings(challenge_id)

    async def configure(
        self,
        guild_id: int,
        name: str,
        *,
        recap_day: int | None,
        daily_posts: DailyPosts | None,
        by: int,
    ) -> tuple[Challenge, RecapSettings]:
        """Change a challenge's recap day and whether its days are posted daily; what is not
        given stays as it is."""
        challenge = await self._challenges.find(guild_id, name)
        if challenge.status is ChallengeStatus.ENDED:
            raise UserError(f"“{challenge.name}” has ended: it has no more recaps.")
        current = await self._repo.settings(challenge.id)
        settings = RecapSettings(
            current.recap_day if recap_day is None else recap_day,
            current.daily_posts if daily_posts is None else daily_posts,
        )
        await self._repo.save_settings(challenge.id, settings, by=by, now=self._clock.now())
        return challenge, settings

    # -- the run -----------------------------------------------------------------------

    async def skip_daily_posts(self, challenge: Challenge) -> None:
        """In "weekly only" mode: record the days scored and not posted as handled, without a
        post (never while a post is in flight: that one is settled first)."""
        settings = await self._repo.settings(challenge.id)
        if settings.daily_posts is not DailyPosts.WEEKLY_ONLY:
            return
        if await self._runs.pending_intent(challenge.id) is not None:
            return
        records = await self._runs.day_records(challenge.id)
        unposted = [r for r in records.values() if r.status is not RunStatus.POSTED]
        if unposted:
            await self._runs.mark_skipped(challenge.id, unposted, self._clock.now())

    async def post_due(
        self, challenges: Sequence[Challenge], *, still_ours: StillOurs | None = None
    ) -> dict[int, int]:
        """Post the recaps due now among `challenges`; returns challenge id -> message id.
        One challenge's failure never stops the others. `still_ours` (the run's post claim,
        `bot.daily.once.PostClaims`) is asked right before each send: a recap whose
        challenge another process took over is left to it (its recorded intent too)."""
        posted: dict[int, int] = {}
        now = self._clock.now()
        for challenge in challenges:
            try:
                message_id = await self._post_due(challenge, now, still_ours)
            except Exception:
                log.exception("the weekly recap of challenge %d failed", challenge.id)
                continue
            if message_id is not None:
                posted[challenge.id] = message_id
        return posted

    async def _post_due(
        self, challenge: Challenge, now: dt.datetime, still_ours: StillOurs | None
    ) -> int | None:
        settings = await self._repo.settings(challenge.id)
        day = recap_day_due(challenge, settings.recap_day, now)
        if day is None or not self._messenger.connected:
            return None
        record = (await self._runs.day_records(challenge.id)).get(day - ONE_DAY)
        if record is None or record.status is not RunStatus.POSTED:
            return None  # after the daily post (or its skip, weekly only)
        existing = await self._repo.post(challenge.id, day)
        if existing is not None and existing.posted:
            return None
        key = recap_key(challenge.id, day)
        if existing is not None:  # a stop between the send and its record
            try:
                found = await self._messenger.find_post(
                    challenge.channel_id,
                    attachment_name=key,
                    after=existing.created_at - CLOCK_MARGIN,
                )
            except (NotConnected, ChannelUnavailable) as exc:
                # Without the history, sending again could post it twice: wait and retry.
                log.warning("challenge %d: cannot check its last recap: %s", challenge.id, exc)
                return None
            if found is not None:
                await self._repo.mark_posted(challenge.id, day, found, now)
                return found
        return await self._record_and_send(challenge, day, settings, existing, still_ours)

    async def _record_and_send(
        self,
        challenge: Challenge,
        day: dt.date,
        settings: RecapSettings,
        existing: RecapPost | None,
        still_ours: StillOurs | None,
    ) -> int | None:
        """Record the recap of the week before `day` (its first intent also claims, in
        "weekly only" mode, the corrections no post said yet), then send it with its chart."""
        key = recap_key(challenge.id, day)
        first, last = day - WEEK, day - ONE_DAY
        after = await self._board(challenge, last)
        # The first week: the places after its first day (there is no week before).
        before = await self._board(challenge, max(first - ONE_DAY, challenge.start))
        nonce = existing.nonce if existing is not None else post_nonce(key)
        async with self._db.transaction():
            await self._repo.record_intent(challenge.id, day, key, nonce, self._clock.now())
            if existing is None and settings.daily_posts is DailyPosts.WEEKLY_ONLY:
                await self._mentions.claim(after, key)  # no daily post says them
        embed = recap_post(before, after, first, note=await self._mentions.note(after, key))
        chart = await asyncio.to_thread(self._render_chart, week_chart(after, first))
        if still_ours is not None and not await still_ours(challenge.id):
            log.warning("challenge %d: taken over by another process; recap not sent", challenge.id)
            return None  # the intent stays: the process that took over settles it
        return await self._send(challenge, day, embed, Attachment(key, chart), nonce)

    async def _send(
        self, challenge: Challenge, day: dt.date, embed: EmbedContent, chart: Attachment, nonce: str
    ) -> int | None:
        try:
            message_id = await self._messenger.post(
                challenge.channel_id, embed=embed, files=[chart], nonce=nonce
            )
        except NotConnected:
            return None  # the intent stays: the next run settles it
        except ChannelUnavailable as exc:
            log.warning("challenge %d: could not post its recap: %s", challenge.id, exc)
            await self._repo.forget(challenge.id, day)  # refused: nothing went out
            await self._mentions.release(challenge.id, recap_key(challenge.id, day))
            return None
        await self._repo.mark_posted(challenge.id, day, message_id, self._clock.now())
        log.info("challenge %d: weekly recap posted", challenge.id)
        return message_id

    async def _board(self, challenge: Challenge, through: dt.date) -> Board:
        participants = await self._challenges.participants(challenge.id)
        final = await self._values.final_days(challenge.id)
        provisional = frozenset(d for d in days_between(challenge.start, through) if d not in final)
        return await self._standings.as_of(challenge, participants, through, provisional)
