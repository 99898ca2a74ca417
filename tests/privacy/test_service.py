"""`PrivacyService`: delete everything about a user, export it without a secret, publish opt-out."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp.test_utils import TestClient

from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from tests.doubles.provider import FakeProvider
from tests.linking.flow import ALICE, BOB, account_of, link_account
from tests.linking.wiring import Linking
from tests.providers.helpers import query_of


async def _populate(env: Linking, user: int, other: int) -> None:
    """Rows about `user` in every table that can hold them, and some about `other`."""
    now = "2026-11-20T00:00:00+00:00"
    for who in (user, other):
        await UsersRepo(env.db).ensure(who, env.clock.now(), display_name=f"user{who}")
    challenge = await env.db.execute(
        "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, start_date, "
        "end_date, time_zone, post_time, created_by, created_at) "
        "VALUES (1, 2, 'Steps', 'steps', 'total', '2026-11-01', '2026-11-30', 'UTC', '09:00', "
        "?, ?)",
        (user, now),
    )
    for who in (user, other):
        await env.db.execute(
            "INSERT INTO participants VALUES (?, ?, NULL, '2026-11-01', ?)", (challenge, who, now)
        )
        await env.db.execute(
            "INSERT INTO daily_values VALUES (?, 'fakefit', 'steps', '2026-11-19', 0, 9000, ?)",
            (who, now),
        )
        await env.db.execute(
            "INSERT INTO daily_scores VALUES (?, ?, '2026-11-19', 9000, 9000, 1, 1)",
            (challenge, who),
        )
        await env.db.execute(
            "INSERT INTO streaks VALUES (?, ?, 3, 5, '2026-11-19')", (challenge, who)
        )
        await env.db.execute(
            "INSERT INTO posted_ranks VALUES (?, '2026-11-19', ?, 1, 9000)", (challenge, who)
        )
        await env.db.execute(
            "INSERT INTO value_reviews (challenge_id, discord_id, metric, day, value, reason, "
            "status, reviewed_by, created_at, updated_at) "
            "VALUES (?, ?, 'steps', '2026-11-19', 90000, 'high', 'accepted', ?, ?, ?)",
            (challenge, who, user if who == other else other, now, now),
        )


async def _rows_mentioning(db: Database, value: int) -> dict[str, int]:
    """Every table of the live schema, every column: rows holding `value` (as int or text)."""
    found: dict[str, int] = {}
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in tables:
        name = table["name"]
        for row in await db.fetch_all(f'SELECT * FROM "{name}"'):
            if any(cell == value or (isinstance(cell, str) and str(value) in cell) for cell in row):
                found[name] = found.get(name, 0) + 1
    return found


async def test_delete_leaves_no_row_about_the_user_in_any_table(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    await _populate(env, ALICE, BOB)
    await link_account(client, env, provider, ALICE, "alice-acct")
    await env.linking.start_link(ALICE, "fakefit")  # a link still in flight
    await link_account(client, env, provider, BOB, "bob-acct")
    alice_tokens = await AccountsRepo(env.db, env.cipher).tokens((await account_of(env, ALICE)).id)
    assert alice_tokens is not None
    events: list[dict[str, Any]] = []

    async def on_deleted(**payload: Any) -> None:
        events.append(payload)

    env.events.on("user_deleted", on_deleted)
    assert await _rows_mentioning(env.db, ALICE)  # the scan does find her before

    report = await env.privacy.delete_everything(ALICE)

    assert await _rows_mentioning(env.db, ALICE) == {}
    assert events == [{"discord_id": ALICE}]
    assert report.revoked == ("Fake Fit",)
    assert [t.refresh_token for t in provider.revocations] == [alice_tokens.refresh_token]
    # Bob keeps everything, the challenge Alice created included.
    bob = await _rows_mentioning(env.db, BOB)
    for table in (
        "users",
        "participants",
        "daily_values",
        "daily_scores",
        "streaks",
        "posted_ranks",
        "value_reviews",
        "linked_accounts",
    ):
        assert bob.get(table) == 1, table
    assert await env.db.fetch_value("SELECT COUNT(*) FROM challenges") == 1


async def test_export_has_everything_but_no_secret(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    import json

    await _populate(env, ALICE, BOB)
    await link_account(client, env, provider, ALICE, "alice-acct")
    offer = await env.linking.start_link(ALICE, "fakefit")

    attachment = await env.privacy.export(ALICE)

    text = attachment.data.decode()
    data = json.loads(text)
    tables = data["tables"]
    assert tables["users"][0]["display_name"] == f"user{ALICE}"
    assert tables["daily_values"][0]["value"] == 9000
    assert tables["linked_accounts"][0]["provider_user_id"] == "alice-acct"
    assert "access_token" not in tables["linked_accounts"][0]
    assert len(tables["participants"]) == 1 and len(tables["streaks"]) == 1
    assert tables["challenges"][0]["name"] == "Steps"  # she created it
    for secret in [*provider.issued, query_of(offer.url)["state"]]:
        assert secret not in text
    state_hash = hashlib.sha256(query_of(offer.url)["state"].encode()).hexdigest()
    assert state_hash not in text
    assert f"user{BOB}" not in text
    # Bob's value that Alice reviewed is hers to see in her export, but not Bob's id.
    reviewed = [r for r in tables["value_reviews"] if r["reviewed_by"] == ALICE]
    assert reviewed and all(r["discord_id"] is None for r in reviewed)
    assert str(BOB) not in text


async def test_publish_opt_out_is_stored(env: Linking) -> None:
    users = UsersRepo(env.db)
    await env.privacy.set_publish(ALICE, publish=False)
    assert await users.publish_opt_out(ALICE) is True
    await env.privacy.set_publish(ALICE, publish=True)
    assert await users.publish_opt_out(ALICE) is False
