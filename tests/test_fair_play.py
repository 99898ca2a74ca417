"""Fair play: which values are flagged, and how flags are stored, reviewed and excluded."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric
from bot.errors import UserError
from bot.events import EventBus
from bot.fair_play import HARD_CEILINGS, ReviewStatus, suspicion, suspicious_values
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from tests.challenges.fakes import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GUILD,
    OTHER_GUILD,
    START,
    add_values,
    days_before,
    draft,
    link_account,
)

DAY = dt.date(2024, 5, 8)


# --------------------------------------------------------------------------- detection


def test_a_value_above_the_hard_ceiling_is_flagged_without_any_history() -> None:
    found = suspicion(Metric.STEPS, 100_001, [])
    assert found is not None
    assert found.reason == "100,001 steps is above the ceiling of 100,000 steps a day"
    assert suspicion(Metric.STEPS, 100_000, []) is None


def test_more_than_three_times_the_own_median_is_flagged() -> None:
    history = [8_000.0] * 7
    found = suspicion(Metric.STEPS, 24_500, history)
    assert found is not None
    assert found.reason == (
        "24,500 steps is 3.1 times their median of 8,000 steps over the last 28 days"
    )
    assert suspicion(Metric.STEPS, 24_000, history) is None  # exactly 3x is fine


def test_history_needs_seven_days_with_data() -> None:
    six_days = [5_000.0] * 6 + [0.0] * 10  # zeros are an unworn watch, not history
    assert suspicion(Metric.STEPS, 40_000, six_days) is None
    assert suspicion(Metric.STEPS, 40_000, [*six_days, 5_000.0]) is not None


def test_a_low_median_alone_does_not_flag_an_ordinary_day() -> None:
    history = [1_500.0] * 20  # someone who rarely wears the watch
    assert suspicion(Metric.STEPS, 9_000, history) is None  # 6x, but an ordinary day
    assert suspicion(Metric.STEPS, 16_000, history) is not None


@pytest.mark.parametrize("metric", list(Metric))
def test_every_metric_has_a_ceiling(metric: Metric) -> None:
    assert suspicion(metric, HARD_CEILINGS[metric] + 1, []) is not None


def test_each_value_is_judged_against_the_window_before_its_own_day() -> None:
    history = {ALICE: {day: 5_000.0 for day in days_before(DAY, 28)}}
    history[ALICE][DAY - dt.timedelta(days=40)] = 1.0  # outside the window: ignored
    flagged = suspicious_values(
        Metric.STEPS,
        {(ALICE, DAY): 16_000, (ALICE, DAY + dt.timedelta(days=1)): 14_000, (BOB, DAY): 30_000},
        history,
    )
    assert set(flagged) == {(ALICE, DAY)}  # Bob has no history; 14,000 is under 3x


# --------------------------------------------------------------------------- the service


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def service(db: Database, clock: FakeClock, cipher: TokenCipher) -> ChallengeService:
    return ChallengeService(db, clock, EventBus(), AccountsRepo(db, cipher))


@pytest.fixture
async def challenge_id(service: ChallengeService, db: Database, cipher: TokenCipher) -> int:
    created = await service.create(GUILD, ADMIN, draft(end=dt.date(2024, 5, 31)))
    for user in (ALICE, BOB):
        await link_account(db, cipher, user, START)
        await service.join(GUILD, "Spring Steps", user, None)
        await add_values(db, user, Metric.STEPS, dict.fromkeys(days_before(DAY, 14), 6_000), START)
    return created.id


async def test_review_new_values_stores_pending_flags_once(
    service: ChallengeService, challenge_id: int
) -> None:
    values = [
        (ALICE, "steps", DAY, 25_000.0),
        (ALICE, "steps", DAY, 12_000.0),  # another provider's lower reading of the same day
        (BOB, "steps", DAY, 9_000.0),
        (BOB, "floors", DAY, 9_000.0),  # not this challenge's metric
        (CAROL, "steps", DAY, 500_000.0),  # not a player
    ]

    flags = await service.review_new_values(challenge_id, values)

    assert [(f.discord_id, f.day, f.value, f.status) for f in flags] == [
        (ALICE, DAY, 25_000.0, ReviewStatus.PENDING)
    ]
    assert "4.2 times their median of 6,000 steps" in flags[0].reason
    assert await service.review_new_values(challenge_id, values) == []  # idempotent
    assert len(await service.pending_reviews(challenge_id)) == 1


async def test_a_later_sync_updates_a_pending_flag(
    service: ChallengeService, challenge_id: int
) -> None:
    await service.review_new_values(challenge_id, [(ALICE, Metric.STEPS, DAY, 25_000.0)])
    await service.review_new_values(challenge_id, [(ALICE, Metric.STEPS, DAY, 150_000.0)])
    [flag] = await service.pending_reviews(challenge_id)
    assert flag.value == 150_000.0
    assert "above the ceiling" in flag.reason


async def test_excluded_values_stay_stored_and_are_reported_for_scoring(
    service: ChallengeService, challenge_id: int, db: Database
) -> None:
    await add_values(db, ALICE, Metric.STEPS, {DAY: 25_000}, START)
    await add_values(db, BOB, Metric.STEPS, {DAY: 120_000}, START)
    flags = await service.review_new_values(
        challenge_id, [(ALICE, Metric.STEPS, DAY, 25_000.0), (BOB, Metric.STEPS, DAY, 120_000.0)]
    )
    by_player = {flag.discord_id: flag for flag in flags}

    await service.decide_review(GUILD, by_player[BOB].review_id, exclude=True, reviewed_by=ADMIN)
    accepted = await service.decide_review(
        GUILD, by_player[ALICE].review_id, exclude=False, reviewed_by=ADMIN
    )

    assert accepted.status is ReviewStatus.ACCEPTED
    assert await service.excluded_days(challenge_id) == {(BOB, DAY)}
    assert await service.pending_reviews(challenge_id) == []
    stored = await db.fetch_value(
        "SELECT value FROM daily_values WHERE discord_id = ? AND day = ?", (BOB, DAY.isoformat())
    )
    assert stored == 120_000  # excluded, not deleted


async def test_another_guilds_admin_cannot_decide_a_flag(
    service: ChallengeService, challenge_id: int
) -> None:
    [flag] = await service.review_new_values(challenge_id, [(ALICE, Metric.STEPS, DAY, 200_000.0)])
    with pytest.raises(UserError, match="no longer exists"):
        await service.decide_review(OTHER_GUILD, flag.review_id, exclude=True, reviewed_by=ADMIN)
    assert await service.excluded_days(challenge_id) == set()


async def test_values_outside_the_challenge_days_are_not_flagged(
    service: ChallengeService, challenge_id: int
) -> None:
    before_start = dt.date(2024, 5, 1)
    assert (
        await service.review_new_values(
            challenge_id, [(ALICE, Metric.STEPS, before_start, 500_000.0)]
        )
        == []
    )
    assert await service.review_new_values(999, [(ALICE, Metric.STEPS, DAY, 500_000.0)]) == []
