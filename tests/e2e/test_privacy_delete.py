"""Scenario 7: a player deletes everything Stride stores about them, mid-challenge."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.domain import Metric
from bot.storage.runs import RunKind
from tests.e2e.conftest import Stride
from tests.e2e.posts import expected_rows, ranks_of, read_post
from tests.standins.discord.entities import StoredMessage, User

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)
TUESDAY = MONDAY + dt.timedelta(days=1)
NAME = "Hustle"
STEPS = {
    "Alice": {MONDAY: 14_000, TUESDAY: 15_000},
    # Over the 100,000-step ceiling: flagged for the admins' review (a row naming Bob).
    "Bob": {MONDAY: 101_000, TUESDAY: 30_000},
    "Cleo": {MONDAY: 12_000, TUESDAY: 11_000},
}


def post_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 5), tzinfo=dt.UTC)


def rows_naming(database: Path, discord_id: int) -> dict[str, int]:
    """Rows per table.column of the live schema that hold `discord_id`, as a number or
    anywhere inside a text (JSON payloads, serialised state)."""
    found: dict[str, int] = {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        assert "users" in tables and "participants" in tables
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                count = connection.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :id '
                    f'OR instr(CAST("{column}" AS TEXT), :text) > 0',
                    {"id": discord_id, "text": str(discord_id)},
                ).fetchone()[0]
                if count:
                    found[f"{table}.{column}"] = count
    return found


def button_id(message: StoredMessage, label: str) -> str:
    for row in message.components:
        for item in row.get("components", []):
            if item.get("label") == label:
                return str(item["custom_id"])
    raise AssertionError(f"no button {label!r} on {message.text!r}")


async def test_privacy_delete_leaves_no_row_and_the_next_post_without_them(
    stride: Stride,
) -> None:
    await stride.create_challenge(NAME, preset="workweek_hustle")
    google = stride.providers.google_health
    members: dict[str, User] = {}
    for name, steps in STEPS.items():
        members[name] = member = await stride.member(name)
        provider, standin = (
            ("withings", stride.providers.withings) if name == "Cleo" else ("google_health", google)
        )
        provider_user = standin.add_user()
        for day, value in steps.items():
            standin.set_daily(provider_user, day, Metric.STEPS, value)
        await stride.link(member, provider, provider_user)
        await stride.join(member, NAME)
    bob = members["Bob"]
    # Bob also uses the sandbox, opts out of publishing and starts a link he never finishes:
    # rows about him in linked_accounts, users and oauth_states beyond the usual ones.
    await stride.link(bob, "sandbox")
    opt_out = await stride.discord.slash(
        user=bob,
        guild=stride.guild,
        channel=stride.channel,
        name="privacy publish",
        options={"state": "off"},
    )
    await opt_out.wait_message()
    pending = await stride.discord.slash(
        user=bob,
        guild=stride.guild,
        channel=stride.channel,
        name="link",
        options={"provider": "oura"},
    )
    await pending.wait_message()

    report = await stride.run_at(post_time(MONDAY))
    assert list(report.post_kinds.values()) == [RunKind.DAILY]
    monday = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert monday.names == ["Bob", "Alice", "Cleo"]

    database = stride.settings.database_path
    before = rows_naming(database, bob.id)
    for table in (
        "users",
        "linked_accounts",
        "oauth_states",
        "participants",
        "daily_values",
        "daily_scores",
        "streaks",
        "posted_ranks",
        "value_reviews",
    ):
        assert any(key.startswith(f"{table}.") for key in before), (table, before)

    # Tuesday morning Bob deletes everything, and confirms.
    stride.clock.set(dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    ask = await stride.discord.slash(
        user=bob, guild=stride.guild, channel=stride.channel, name="privacy delete"
    )
    question = await ask.wait_message()
    assert question.ephemeral and "cannot be undone" in question.text
    confirm = await stride.discord.press_button(
        question, button_id(question, "Delete everything"), user=bob
    )
    await confirm.wait_original_edit()
    answer = confirm.original_message
    assert answer is not None and answer.ephemeral
    assert "All your Stride data is deleted" in answer.text
    assert "Google Health" in answer.text  # its grant was revoked there
    assert google.requests["revoke"] == 1

    assert rows_naming(database, bob.id) == {}

    # Wednesday's run posts Tuesday: Alice and Cleo only, ranked among themselves.
    report = await stride.run_at(post_time(TUESDAY))
    assert list(report.post_kinds.values()) == [RunKind.DAILY]
    tuesday = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert tuesday.days == (TUESDAY,)
    assert "Bob" not in tuesday.message.text
    others = {name: steps for name, steps in STEPS.items() if name != "Bob"}
    assert tuesday.rows == expected_rows(
        others,
        start=MONDAY,
        through=TUESDAY,
        provisional={TUESDAY},
        previous=ranks_of(monday.rows),
    )
    assert [(row.rank, row.name, row.change) for row in tuesday.rows] == [
        (1, "Alice", "▲1"),
        (2, "Cleo", "▲1"),
    ]
    # The run fetched and scored without bringing anything about him back.
    assert rows_naming(database, bob.id) == {}
