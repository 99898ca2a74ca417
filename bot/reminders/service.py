"""`ReminderService`: a member's reminder switch, and the scheduler job that sends them.

The job (`run`, every `JOB_SECONDS`) looks at every reminder that is on. A reminder is due at
its local time (`bot.reminders.timing`) in the member's time zone: the one they gave with
`/remind on`, else the one Stride stores for them when it is not the default (UTC), else the
time zone of their active challenge that starts first (all three come with the one query
that lists the reminders: the job costs one query a minute until a reminder is due).

The day is claimed first (at most one reminder a day, also across restarts and with two runs
at once); then each running challenge the member plays is read from the live standings
(`StandingsReader.current`, stored data only): one whose daily goal is not met yet today
gives a line with what is left and the member's place, one without a daily goal gives the gap
to the next place (nothing for the leader). Without a line nothing is sent. A failure for one
member is logged and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.challenges.inputs import canonical_time_zone
from bot.challenges.model import DEFAULT_TIME_ZONE, Challenge
from bot.clock import Clock
from bot.daily import Board, StandingsReader
from bot.errors import UserError
from bot.notify import Messenger
from bot.reminders.messages import (
    Ahead,
    goal_line,
    ordinal,
    place_text,
    rank_line,
    reminder_text,
)
from bot.reminders.timing import due_day
from bot.render.text import display_name
from bot.scoring import PlayerStanding
from bot.storage.db import Database
from bot.storage.reminders import Reminder, RemindersRepo

log = logging.getLogger(__name__)

JOB_ID = "reminders"
JOB_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ReminderStatus:
    """A member's reminder as `/remind status` shows it."""

    at: dt.time
    zone: str  # the time zone it follows now
    own_zone: bool  # the member gave it with /remind on


def ahead_of(board: Board, me: PlayerStanding) -> Ahead | None:
    """Who is just ahead of `me` (the lowest score above mine: their name, or their place
    when they chose to hide) and the gap; None when nobody is ahead."""
    above = [p for p in board.standings.players if p.score > me.score]
    if not above:
        return None
    nearest = min(above, key=lambda p: (p.score, p.rank))
    gap = nearest.score - me.score
    if nearest.player_id in board.hidden:
        return f"{ordinal(nearest.rank)} place", gap
    return display_name(board.names, nearest.player_id), gap


class ReminderService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        standings: StandingsReader,
        messenger: Messenger,
    ) -> None:
        self._clock = clock
        self._standings = standings
        self._messenger = messenger
        self._repo = RemindersRepo(db)

    # -- the switch --------------------------------------------------------------------

    async def turn_on(self, discord_id: int, at: dt.time, time_zone: str | None) -> ReminderStatus:
        """Remind the member every day at `at`, in `time_zone` (None: see the module)."""
        zone = None
        if time_zone is not None:
            try:
                zone = canonical_time_zone(time_zone)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        await self._repo.set(
            discord_id, at.replace(second=0, microsecond=0), zone, now=self._clock.now()
        )
        status = await self.status(discord_id)
        if status is None:  # pragma: no cover - just written
            raise RuntimeError("the reminder was not stored")
        return status

    async def turn_off(self, discord_id: int) -> bool:
        """No more reminders; False when they were off already."""
        return await self._repo.remove(discord_id)

    async def status(self, discord_id: int) -> ReminderStatus | None:
        reminder = await self._repo.get(discord_id)
        if reminder is None:
            return None
        zone = self._zone(reminder)
        return ReminderStatus(reminder.at, zone.key, own_zone=reminder.time_zone is not None)

    # -- the job -----------------------------------------------------------------------

    async def run(self) -> None:
        """Send the reminders due now (see the module)."""
        now = self._clock.now()
        for reminder in await self._repo.all():
            try:
                await self._remind(reminder, now)
            except Exception:
                log.exception("a reminder failed")

    @staticmethod
    def _zone(reminder: Reminder) -> ZoneInfo:
        if reminder.time_zone is not None:
            return ZoneInfo(reminder.time_zone)
        if reminder.user_time_zone and reminder.user_time_zone != DEFAULT_TIME_ZONE:
            return ZoneInfo(reminder.user_time_zone)
        return ZoneInfo(reminder.challenge_time_zone or DEFAULT_TIME_ZONE)

    async def _remind(self, reminder: Reminder, now: dt.datetime) -> None:
        zone = self._zone(reminder)
        day = due_day(reminder.at, zone, now, reminder.last_run_on)
        if day is None or not await self._repo.claim(reminder.discord_id, day):
            return
        lines = []
        for challenge in await self._standings.running_challenges_of(reminder.discord_id):
            line = await self._line(challenge, reminder.discord_id)
            if line is not None:
                lines.append(line)
        if not lines:
            return
        delivered = await self._messenger.send_dm(reminder.discord_id, content=reminder_text(lines))
        if not delivered:
            log.info("a reminder was not delivered (closed DMs, or no client connected)")

    async def _line(self, challenge: Challenge, member: int) -> str | None:
        """The member's line about one running challenge, or None when there is nothing to
        remind them of (today's goal met; leading a challenge without a goal)."""
        board = await self._standings.current(challenge)
        me = next((p for p in board.standings.players if p.player_id == member), None)
        if me is None:
            return None
        rules = board.standings.rules
        units = board.units
        ahead = ahead_of(board, me)
        goal = rules.daily_goal
        if goal is None:
            return (
                None if ahead is None else rank_line(challenge.name, me.rank, ahead, rules, units)
            )
        done = me.daily_values.get(challenge.today(self._clock.now()), 0.0)
        if done >= goal:
            return None
        place = place_text(me.rank, ahead, rules, units)
        return goal_line(challenge.name, goal - done, rules.metric, units, place)
