"""Corrections by admins: `/challenge adjust` sets a player's value for one day
(`AdjustmentService`).

An admin may set or fix a player's value for any day of a challenge from the player's first
day to today, until the challenge's results are posted; a final day too (its frozen scores
are rewritten). The adjustment is kept with who made it, when, why, and the value before and
after (`bot.storage.adjustments`); the standings count the latest one of each day
(`bot.daily.corrections`), so every read after it is rescored; the player gets a DM saying
what changed and why; the next post marks the amount and says what changed, "a final day"
included (`bot.daily.mentions`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from bot.challenges.amounts import Amount, parse_amount
from bot.challenges.inputs import METRIC_LIMITS
from bot.challenges.model import Challenge, Participant
from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.daily.corrections import amount_change
from bot.daily.standings import StandingsReader
from bot.domain import Metric, Units
from bot.errors import UserError
from bot.notify import Messenger
from bot.render.text import escape_markdown, format_amount, format_date, printable_name
from bot.storage.adjustments import Adjustment, AdjustmentsRepo, NewAdjustment
from bot.storage.db import Database
from bot.storage.runs import RunsRepo, RunStatus
from bot.storage.values import ScoreRow, ValuesRepo

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Adjusted:
    """What an adjustment did, for the admin's reply."""

    challenge: Challenge
    adjustment: Adjustment
    units: Units
    member_told: bool  # the DM reached the player


def checked_reason(reason: str) -> str:
    """The reason on one line; a UserError when it is empty or too long."""
    text = " ".join(reason.split())
    if not text:
        raise UserError("Give a reason for the correction: the player and the admins see it.")
    if len(text) > MAX_REASON_LENGTH:
        raise UserError(
            f"The reason is {len(text)} characters long: keep it to {MAX_REASON_LENGTH}."
        )
    return text


def checked_value(value: Amount, metric: Metric, units: Units) -> float:
    """The amount as stored (`parse_amount`: '12000', '8 km', '5 mi'), if it is one a day can
    sanely count; a UserError otherwise."""
    high = METRIC_LIMITS[metric][1]
    stored = parse_amount(value, metric, units)
    if not math.isfinite(stored) or not 0 <= stored <= high:
        raise UserError(
            f"A day's {metric.label.lower()} must be between {format_amount(0, metric, units)} "
            f"and {format_amount(high, metric, units)}."
        )
    return stored


def day_problem(
    challenge: Challenge, player: Participant, day: dt.date, today: dt.date
) -> str | None:
    """Why `day` cannot be adjusted for `player`: outside the challenge, before the player's
    first day, or in the future."""
    shown = format_date(day, year=True, padded=True)
    if not challenge.start <= day <= challenge.end:
        return (
            f"{shown} is not a day of “{challenge.name}”, which runs from "
            f"{format_date(challenge.start, year=True, padded=True)} to "
            f"{format_date(challenge.end, year=True, padded=True)}."
        )
    if day > today:
        return f"{shown} is in the future: a day can be corrected from the day itself on."
    if day < player.joined_on:
        return (
            f"<@{player.discord_id}> counts from "
            f"{format_date(player.joined_on, year=True, padded=True)}: {shown} does not count "
            "for them."
        )
    return None


def member_dm(challenge: Challenge, adjustment: Adjustment, units: Units) -> str:
    """The DM to the player whose day was corrected."""
    final = " That day was already final; the next post says so." if adjustment.was_final else ""
    return (
        f"✏️ An admin corrected your {format_date(adjustment.day, year=True)} in "
        f"**{escape_markdown(printable_name(challenge.name))}**: "
        f"{amount_change(adjustment, challenge.metric, units)}.\n"
        f"Reason: {escape_markdown(adjustment.reason)}{final}"
    )


class AdjustmentService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        challenges: ChallengeService,
        standings: StandingsReader,
        messenger: Messenger,
    ) -> None:
        self._db = db
        self._clock = clock
        self._challenges = challenges
        self._standings = standings
        self._messenger = messenger
        self._repo = AdjustmentsRepo(db)
        self._values = ValuesRepo(db)
        self._runs = RunsRepo(db)

    async def of_challenge(self, challenge_id: int) -> list[Adjustment]:
        """Every adjustment of the challenge, oldest first."""
        return await self._repo.of_challenge(challenge_id)

    async def adjust(
        self,
        guild_id: int,
        challenge_name: str,
        member: int,
        day: dt.date,
        value: Amount,
        reason: str,
        *,
        by: int,
    ) -> Adjusted:
        """Set `member`'s value of `day` to `value` (a number in the server's units, or text
        with a unit) because of `reason`; a UserError saying what to change when it cannot
        be."""
        challenge = await self._challenges.find(guild_id, challenge_name)
        units = (await self._challenges.guild_settings(guild_id)).units
        results = await self._runs.results_record(challenge.id)
        if results is not None and results.status is RunStatus.POSTED:
            raise UserError(
                f"The results of “{challenge.name}” are posted: its values can no longer change."
            )
        why = checked_reason(reason)
        stored = checked_value(value, challenge.metric, units)
        player = next(
            (
                p
                for p in await self._challenges.participants(challenge.id)
                if p.discord_id == member
            ),
            None,
        )
        if player is None:
            raise UserError(f"<@{member}> is not playing in “{challenge.name}”.")
        problem = day_problem(challenge, player, day, challenge.today(self._clock.now()))
        if problem is not None:
            raise UserError(problem)
        adjustment = await self._record(challenge, member, day, stored, why, by)
        log.info("challenge %d: a day of a player was adjusted by an admin", challenge.id)
        told = await self._tell(member, member_dm(challenge, adjustment, units))
        return Adjusted(challenge, adjustment, units, told)

    async def _record(
        self, challenge: Challenge, member: int, day: dt.date, value: float, reason: str, by: int
    ) -> Adjustment:
        """Keep the adjustment and, on a final day, rewrite that day's frozen scores from the
        rescored standings; one transaction."""
        async with self._db.transaction():
            before = await self._standings.current(challenge)
            old = next(
                (
                    p.daily_values.get(day)
                    for p in before.standings.players
                    if p.player_id == member
                ),
                None,
            )
            final = day in await self._values.final_days(challenge.id)
            new = NewAdjustment(challenge.id, member, day, old, value, reason, final, by)
            adjustment = await self._repo.add(new, self._clock.now())
            if final:
                after = await self._standings.current(challenge)
                rows = [
                    ScoreRow(
                        discord_id=p.player_id,
                        day=day,
                        value=p.daily_values.get(day),
                        points=p.daily_points.get(day, 0.0),
                        goal_met=p.goal_met.get(day, False),
                        final=True,
                    )
                    for p in after.standings.players
                ]
                await self._repo.refreeze_day(challenge.id, rows)
        return adjustment

    async def _tell(self, member: int, text: str) -> bool:
        try:
            return await self._messenger.send_dm(member, content=text)
        except Exception:
            log.exception("the DM about an adjustment could not be sent")
            return False
