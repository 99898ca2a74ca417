"""`ChallengeService`: what the cogs and the daily run call.

It reads challenges, keeps guild settings, and creates, edits, ends and deletes challenges
itself (validating with `specs`); players and teams (`players.Players`,
`players.TeamAssignments`) and fair-play reviews (`review.FairPlayReviews`) are collaborators it
builds and delegates to, so callers see one service.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pydantic import ValidationError

from bot.challenges.inputs import (
    AUTOCOMPLETE_LIMIT,
    ChallengeDraft,
    ChallengeEdit,
    ChallengeSpec,
    GuildSettingsInput,
    user_error_from,
)
from bot.challenges.lookup import find_challenge
from bot.challenges.model import Challenge, ChallengeStatus, GuildSettings, Participant, Phase
from bot.challenges.players import Joined, Players, TeamAssignments, TeamPlan
from bot.challenges.review import FairPlayReviews
from bot.challenges.rulebook import rules
from bot.challenges.specs import challenge_from_spec, edited_spec, spec_from_draft
from bot.clock import Clock
from bot.domain import Metric, Units
from bot.errors import UserError
from bot.events import EventBus
from bot.fair_play import Flag
from bot.scoring import ChallengeRules
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import (
    ChallengesRepo,
    DailyHistoryRepo,
    DuplicateChallengeName,
    ParticipantsRepo,
    ReviewsRepo,
)
from bot.storage.db import Database
from bot.storage.guilds import GuildSettingsRepo

log = logging.getLogger(__name__)

MAX_ACTIVE_CHALLENGES = 10
"""Challenges per guild that are not ended (running, upcoming or awaiting their results)."""


@dataclass(frozen=True, slots=True)
class ChallengeListing:
    running: list[Challenge]
    upcoming: list[Challenge]
    past: list[Challenge]  # most recent first
    players: dict[int, int]  # challenge id -> players (0 when missing)


@dataclass(frozen=True, slots=True)
class Ended:
    challenge: Challenge
    announced: bool  # False when a challenge_ended handler (the results post) failed


def _duplicate_name(name: str) -> UserError:
    return UserError(f"This server already has a challenge called “{name}”: pick another name.")


class ChallengeService:
    """Challenges, players, teams and fair-play reviews of every guild.

    For the daily run: `active_challenges`, `get`, `participants`, `rules` (also a function of
    `rulebook`, beside `ranks_by_streak`), `review_new_values`, `excluded_days`, `finish`."""

    def __init__(
        self, db: Database, clock: Clock, events: EventBus, accounts: AccountsRepo
    ) -> None:
        self._db = db
        self._clock = clock
        self._events = events
        self._guilds = GuildSettingsRepo(db)
        self._challenges = ChallengesRepo(db)
        self._participants = ParticipantsRepo(db)
        history = DailyHistoryRepo(db)
        self._players = Players(
            db, clock, accounts, UsersRepo(db), self._challenges, self._participants, events
        )
        self._teams = TeamAssignments(db, clock, self._challenges, self._participants, history)
        self._reviews = FairPlayReviews(
            db, clock, self._challenges, self._participants, history, ReviewsRepo(db)
        )

    # -- guild settings ----------------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's defaults (UTC, 09:00, no channel, no admin role when never set)."""
        return await self._guilds.get(guild_id)

    async def update_guild_settings(
        self,
        guild_id: int,
        *,
        time_zone: str | None = None,
        post_time: dt.time | None = None,
        leaderboard_channel_id: int | None = None,
        admin_role_id: int | None = None,
        clear_admin_role: bool = False,
        units: Units | None = None,
    ) -> GuildSettings:
        """Change the given defaults (None keeps a value) and return the result."""
        current = await self._guilds.get(guild_id)
        try:
            data = GuildSettingsInput(
                time_zone=current.time_zone if time_zone is None else time_zone,
                post_time=current.post_time if post_time is None else post_time,
                leaderboard_channel_id=leaderboard_channel_id or current.leaderboard_channel_id,
                admin_role_id=None
                if clear_admin_role
                else (admin_role_id or current.admin_role_id),
                units=current.units if units is None else units,
            )
        except ValidationError as exc:
            raise user_error_from(exc) from None
        updated = GuildSettings(guild_id=guild_id, **data.model_dump())
        await self._guilds.save(updated, self._clock.now())
        return updated

    # -- reading -----------------------------------------------------------------------

    async def get(self, challenge_id: int) -> Challenge | None:
        """The challenge with this id, or None (never created, or deleted)."""
        return await self._challenges.get(challenge_id)

    async def find(self, guild_id: int, name: str) -> Challenge:
        """The guild's challenge called `name` (any case), or a UserError."""
        return await find_challenge(self._challenges, guild_id, name)

    async def active_challenges(self, on: dt.date | None = None) -> list[Challenge]:
        """Challenges of every guild that are not ended (status `active`).

        Without `on`: all of them, upcoming ones and ones past their end date whose results
        are not closed yet (`finish`) included; what the scheduler needs. With `on`: only
        those whose dates include that civil day."""
        challenges = await self._challenges.with_status(ChallengeStatus.ACTIVE)
        if on is None:
            return challenges
        return [c for c in challenges if c.start <= on <= c.end]

    def rules(self, challenge: Challenge) -> ChallengeRules:
        """The scoring engine's rules for a stored challenge (same as the module's `rules`)."""
        return rules(challenge)

    async def participants(self, challenge_id: int) -> list[Participant]:
        """The players with their team, first counting day (`joined_on`) and stored display
        name, in the order they joined."""
        return await self._participants.for_challenge(challenge_id)

    async def listing(self, guild_id: int) -> ChallengeListing:
        """The guild's challenges split into running, upcoming and past (each in its zone)."""
        now = self._clock.now()
        by_phase: dict[Phase, list[Challenge]] = {phase: [] for phase in Phase}
        for challenge in await self._challenges.for_guild(guild_id):
            by_phase[challenge.phase(challenge.today(now))].append(challenge)
        past = sorted(by_phase[Phase.PAST], key=lambda c: (c.end, c.id), reverse=True)
        players = await self._participants.counts_for_guild(guild_id)
        return ChallengeListing(by_phase[Phase.RUNNING], by_phase[Phase.UPCOMING], past, players)

    async def challenge_names(
        self, guild_id: int, text: str, *, active_only: bool = False
    ) -> list[str]:
        """Up to 25 names containing `text` for autocomplete (one indexed query)."""
        return await self._challenges.names(
            guild_id, text.strip()[:100], active_only=active_only, limit=AUTOCOMPLETE_LIMIT
        )

    async def team_name_choices(self, guild_id: int, challenge_name: str, text: str) -> list[str]:
        """Up to 25 teams of the named challenge containing `text`, for autocomplete (one
        indexed query; none when the name is not a challenge of the guild)."""
        return await self._participants.team_names_like(
            guild_id, challenge_name, text.strip()[:100], limit=AUTOCOMPLETE_LIMIT
        )

    async def team_names(self, challenge_id: int) -> list[str]:
        return await self._teams.team_names(challenge_id)

    # -- creating and editing ----------------------------------------------------------

    def spec_from_draft(
        self, draft: ChallengeDraft, guild: GuildSettings, now: dt.datetime
    ) -> ChallengeSpec:
        """Fill in the guild's defaults and the preset, then validate (no I/O)."""
        return spec_from_draft(draft, guild, now)

    async def create(self, guild_id: int, created_by: int, draft: ChallengeDraft) -> Challenge:
        """Validate and store a new challenge, then emit `challenge_changed` in the same
        transaction. Raises UserError (nothing stored) on any problem."""
        now = self._clock.now()
        spec = spec_from_draft(draft, await self._guilds.get(guild_id), now)
        async with self._db.transaction():
            if await self._challenges.get_by_name(guild_id, spec.name) is not None:
                raise _duplicate_name(spec.name)
            if await self._challenges.count_active(guild_id) >= MAX_ACTIVE_CHALLENGES:
                raise UserError(
                    f"This server already has {MAX_ACTIVE_CHALLENGES} challenges that have not "
                    "ended, the most allowed: end or delete one first."
                )
            challenge = challenge_from_spec(spec, guild_id, created_by, now)
            try:
                challenge_id = await self._challenges.insert(challenge)
            except DuplicateChallengeName:
                raise _duplicate_name(spec.name) from None
            challenge = replace(challenge, id=challenge_id)
            await self._events.emit("challenge_changed", challenge_id=challenge_id)
        log.info("challenge %d created in guild %d", challenge.id, guild_id)
        return challenge

    async def edit(self, guild_id: int, name: str, changes: ChallengeEdit) -> Challenge:
        """Apply `changes` to the guild's challenge `name`, validate the result as a whole and
        emit `challenge_changed` in the same transaction."""
        if changes.is_empty():
            raise UserError("Nothing to change: give at least one new setting.")
        now = self._clock.now()
        async with self._db.transaction():
            current = await self.find(guild_id, name)
            spec = edited_spec(current, changes, now, await self._guilds.units(guild_id))
            renamed = spec.name.casefold() != current.name.casefold()
            if renamed and await self._challenges.get_by_name(guild_id, spec.name) is not None:
                raise _duplicate_name(spec.name)
            players = await self._participants.count(current.id)
            if spec.max_players is not None and spec.max_players < players:
                raise UserError(
                    f"“{current.name}” already has {players} players: set max players to at "
                    f"least {players}, or 0 for no limit."
                )
            updated = replace(
                challenge_from_spec(spec, guild_id, current.created_by, current.created_at),
                id=current.id,
            )
            try:
                await self._challenges.update(updated)
            except DuplicateChallengeName:
                raise _duplicate_name(spec.name) from None
            await self._events.emit("challenge_changed", challenge_id=current.id)
        return updated

    # -- ending and deleting -----------------------------------------------------------

    async def end(self, guild_id: int, name: str) -> Ended:
        """End a running challenge early: status `ended`, and its last day yesterday in its zone
        (unless it ended earlier), the last day that was played in full: the results the daily
        run posts stop there. `challenge_ended` is emitted after the commit."""
        now = self._clock.now()
        async with self._db.transaction():
            current = await self.find(guild_id, name)
            today = current.today(now)
            if current.status is ChallengeStatus.ENDED:
                raise UserError(f"“{current.name}” has already ended.")
            if today < current.start:
                raise UserError(
                    f"“{current.name}” has not started yet: use /challenge delete to cancel it."
                )
            if today == current.start:
                raise UserError(
                    f"“{current.name}” started today, so no day of it is over and there would be "
                    "no results: use /challenge delete to cancel it, or end it from tomorrow."
                )
            ended = replace(
                current,
                status=ChallengeStatus.ENDED,
                end=min(current.end, today - dt.timedelta(days=1)),
                ended_at=now,
            )
            await self._challenges.update(ended)
        return Ended(ended, await self._emit_ended(ended.id))

    async def finish(self, challenge_id: int) -> None:
        """Close a challenge whose last day is scored and whose results are posted (status
        `ended`, dates unchanged, no `ended_at`: it ran its course; no event); for the daily
        run."""
        challenge = await self._challenges.get(challenge_id)
        if challenge is not None and challenge.status is ChallengeStatus.ACTIVE:
            await self._challenges.update(replace(challenge, status=ChallengeStatus.ENDED))

    async def delete(self, guild_id: int, challenge_id: int) -> Challenge:
        """Delete a challenge with its players, scores and reviews; then emit
        `challenge_ended` (after which `get()` returns None for it)."""
        async with self._db.transaction():
            challenge = await self._challenges.get(challenge_id)
            if challenge is None or challenge.guild_id != guild_id:
                raise UserError("That challenge no longer exists.")
            await self._challenges.delete(challenge_id)
        await self._emit_ended(challenge_id)
        log.info("challenge %d deleted in guild %d", challenge_id, guild_id)
        return challenge

    async def _emit_ended(self, challenge_id: int) -> bool:
        try:
            await self._events.emit("challenge_ended", challenge_id=challenge_id)
        except Exception:
            log.exception("a challenge_ended handler failed for challenge %d", challenge_id)
            return False
        return True

    # -- players and teams (`players`) -------------------------------------------------

    async def joinable(self, guild_id: int) -> list[Challenge]:
        """The guild's challenges a player can still join (not ended, last day not past)."""
        return await self._players.joinable(guild_id)

    async def pick_for_player(self, guild_id: int, name: str | None) -> Challenge:
        """The challenge named `name`, or the guild's only joinable one when `name` is None."""
        return await self._players.pick_for_player(guild_id, name)

    async def join(
        self, guild_id: int, name: str | None, discord_id: int, display_name: str | None
    ) -> Joined:
        """Add a player (see `Players.join`)."""
        return await self._players.join(guild_id, name, discord_id, display_name)

    async def leave(self, guild_id: int, name: str | None, discord_id: int) -> Challenge:
        """Take a player out of a challenge that has not ended (with their scores in it)."""
        return await self._players.leave(guild_id, name, discord_id)

    async def kick(self, guild_id: int, name: str, discord_id: int) -> Challenge:
        """Remove a player (an admin's decision); their scores in it go, their data stays."""
        return await self._players.kick(guild_id, name, discord_id)

    async def assign_team(
        self, guild_id: int, name: str, discord_id: int, team: str
    ) -> tuple[Challenge, str]:
        return await self._teams.assign_team(guild_id, name, discord_id, team)

    async def rename_team(
        self, guild_id: int, name: str, old: str, new: str
    ) -> tuple[Challenge, int]:
        return await self._teams.rename_team(guild_id, name, old, new)

    async def recent_averages(self, challenge: Challenge) -> dict[int, float | None]:
        """Each player's recent daily average (see `TeamAssignments.recent_averages`)."""
        return await self._teams.recent_averages(challenge)

    async def auto_teams(self, guild_id: int, name: str, team_count: int) -> TeamPlan:
        """Put every player in one of `team_count` balanced teams (see `balance_teams`)."""
        return await self._teams.auto_teams(guild_id, name, team_count)

    # -- fair play (`review`) ----------------------------------------------------------

    async def review_new_values(
        self,
        challenge_id: int,
        values: Sequence[tuple[int, Metric | str, dt.date, float]],
    ) -> list[Flag]:
        """Flag suspicious new values as pending reviews (see
        `FairPlayReviews.review_new_values`)."""
        return await self._reviews.review_new_values(challenge_id, values)

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]:
        """(discord_id, day) pairs an admin excluded: leave those values out of the scores."""
        return await self._reviews.excluded_days(challenge_id)

    async def pending_reviews(self, challenge_id: int) -> list[Flag]:
        return await self._reviews.pending_reviews(challenge_id)

    async def decide_review(
        self, guild_id: int, review_id: int, *, exclude: bool, reviewed_by: int
    ) -> Flag:
        """Exclude (the value stays stored but does not count) or accept a flagged value."""
        return await self._reviews.decide_review(
            guild_id, review_id, exclude=exclude, reviewed_by=reviewed_by
        )
