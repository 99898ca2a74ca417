"""`NudgeService`: the switches, and what the live sync calls after it stored a member's values.

`after_sync(discord_id)` looks at every running challenge the member plays in, where the
admins left nudges on and at least one player turned them on:

* the standings are read (`StandingsReader.current`, stored data only) and each player's rank
  is swapped for the one seen last time; a player who turned nudges on and whom the member
  just passed (ahead before, behind now) is due "Ana just passed you";
* the member, if they turned nudges on, is due "2,300 steps to today's goal" while today's
  goal is not met (today's values counted as the standings count them).

Of the nudges due, a member gets at most one (the first due, in the order of their
challenges), only within the waking hours of that challenge's time zone, and only if their
last nudge is `min_interval` old: the nudge is recorded before it is sent, so a crash or a
second sync at once never sends two.
A nudge is never queued for later; a failure here is logged and never reaches the sync.

The last seen ranks are only kept while someone in the challenge has nudges on, so they are
forgotten when a member turns nudges on and when an admin turns them back on: the first
sync after that sets them again instead of comparing with ranks from long ago.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from bot.challenges.model import Challenge, Phase
from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.daily import Board, StandingsReader
from bot.notify import Messenger
from bot.nudges.detect import Nudge, NudgeKind, goal_gap, passed_by
from bot.nudges.messages import goal_text, passed_text
from bot.nudges.policy import NudgePolicy
from bot.render.text import display_name
from bot.storage.db import Database
from bot.storage.nudges import NudgesRepo
from bot.storage.values import ValuesRepo

log = logging.getLogger(__name__)


class NudgeService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeService,
        standings: StandingsReader,
        messenger: Messenger,
        policy: NudgePolicy,
    ) -> None:
        self._clock = clock
        self._challenges = challenges
        self._standings = standings
        self._messenger = messenger
        self.policy = policy
        self._repo = NudgesRepo(db)
        self._values = ValuesRepo(db)

    # -- the switches ------------------------------------------------------------------

    async def member_enabled(self, discord_id: int) -> bool:
        return await self._repo.member_enabled(discord_id)

    async def set_member(self, discord_id: int, *, enabled: bool) -> None:
        """A member's own switch, for every challenge they play in (off until turned on)."""
        if enabled:
            await self._repo.forget_ranks_of_challenges_of(discord_id)
        await self._repo.set_member(discord_id, enabled=enabled, now=self._clock.now())

    async def challenge_enabled(self, challenge_id: int) -> bool:
        return await self._repo.challenge_enabled(challenge_id)

    async def set_challenge(self, challenge: Challenge, *, enabled: bool) -> None:
        """An admin's switch for one challenge (on until turned off)."""
        if enabled:
            await self._repo.forget_ranks(challenge.id)
        await self._repo.set_challenge(challenge.id, enabled=enabled, now=self._clock.now())

    # -- after a sync ------------------------------------------------------------------

    async def after_sync(self, discord_id: int) -> None:
        """Send the nudges the member's newly stored values make due (see the module)."""
        try:
            due: list[Nudge] = []
            for challenge in await self._running_challenges_of(discord_id):
                due += await self._due_in(challenge, discord_id)
            await self._deliver(due)
        except Exception:
            log.exception("nudges after a sync failed")

    async def _running_challenges_of(self, discord_id: int) -> list[Challenge]:
        now = self._clock.now()
        running = []
        for challenge_id in await self._standings.challenge_ids_of(discord_id):
            challenge = await self._challenges.get(challenge_id)
            if challenge is not None and challenge.phase(challenge.today(now)) is Phase.RUNNING:
                running.append(challenge)
        return running

    async def _due_in(self, challenge: Challenge, mover: int) -> list[Nudge]:
        if not await self._repo.challenge_enabled(challenge.id):
            return []
        members = await self._repo.enabled_players(challenge.id)
        if not members:
            return []
        board = await self._standings.current(challenge)
        ranks = {player.player_id: player.rank for player in board.standings.players}
        before = await self._repo.swap_ranks(challenge.id, ranks)
        due = pass_nudges(board, before, ranks, mover, members)
        if mover in members:
            goal = await self._goal_nudge(challenge, mover)
            if goal is not None:
                due.append(goal)
        return due

    async def _goal_nudge(self, challenge: Challenge, member: int) -> Nudge | None:
        today = challenge.today(self._clock.now())
        rules = self._challenges.rules(challenge)
        if rules.daily_goal is None or (member, today) in await self._challenges.excluded_days(
            challenge.id
        ):
            return None
        stored = await self._values.challenge_values(challenge.id, rules.metric, today, today)
        remaining = goal_gap(rules, stored.get(member, []), today)
        if remaining is None:
            return None
        return Nudge(
            recipient=member,
            challenge=challenge,
            kind=NudgeKind.GOAL,
            text=goal_text(
                challenge.name,
                remaining,
                rules.metric,
                (await self._challenges.guild_settings(challenge.guild_id)).units,
            ),
        )

    async def _deliver(self, due: list[Nudge]) -> None:
        """At most one nudge per member, within waking hours, recorded before it is sent."""
        now = self._clock.now()
        chosen: dict[int, Nudge] = {}
        for nudge in due:
            if nudge.recipient not in chosen and self.policy.awake(now, nudge.challenge.zone):
                chosen[nudge.recipient] = nudge
        for nudge in chosen.values():
            last_before = now - self.policy.min_interval
            if not await self._repo.claim(nudge.recipient, now, last_before=last_before):
                continue
            try:
                delivered = await self._messenger.send_dm(nudge.recipient, content=nudge.text)
            except Exception:
                log.exception("a nudge could not be sent (challenge %d)", nudge.challenge.id)
                continue
            if not delivered:
                log.info("a nudge was not delivered (closed DMs, or no client connected)")


def pass_nudges(
    board: Board,
    before: Mapping[int, int],
    after: Mapping[int, int],
    mover: int,
    members: Iterable[int],
) -> list[Nudge]:
    """A "just passed you" nudge to each of `members` that `mover` just passed, naming
    `mover` as the server shows them; none when `mover` chose to hide (`bot.profiles`)."""
    if mover in board.hidden:
        return []
    scores = {player.player_id: player.score for player in board.standings.players}
    rules = board.standings.rules
    passer = display_name(board.names, mover)
    return [
        Nudge(
            recipient=member,
            challenge=board.challenge,
            kind=NudgeKind.PASSED,
            text=passed_text(
                board.challenge.name, passer, scores[mover] - scores[member], rules, board.units
            ),
        )
        for member in passed_by(before, after, mover, members)
    ]
