"""Repository statements that were SQLite-only (issue 13: two-argument MAX, columns missing
from GROUP BY, sqlite_master and PRAGMA, COLLATE NOCASE on teams, json_each), as members and
admins see them, on both engines."""

from __future__ import annotations

import datetime as dt

from bot.challenges.model import GuildSettings
from bot.crypto import TokenCipher
from bot.storage import Database
from bot.storage.challenges import ParticipantsRepo
from bot.storage.claims import ClaimsRepo
from bot.storage.guilds import GuildSettingsRepo
from bot.storage.privacy import PrivacyRepo
from bot.storage.publish import NewOutboxRow, PublishRepo
from bot.storage.runs import RunKind, RunsRepo
from tests.daily.world import World

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _row(challenge_id: int, guild_id: int, day: int) -> NewOutboxRow:
    return NewOutboxRow(
        idempotency_key=f"k:{challenge_id}:{day}",
        sink="webhook",
        guild_id=guild_id,
        challenge_id=challenge_id,
        day=dt.date(2026, 6, day),
        payload="{}",
    )


async def test_a_failing_sink_is_postponed_never_brought_forward_and_reported_per_guild(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    first = await world.add_challenge(name="First")
    second = await world.add_challenge(name="Second")
    await GuildSettingsRepo(db).save(GuildSettings(first.guild_id, leaderboard_channel_id=777), NOW)
    repo = PublishRepo(db, claims=ClaimsRepo(db, "test"))
    rows = [_row(first.id, first.guild_id, 1), _row(second.id, second.guild_id, 2)]
    assert await repo.enqueue(rows, NOW) == 2
    assert await repo.enqueue(rows, NOW) == 0  # the same keys: nothing new
    later, much_later = NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=5)
    [entry, _] = await repo.due("webhook", NOW, 10)
    await repo.mark_failed(entry.id, "boom", much_later)
    await repo.postpone_sink("webhook", later)
    assert sorted(e.next_attempt_at for e in await repo.due("webhook", much_later, 10)) == [
        later,
        much_later,
    ]
    [target] = await repo.report_targets("webhook")
    assert (target.guild_id, target.leaderboard_channel_id) == (first.guild_id, 777)
    assert target.challenge_creator_id == first.created_by
    assert await repo.backlog(first.guild_id) == {"webhook": 2}


async def test_the_run_overview_says_what_is_owed(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    runs = RunsRepo(db)
    days = [dt.date(2026, 6, 1), dt.date(2026, 6, 2)]
    await runs.record_scored(challenge.id, days, RunKind.DAILY, NOW, NOW)
    overview = (await runs.overview())[challenge.id]
    assert (overview.last_day, overview.post_owed, overview.has_results) == (days[1], True, False)
    records = (await runs.day_records(challenge.id)).values()
    await runs.mark_posted(challenge.id, records, 12345, NOW)
    await runs.record_scored(challenge.id, [days[1]], RunKind.RESULTS, NOW, NOW)
    overview = (await runs.overview())[challenge.id]
    assert (overview.last_day, overview.post_owed, overview.has_results) == (days[1], True, True)


async def test_teams_are_matched_and_suggested_in_any_case(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge(name="Teams")
    players = ParticipantsRepo(db)
    for discord_id, team in ((1, "Rot-Weiß"), (2, "ROT-WEISS"), (3, "Blue"), (4, None)):
        await world.add_player(challenge, discord_id)
        await players.set_team(challenge.id, discord_id, team)
    assert await players.team_names_like(challenge.guild_id, "TEAMS", "weiß", limit=5) == [
        "ROT-WEISS",
        "Rot-Weiß",
    ]
    assert await players.rename_team(challenge.id, "rot-weiss", "Red") == 2
    teams = {p.discord_id: p.team for p in await players.for_challenge(challenge.id)}
    assert teams == {1: "Red", 2: "Red", 3: "Blue", 4: None}


async def test_a_members_data_is_found_and_deleted_in_every_table(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge(name="Mine")
    await world.add_player(challenge, 42, "Alice")
    exported = await PrivacyRepo(db).export(42)
    assert exported["users"][0]["display_name"] == "Alice"
    assert [row["discord_id"] for row in exported["participants"]] == [42]
    assert all("access_token" not in row for row in exported.get("linked_accounts", []))
    assert await PrivacyRepo(db).delete_user(42) > 0
    assert await PrivacyRepo(db).export(42) == {}
