"""`ChallengeService`: what the cogs and the daily run call."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.challenges.inputs import (
    AUTOCOMPLETE_LIMIT,
    MAX_TEAM_NAME_LENGTH,
    ChallengeDraft,
    ChallengeEdit,
    ChallengeSpec,
    GuildSettingsInput,
    canonical_time_zone,
    clean_name,
    start_problem,
    today_in,
    user_error_from,
    validated_spec,
)
from bot.challenges.model import Challenge, ChallengeStatus, GuildSettings, Participant, Phase
from bot.challenges.presets import DEFAULT_GOALS, Preset, preset_dates
from bot.challenges.rulebook import rules
from bot.challenges.teams import TEAM_NAMES, balance_teams
from bot.clock import Clock
from bot.domain import AccountStatus, Metric
from bot.errors import UserError
from bot.events import EventBus
from bot.fair_play import (
    Flag,
    ReviewStatus,
    history_window,
    suspicious_values,
)
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
TEAM_AVERAGE_DAYS = 28
"""How many days before today make up a player's recent average for `/challenge team auto`."""


# --------------------------------------------------------------------------- results


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


@dataclass(frozen=True, slots=True)
class Joined:
    challenge: Challenge
    participant: Participant
    late: bool  # joined after the start


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """The outcome of `auto_teams`: each team's members and their recent daily averages."""

    teams: dict[str, list[tuple[int, float | None]]]


def _duplicate_name(name: str) -> UserError:
    return UserError(f"This server already has a challenge called “{name}”: pick another name.")


class ChallengeService:
    """Challenges, players, teams and fair-play reviews of every guild.

    For the daily run: `active_challenges`, `get`, `participants`, `rules` (module function),
    `ranks_by_streak`, `review_new_values`, `excluded_days`, `finish`."""

    def __init__(
        self, db: Database, clock: Clock, events: EventBus, accounts: AccountsRepo
    ) -> None:
        self._db = db
        self._clock = clock
        self._events = events
        self._accounts = accounts
        self._users = UsersRepo(db)
        self._guilds = GuildSettingsRepo(db)
        self._challenges = ChallengesRepo(db)
        self._participants = ParticipantsRepo(db)
        self._history = DailyHistoryRepo(db)
        self._reviews = ReviewsRepo(db)

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
        challenge = await self._challenges.get_by_name(guild_id, name)
        if challenge is None:
            raise UserError(
                f"There is no challenge called “{name.strip()}” in this server: "
                "pick one from the list."
            )
        return challenge

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
        teams = {p.team for p in await self._participants.for_challenge(challenge_id) if p.team}
        return sorted(teams, key=str.casefold)

    # -- creating and editing ----------------------------------------------------------

    def spec_from_draft(
        self, draft: ChallengeDraft, guild: GuildSettings, now: dt.datetime
    ) -> ChallengeSpec:
        """Fill in the guild's defaults and the preset, then validate (no I/O)."""
        try:
            time_zone = canonical_time_zone(draft.time_zone or guild.time_zone)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        post_time = draft.post_time or guild.post_time
        metric = draft.metric or Metric.STEPS
        start, end = draft.start, draft.end
        mode = draft.mode
        goal = draft.daily_goal
        if draft.preset is not None:
            preset = draft.preset
            if end is not None and preset is not Preset.STREAK:
                raise UserError(
                    f"The {preset.label} preset sets its own end date: leave the end date out."
                )
            local_now = now.astimezone(ZoneInfo(time_zone))
            if start is not None and (problem := start_problem(start, local_now.date(), time_zone)):
                raise UserError(problem)  # before the preset's date arithmetic
            start, preset_end = preset_dates(preset, local_now, post_time, start)
            end = end or preset_end
            mode = mode or preset.mode
            if preset.needs_goal and goal is None:
                goal = DEFAULT_GOALS[metric]
        if mode is None:
            raise UserError("Pick a scoring mode, or a preset that sets one.")
        if start is None or end is None:
            raise UserError("Give a start date and an end date, or pick a preset that sets them.")
        data = {
            **draft.model_dump(),  # every draft field is a spec field
            "metric": metric,
            "mode": mode,
            "start": start,
            "end": end,
            "post_time": post_time,
            "time_zone": time_zone,
            "daily_goal": goal,
        }
        return validated_spec(data, now=now, new=True)

    async def create(self, guild_id: int, created_by: int, draft: ChallengeDraft) -> Challenge:
        """Validate and store a new challenge, then emit `challenge_changed` in the same
        transaction. Raises UserError (nothing stored) on any problem."""
        now = self._clock.now()
        spec = self.spec_from_draft(draft, await self._guilds.get(guild_id), now)
        async with self._db.transaction():
            if await self._challenges.get_by_name(guild_id, spec.name) is not None:
                raise _duplicate_name(spec.name)
            if await self._challenges.count_active(guild_id) >= MAX_ACTIVE_CHALLENGES:
                raise UserError(
                    f"This server already has {MAX_ACTIVE_CHALLENGES} challenges that have not "
                    "ended, the most allowed: end or delete one first."
                )
            challenge = _challenge_from_spec(spec, guild_id, created_by, now)
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
            spec = self._edited_spec(current, changes, now)
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
                _challenge_from_spec(spec, guild_id, current.created_by, current.created_at),
                id=current.id,
            )
            try:
                await self._challenges.update(updated)
            except DuplicateChallengeName:
                raise _duplicate_name(spec.name) from None
            await self._events.emit("challenge_changed", challenge_id=current.id)
        return updated

    def _edited_spec(
        self, current: Challenge, changes: ChallengeEdit, now: dt.datetime
    ) -> ChallengeSpec:
        if current.status is ChallengeStatus.ENDED:
            raise UserError(f"“{current.name}” has ended: it can no longer be edited.")
        given = changes.model_dump(exclude_none=True)
        for field in ("daily_goal", "daily_cap", "max_players"):
            if given.get(field) == 0:
                given[field] = None  # 0 removes the limit
        data = {**_spec_data(current), **given}
        if "mode" in given and given["mode"] != current.mode:
            data["preset"] = None  # the preset's shape no longer applies
            # Nor does the old mode's points table or tiers, which no edit option can remove:
            # only those given with the new mode are kept.
            data["points_table"] = given.get("points_table")
            data["tiers"] = given.get("tiers")
        today = current.today(now)
        if today >= current.start:
            locked = [
                label
                for field, label in (
                    ("start", "start date"),
                    ("metric", "metric"),
                    ("mode", "scoring"),
                )
                if field in given and given[field] != getattr(current, field)
            ]
            if locked:
                raise UserError(
                    f"“{current.name}” has already started, so its {' and '.join(locked)} can no "
                    "longer change."
                )
        spec = validated_spec(data, now=now, new="start" in given)
        new_today = today_in(spec.time_zone, now)
        if "end" in given and spec.end < new_today:
            raise UserError(
                f"The end date {spec.end.isoformat()} is in the past: to stop the challenge "
                "now, use /challenge end."
            )
        return spec

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

    # -- players -----------------------------------------------------------------------

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
            return await self.find(guild_id, name)
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
        the start when the challenge backfills); the max players limit is enforced."""
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
        return Joined(challenge, participant, late)

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
            return await self.find(guild_id, name)
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
            challenge = await self.find(guild_id, name)
            if not await self._participants.remove(challenge.id, discord_id):
                raise UserError(f"That member is not in “{challenge.name}”.")
        return challenge

    # -- teams -------------------------------------------------------------------------

    async def assign_team(
        self, guild_id: int, name: str, discord_id: int, team: str
    ) -> tuple[Challenge, str]:
        try:
            team_name = clean_name(team, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
            existing = {t.casefold(): t for t in await self.team_names(challenge.id)}
            team_name = existing.get(team_name.casefold(), team_name)  # keep one spelling
            if not await self._participants.set_team(challenge.id, discord_id, team_name):
                raise UserError(f"That member is not in “{challenge.name}”: they /join first.")
        return challenge, team_name

    async def rename_team(
        self, guild_id: int, name: str, old: str, new: str
    ) -> tuple[Challenge, int]:
        try:
            new_name = clean_name(new, what="team name", limit=MAX_TEAM_NAME_LENGTH)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        async with self._db.transaction():
            challenge = await self.find(guild_id, name)
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
            challenge = await self.find(guild_id, name)
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

    # -- fair play ---------------------------------------------------------------------

    async def review_new_values(
        self,
        challenge_id: int,
        values: Sequence[tuple[int, Metric | str, dt.date, float]],
    ) -> list[Flag]:
        """Flag suspicious new values (see `bot.fair_play`) as pending reviews.

        `values` are (discord_id, metric, day, value) as just stored by the daily run; only the
        challenge's metric, days and participants are considered, and several readings of one
        day are judged by the highest. Idempotent: returns only the flags this call created
        (a still-pending flag takes a newer value without being returned again)."""
        challenge = await self._challenges.get(challenge_id)
        if challenge is None:
            return []
        players = {p.discord_id for p in await self._participants.for_challenge(challenge_id)}
        newest: dict[tuple[int, dt.date], float] = {}
        for discord_id, metric, day, value in values:
            if (
                Metric(metric) is challenge.metric
                and discord_id in players
                and challenge.start <= day <= challenge.end
            ):
                key = (discord_id, day)
                newest[key] = max(newest.get(key, value), value)
        if not newest:
            return []
        first = history_window(min(day for _, day in newest))[0]
        last = history_window(max(day for _, day in newest))[1]
        history = await self._history.participants_daily_max(
            challenge_id, challenge.metric, first, last, include_manual=challenge.allow_manual
        )
        flagged = suspicious_values(challenge.metric, newest, history)
        return await self._reviews.add_pending(
            challenge_id,
            [
                (player, challenge.metric, day, newest[(player, day)], found.reason)
                for (player, day), found in flagged.items()
            ],
            self._clock.now(),
        )

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]:
        """(discord_id, day) pairs an admin excluded: leave those values out of the scores."""
        return await self._reviews.excluded(challenge_id)

    async def pending_reviews(self, challenge_id: int) -> list[Flag]:
        return await self._reviews.with_status(challenge_id, ReviewStatus.PENDING)

    async def decide_review(
        self, guild_id: int, review_id: int, *, exclude: bool, reviewed_by: int
    ) -> Flag:
        """Exclude (the value stays stored but does not count) or accept a flagged value."""
        status = ReviewStatus.EXCLUDED if exclude else ReviewStatus.ACCEPTED
        async with self._db.transaction():
            flag = await self._reviews.get(review_id)
            challenge = None if flag is None else await self._challenges.get(flag.challenge_id)
            if flag is None or challenge is None or challenge.guild_id != guild_id:
                raise UserError("That flag no longer exists.")
            await self._reviews.decide(review_id, status, reviewed_by, self._clock.now())
        return replace(flag, status=status, reviewed_by=reviewed_by)


def _spec_data(challenge: Challenge) -> dict[str, Any]:
    """A stored challenge's settings as `ChallengeSpec` input (for validating an edit)."""
    data = {field: getattr(challenge, field) for field in ChallengeSpec.model_fields}
    data["preset"] = Preset(challenge.preset) if challenge.preset else None
    return data


def _challenge_from_spec(
    spec: ChallengeSpec, guild_id: int, created_by: int, created_at: dt.datetime
) -> Challenge:
    return Challenge(
        id=0,
        guild_id=guild_id,
        **spec.model_dump(exclude={"preset"}),
        preset=None if spec.preset is None else spec.preset.value,
        status=ChallengeStatus.ACTIVE,
        ended_at=None,
        created_by=created_by,
        created_at=created_at,
    )
