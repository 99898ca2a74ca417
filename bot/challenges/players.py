"""Who plays a challenge, and in which team.

`Players` adds and removes players: `/join` (a linked account needed, the max players limit,
late joiners' first day; `participant_joined` is emitted once it is committed, and the daily
run fetches the player's baseline), `/leave` and an admin's kick. `TeamAssignments` puts
players in teams, by hand (one spelling per team) or balanced by their recent averages
(`teams.balance_teams`). `ChallengeService` delegates to both; each change runs in one
transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from bot.challenges.inputs import MAX_TEAM_NAME_LENGTH, validated_name
from bot.challenges.lookup import find_challenge
from bot.challenges.model import Challenge, ChallengeStatus, Participant, Phase
from bot.challenges.teams import TEAM_NAMES, balance_teams
from bot.clock import Clock
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.events import EventBus
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, DailyHistoryRepo, ParticipantsRepo
from bot.storage.db import Database

log = logging.getLogger(__name__)

TEAM_AVERAGE_DAYS = 28
"""How many days before today make up a player's recent average for `/challenge team auto`."""


@dataclass(frozen=True, slots=True)
class Joined:
    challenge: Challenge
    participant: Participant
    late: bool  # joined after the start


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """The outcome of `auto_teams`: each team's members and their recent daily averages."""

    teams: dict[str, list[tuple[int, float | None]]]


class Players:
    """Joining, leaving and kicking players."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        accounts: AccountsRepo,
        users: UsersRepo,
        challenges: ChallengesRepo,
        participants: ParticipantsRepo,
        events: EventBus,
    ) -> None:
        self._db = db
        self._clock = clock
        self._accounts = accounts
        self._users = users
        self._challenges = challenges
        self._participants = participants
        self._events = events

    async def joinable(self, guild_id: int) -> list[Challenge]:
        """The guild's challenges a player can still join (not ended, last day not past)."""
        now = self._clock.now()
        return [
            c
            for c in await self._challenges.for_guild(guild_id)
            if c.phase(c.today(now)) is not Phase.PAST
        ]

    async def pick_for_player(self, guild_id: int, name: str | None) -> Challenge:
        """The challenge named `name`, or the guild's only joinable one when `name` is None."""
        if name:
            return await find_challenge(self._challenges, guild_id, name)
        open_ones = await self.joinable(guild_id)
        if len(open_ones) == 1:
            return open_ones[0]
        if not open_ones:
            raise UserError("There is no challenge to join in this server right now.")
        names = ", ".join(f"“{c.name}”" for c in open_ones[:5])
        raise UserError(f"Several challenges are open ({names}): pick one with the option.")

    async def join(
        self, guild_id: int, name: str | None, discord_id: int, display_name: str | None
    ) -> Joined:
        """Add a player. They need a linked account; a late joiner counts from today (or from
        the start when the challenge backfills); the max players limit is enforced. Then
        `participant_joined` (its handlers only start work: a failing one is logged, the
        player stays in)."""
        now = self._clock.now()
        accounts = [
            a
            for a in await self._accounts.for_user(discord_id)
            if a.status is not AccountStatus.REVOKED
        ]
        if not accounts:
            raise UserError(
                "Link a fitness account first: run /link, connect your tracker, then /join again."
            )
        async with self._db.transaction():
            challenge = await self.pick_for_player(guild_id, name)
            today = challenge.today(now)
            if challenge.phase(today) is Phase.PAST:
                raise UserError(f"“{challenge.name}” is over: it can no longer be joined.")
            if await self._participants.get(challenge.id, discord_id) is not None:
                raise UserError(f"You are already in “{challenge.name}”.")
            count = await self._participants.count(challenge.id)
            if challenge.max_players is not None and count >= challenge.max_players:
                raise UserError(f"“{challenge.name}” is full ({challenge.max_players} players).")
            late = today > challenge.start
            joined_on = today if late and not challenge.late_join_backfill else challenge.start
            await self._users.ensure(discord_id, now, display_name)
            await self._participants.add(challenge.id, discord_id, joined_on, now)
            participant = await self._participants.get(challenge.id, discord_id)
        if participant is None:  # pragma: no cover - inserted just above
            raise RuntimeError("participant vanished right after joining")
        await self._announce_join(challenge.id, discord_id)
        return Joined(challenge, participant, late)

    async def _announce_join(self, challenge_id: int, discord_id: int) -> None:
        try:
            await self._events.emit(
                "participant_joined", challenge_id=challenge_id, discord_id=discord_id
            )
        except Exception:
            log.exception("a participant_joined handler failed for challenge %d", challenge_id)

    async def leave(self, guild_id: int, name: str | None, discord_id: int) -> Challenge:
        """Take a player out of a challenge that has not ended (with their scores in it)."""
        async with self._db.transaction():
            challenge = await self._challenge_of_player(guild_id, name, discord_id)
            if challenge.phase(challenge.today(self._clock.now())) is Phase.PAST:
                raise UserError(f"“{challenge.name}” is over: its results stay as they are.")
            if not await self._participants.remove(challenge.id, discord_id):
                raise UserError(f"You are not in “{challenge.name}”.")
        return challenge

    async def _challenge_of_player(
        self, guild_id: int, name: str | None, discord_id: int
    ) -> Challenge:
        if name:
            return await find_challenge(self._challenges, guild_id, name)
        mine = [
            c
            for c in await self.joinable(guild_id)
            if await self._participants.get(c.id, discord_id) is not None
        ]
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise UserError("You are not in any challenge of this server that is still on.")
        raise UserError("You are in several challenges: pick one with the option.")

    async def kick(self, guild_id: int, name: str, discord_id: int) -> Challenge:
        """Remove a player (an admin's decision); their scores in it go, their data stays."""
        async with self._db.transaction():
            challenge = await find_challenge(self._challenges, guild_id, name)
            if not await self._participants.remove(challenge.id, discord_id):
                raise UserError(f"That member is not in “{challenge.name}”.")
        return challenge


class TeamAssignments:
    """Players' teams: assigned and renamed by hand, or balanced automatically."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        challenges: ChallengesRepo,
        participants: ParticipantsRepo,
        history: DailyHistoryRepo,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._participants = participants
        self._history = history

    async def team_names(self, challenge_id: int) -> list[str]:
        teams = {p.team for p in await self._participants.for_challenge(challenge_id) if p.team}
        return sorted(teams, key=str.casefold)

    async def assign_team(
        self, guild_id: int, name: str, discord_id: int, team: str
    ) -> tuple[Challenge, str]:
        try:
            team_name = validated_name(team, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await find_challenge(self._challenges, guild_id, name)
            existing = {t.casefold(): t for t in await self.team_names(challenge.id)}
            team_name = existing.get(team_name.casefold(), team_name)  # keep one spelling
            if not await self._participants.set_team(challenge.id, discord_id, team_name):
                raise UserError(f"That member is not in “{challenge.name}”: they /join first.")
        return challenge, team_name

    async def rename_team(
        self, guild_id: int, name: str, old: str, new: str
    ) -> tuple[Challenge, int]:
        try:
            new_name = validated_name(new, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await find_challenge(self._challenges, guild_id, name)
            teams = {t.casefold() for t in await self.team_names(challenge.id)}
            if old.strip().casefold() not in teams:
                raise UserError(f"“{challenge.name}” has no team called “{old.strip()}”.")
            if new_name.casefold() in teams and new_name.casefold() != old.strip().casefold():
                raise UserError(
                    f"“{challenge.name}” already has a team called “{new_name}”: pick another name."
                )
            renamed = await self._participants.rename_team(challenge.id, old.strip(), new_name)
        return challenge, renamed

    async def recent_averages(self, challenge: Challenge) -> dict[int, float | None]:
        """Each player's mean daily value of the challenge metric over the `TEAM_AVERAGE_DAYS`
        days before today (days with data only), None without data."""
        today = challenge.today(self._clock.now())
        first = today - dt.timedelta(days=TEAM_AVERAGE_DAYS)
        history = await self._history.participants_daily_max(
            challenge.id,
            challenge.metric,
            first,
            today - dt.timedelta(days=1),
            include_manual=challenge.allow_manual,
        )
        averages: dict[int, float | None] = {}
        for participant in await self._participants.for_challenge(challenge.id):
            days = history.get(participant.discord_id, {})
            averages[participant.discord_id] = (
                math.fsum(days.values()) / len(days) if days else None
            )
        return averages

    async def auto_teams(self, guild_id: int, name: str, team_count: int) -> TeamPlan:
        """Put every player in one of `team_count` balanced teams (see `balance_teams`)."""
        if not 2 <= team_count <= len(TEAM_NAMES):
            raise UserError(f"Pick between 2 and {len(TEAM_NAMES)} teams.")
        async with self._db.transaction():
            challenge = await find_challenge(self._challenges, guild_id, name)
            if challenge.status is ChallengeStatus.ENDED:
                raise UserError(f"“{challenge.name}” has ended: its teams stay as they are.")
            averages = await self.recent_averages(challenge)
            if len(averages) < team_count:
                raise UserError(
                    f"“{challenge.name}” has {len(averages)} players: {team_count} teams need "
                    f"at least {team_count}."
                )
            names = TEAM_NAMES[:team_count]
            assignment = balance_teams(averages, names)
            await self._participants.set_teams(challenge.id, assignment)
        plan: dict[str, list[tuple[int, float | None]]] = {team: [] for team in names}
        for player, team in sorted(assignment.items()):
            plan[team].append((player, averages[player]))
        return TeamPlan(plan)
