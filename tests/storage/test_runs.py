"""RunsRepo's post intents: recorded before a post is sent, with the run records it covers,
found again after a stop, and gone once cleared or when their challenge goes."""

from __future__ import annotations

import datetime as dt

from bot.storage import Database
from bot.storage.challenges import ChallengesRepo
from bot.storage.runs import RunKind, RunsRepo
from tests.storage.test_challenges import NOW, challenge

MONDAY = dt.date(2026, 11, 23)
DAYS = [MONDAY + dt.timedelta(days=n) for n in range(3)]


async def _scored_week(db: Database) -> tuple[int, RunsRepo]:
    challenge_id = await ChallengesRepo(db).insert(challenge("Week"))
    runs = RunsRepo(db)
    await runs.record_scored(challenge_id, DAYS, RunKind.CATCH_UP, NOW, NOW)
    return challenge_id, runs


async def test_a_recorded_intent_is_found_with_the_records_it_covers(db: Database) -> None:
    challenge_id, runs = await _scored_week(db)
    records = await runs.day_records(challenge_id)
    covered = [records[DAYS[0]], records[DAYS[1]]]
    await runs.record_intent(challenge_id, covered, "stride-1-a-to-b.png", "n0nce", NOW)

    pending = await runs.pending_intent(challenge_id)
    assert pending is not None
    assert (pending.post_key, pending.nonce, pending.created_at) == (
        "stride-1-a-to-b.png",
        "n0nce",
        NOW,
    )
    assert pending.covered == covered


async def test_a_new_intent_replaces_the_old_and_clearing_forgets_it(db: Database) -> None:
    challenge_id, runs = await _scored_week(db)
    records = list((await runs.day_records(challenge_id)).values())
    await runs.record_intent(challenge_id, records[:1], "first.png", "first", NOW)
    later = NOW + dt.timedelta(hours=1)
    await runs.record_intent(challenge_id, records[1:], "second.png", "second", later)
    pending = await runs.pending_intent(challenge_id)
    assert pending is not None
    assert (pending.post_key, pending.covered) == ("second.png", records[1:])

    await runs.clear_intent(challenge_id)
    assert await runs.pending_intent(challenge_id) is None
    assert await db.fetch_value("SELECT COUNT(*) FROM post_intent_runs") == 0


async def test_an_intent_goes_with_its_challenge(db: Database) -> None:
    challenge_id, runs = await _scored_week(db)
    records = list((await runs.day_records(challenge_id)).values())
    await runs.record_intent(challenge_id, records, "week.png", "week", NOW)
    assert await ChallengesRepo(db).delete(challenge_id)
    assert await runs.pending_intent(challenge_id) is None
    assert await db.fetch_value("SELECT COUNT(*) FROM post_intent_runs") == 0
