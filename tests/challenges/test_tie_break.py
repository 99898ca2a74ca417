"""The tie-break setting: created and edited through the service, validated, stored, handed to
the scoring engine."""

from __future__ import annotations

import pytest

from bot.challenges.inputs import ChallengeEdit
from bot.challenges.presets import Preset
from bot.challenges.rulebook import rules
from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import ScoringMode
from bot.errors import UserError
from bot.events import EventBus
from bot.scoring import TieBreak
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from tests.challenges.fakes import ADMIN, GUILD, START, draft


@pytest.fixture
def service(db: Database, cipher: TokenCipher) -> ChallengeService:
    return ChallengeService(db, FakeClock(START), EventBus(), AccountsRepo(db, cipher))


async def test_a_new_challenge_shares_places_unless_told_otherwise(
    service: ChallengeService,
) -> None:
    created = await service.create(GUILD, ADMIN, draft())
    assert created.tie_break is TieBreak.NONE
    assert rules(created).tie_break is TieBreak.NONE


async def test_the_tie_break_is_stored_and_reaches_the_scoring_rules(
    service: ChallengeService,
) -> None:
    created = await service.create(
        GUILD, ADMIN, draft(daily_goal=10_000, tie_break=TieBreak.GOAL_DAYS)
    )
    stored = await service.get(created.id)
    assert stored is not None and stored.tie_break is TieBreak.GOAL_DAYS
    assert rules(stored).tie_break is TieBreak.GOAL_DAYS

    edited = await service.edit(
        GUILD, "Spring Steps", ChallengeEdit(tie_break=TieBreak.FIRST_TO_SCORE)
    )
    assert edited.tie_break is TieBreak.FIRST_TO_SCORE
    again = await service.get(created.id)
    assert again is not None and again.tie_break is TieBreak.FIRST_TO_SCORE
    assert again.daily_goal == 10_000  # nothing else changed


async def test_goal_days_tie_break_without_a_goal_is_refused_with_a_reason(
    service: ChallengeService,
) -> None:
    with pytest.raises(UserError) as caught:
        await service.create(GUILD, ADMIN, draft(tie_break=TieBreak.GOAL_DAYS))
    assert str(caught.value) == (
        "Breaking ties by goal days needs a daily goal: set one, or pick another tie-break."
    )
    await service.create(GUILD, ADMIN, draft(daily_goal=8000, tie_break=TieBreak.GOAL_DAYS))
    with pytest.raises(UserError, match="Breaking ties by goal days needs a daily goal"):
        await service.edit(GUILD, "Spring Steps", ChallengeEdit(daily_goal=0))  # 0 removes it
    stored = await service.find(GUILD, "Spring Steps")
    assert stored.daily_goal == 8000


async def test_goal_days_cannot_break_the_ties_of_goal_days_scoring_but_can_a_streaks(
    service: ChallengeService,
) -> None:
    with pytest.raises(UserError, match="already ranks by goal days"):
        await service.create(
            GUILD,
            ADMIN,
            draft(mode=ScoringMode.GOAL_DAYS, daily_goal=10_000, tie_break=TieBreak.GOAL_DAYS),
        )
    streak = await service.create(
        GUILD,
        ADMIN,
        draft(
            name="Run", preset=Preset.STREAK, mode=None, start=None, end=None,
            tie_break=TieBreak.GOAL_DAYS,
        ),
    )  # fmt: skip
    assert streak.tie_break is TieBreak.GOAL_DAYS  # a Streak ranks by its best streak
