"""Fair-play reviews: suspicious new values flagged as pending (see `bot.fair_play` for what is
suspicious), an admin's decision on each, and the days excluded from the scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from bot.clock import Clock
from bot.domain import Metric
from bot.errors import UserError
from bot.fair_play import Flag, ReviewStatus, history_window, suspicious_values
from bot.storage.challenges import ChallengesRepo, DailyHistoryRepo, ParticipantsRepo, ReviewsRepo
from bot.storage.db import Database
from bot.storage.guilds import GuildSettingsRepo


class FairPlayReviews:
    """Flags for the daily run, decisions for admins."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        challenges: ChallengesRepo,
        participants: ParticipantsRepo,
        history: DailyHistoryRepo,
        reviews: ReviewsRepo,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._participants = participants
        self._history = history
        self._reviews = reviews
        self._guilds = GuildSettingsRepo(db)

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
            challenge_id,
            challenge.metric,
            first,
            last,
            include_manual=challenge.allow_manual,
            players={player for player, _ in newest},  # only the history that is compared
        )
        units = await self._guilds.units(challenge.guild_id)
        flagged = suspicious_values(challenge.metric, newest, history, units=units)
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
