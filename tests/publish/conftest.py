"""Fixtures of the publish tests: seeded challenges, a finalising "daily run", a recording
Discord (`tests.doubles.messenger.RecordingTransport`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.events import EventBus
from bot.storage import Database
from tests.doubles.messenger import RecordingTransport

GUILD_ID = 880_000_000_000_000_001
CHANNEL_ID = 880_000_000_000_000_002
CREATOR_ID = 310_000_000_000_000_999
START = dt.datetime(2024, 5, 10, 9, 0, tzinfo=dt.UTC)
DAY1 = dt.date(2024, 5, 6)


@dataclass(frozen=True)
class Player:
    discord_id: int
    name: str
    provider_user_id: str
    value: float | None
    goal_met: bool = False
    opted_out: bool = False


def players(count: int, *, base_value: float = 8_000, opted_out: int = 0) -> list[Player]:
    """`count` players with distinct ids, names and provider ids; the first `opted_out` opt out."""
    return [
        Player(
            discord_id=310_000_000_000_000_100 + i,
            name=f"Runner Zebulon{i:02d}",
            provider_user_id=f"PROVUSER-{i:04d}-QX",
            value=base_value + 1_000 * i,
            goal_met=i % 2 == 0,
            opted_out=i < opted_out,
        )
        for i in range(count)
    ]


async def seed_challenge(
    db: Database,
    *,
    challenge_id: int = 1,
    guild_id: int = GUILD_ID,
    name: str = "May Steps",
    metric: str = "steps",
    daily_goal: float | None = 10_000,
    daily_cap: float | None = None,
    roster: Sequence[Player] = (),
    leaderboard_channel_id: int | None = CHANNEL_ID,
) -> None:
    now = START.isoformat()
    await db.execute(
        "INSERT INTO users (discord_id, display_name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (discord_id) DO NOTHING",
        (CREATOR_ID, "Creator Quillfeather", now),
    )
    await db.execute(
        "INSERT INTO guild_settings (guild_id, leaderboard_channel_id, updated_at) "
        "VALUES (?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
        "leaderboard_channel_id = excluded.leaderboard_channel_id",
        (guild_id, leaderboard_channel_id, now),
    )
    await db.execute(
        "INSERT INTO challenges (id, guild_id, channel_id, name, metric, scoring_mode, "
        "start_date, end_date, time_zone, post_time, daily_goal, daily_cap, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'total', '2024-05-01', '2024-05-31', 'UTC', "
        "'09:00', ?, ?, ?, ?)",
        (challenge_id, guild_id, CHANNEL_ID, name, metric, daily_goal, daily_cap, CREATOR_ID, now),
    )
    for player in roster:
        await db.execute(
            "INSERT INTO users (discord_id, display_name, publish_opt_out, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (discord_id) DO NOTHING",
            (player.discord_id, player.name, int(player.opted_out), now),
        )
        await db.execute(
            "INSERT INTO linked_accounts (discord_id, provider, provider_user_id, access_token, "
            "expires_at, created_at, updated_at) VALUES (?, 'oura', ?, x'00', ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (player.discord_id, player.provider_user_id, now, now, now),
        )
        await db.execute(
            "INSERT INTO participants (challenge_id, discord_id, joined_on, joined_at) "
            "VALUES (?, ?, '2024-05-01', ?)",
            (challenge_id, player.discord_id, now),
        )


async def score_day(
    db: Database,
    challenge_id: int,
    day: dt.date,
    roster: Sequence[Player],
    *,
    final: bool = False,
) -> None:
    for player in roster:
        await db.execute(
            "INSERT INTO daily_scores (challenge_id, discord_id, day, value, points, goal_met, "
            "final) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "value = excluded.value, goal_met = excluded.goal_met, final = excluded.final",
            (
                challenge_id,
                player.discord_id,
                day.isoformat(),
                player.value,
                player.value or 0,
                int(player.goal_met),
                int(final),
            ),
        )


async def finalise_day(db: Database, events: EventBus, challenge_id: int, day: dt.date) -> None:
    """What the daily run does: mark the day final and emit the event, in one transaction."""
    async with db.transaction():
        await db.execute(
            "UPDATE daily_scores SET final = 1 WHERE challenge_id = ? AND day = ?",
            (challenge_id, day.isoformat()),
        )
        await events.emit("day_finalised", challenge_id=challenge_id, day=day)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def messenger() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
