"""`/privacy export` and `/privacy delete` cover what reminders, weekly recaps and corrections
by admins store: a member's reminder and the corrections of their days are theirs (exported,
deleted); the corrections an admin made and the recap settings they chose are exported to
them, and lose their name when the admin deletes their data."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.storage import Database
from bot.storage.accounts import UsersRepo
from bot.storage.adjustments import AdjustmentsRepo, NewAdjustment
from bot.storage.privacy import PrivacyRepo
from bot.storage.recaps import DailyPosts, RecapSettings, RecapsRepo
from bot.storage.reminders import RemindersRepo
from tests.engines import ENGINES


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """Export and delete run their SQL on both engines (`tests.engines`)."""
    return str(request.param)


NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
ANA, ADMIN = 101, 202


async def _rows(db: Database) -> int:
    for who in (ANA, ADMIN):
        await UsersRepo(db).ensure(who, NOW, f"user{who}")
    challenge = int(
        await db.fetch_value(
            "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, "
            "start_date, end_date, time_zone, post_time, created_by, created_at) VALUES "
            "(1, 2, 'Steps', 'steps', 'total', '2026-11-01', '2026-11-30', 'UTC', '09:00', ?, ?) "
            "RETURNING id",
            (ADMIN, NOW.isoformat()),
        )
    )
    await RemindersRepo(db).set(ANA, dt.time(20), "Europe/Berlin", now=NOW)
    await AdjustmentsRepo(db).add(
        NewAdjustment(
            challenge, ANA, dt.date(2026, 11, 2), 8_000, 10_000, "lost sync", False, ADMIN
        ),
        NOW,
    )
    await RecapsRepo(db).save_settings(
        challenge, RecapSettings(4, DailyPosts.WEEKLY_ONLY), by=ADMIN, now=NOW
    )
    return challenge


async def test_the_export_has_the_reminder_and_the_corrections(db: Database) -> None:
    await _rows(db)
    mine = await PrivacyRepo(db).export(ANA)
    assert [(r["remind_at"], r["time_zone"]) for r in mine["reminders"]] == [
        ("20:00", "Europe/Berlin")
    ]
    assert [(r["old_value"], r["new_value"], r["reason"]) for r in mine["score_adjustments"]] == [
        (8_000, 10_000, "lost sync")
    ]
    admins = await PrivacyRepo(db).export(ADMIN)
    assert len(admins["score_adjustments"]) == 1 and len(admins["challenge_recaps"]) == 1


async def test_deleting_removes_the_members_rows_and_unnames_the_admin(db: Database) -> None:
    challenge = await _rows(db)
    await PrivacyRepo(db).delete_user(ADMIN)
    [kept] = await AdjustmentsRepo(db).of_challenge(challenge)
    assert kept.adjusted_by is None and kept.reason == "lost sync"  # the record stays, unnamed
    assert await db.fetch_value("SELECT updated_by FROM challenge_recaps") is None

    await PrivacyRepo(db).delete_user(ANA)
    assert await AdjustmentsRepo(db).of_challenge(challenge) == []
    assert await RemindersRepo(db).get(ANA) is None
