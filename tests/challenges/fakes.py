"""Shared helpers for the challenge tests (no tests here).

`START` is an instant where Pacific/Auckland and America/Los_Angeles are on different days:
2024-05-05 20:00 UTC is Monday 6 May 08:00 in Auckland (NZST, UTC+12) and Sunday 5 May
13:00 in Los Angeles (PDT, UTC-7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.challenges.inputs import ChallengeDraft
from bot.crypto import TokenCipher
from bot.domain import Metric, ScoringMode
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo

D = dt.date  # short for the many civil dates the tests write

START = dt.datetime(2024, 5, 5, 20, 0, tzinfo=dt.UTC)
AUCKLAND = "Pacific/Auckland"
LOS_ANGELES = "America/Los_Angeles"

GUILD = 900_000_000_000_000_001
OTHER_GUILD = 900_000_000_000_000_002
CHANNEL = 910_000_000_000_000_001
ADMIN = 920_000_000_000_000_001
ALICE = 930_000_000_000_000_001
BOB = 930_000_000_000_000_002
CAROL = 930_000_000_000_000_003
DAVE = 930_000_000_000_000_004


def draft(**overrides: Any) -> ChallengeDraft:
    """A valid custom challenge starting tomorrow (UTC), changed by `overrides`."""
    values: dict[str, Any] = {
        "name": "Spring Steps",
        "channel_id": CHANNEL,
        "metric": Metric.STEPS,
        "mode": ScoringMode.TOTAL,
        "start": dt.date(2024, 5, 6),
        "end": dt.date(2024, 5, 12),
        "time_zone": "UTC",
    }
    values.update(overrides)
    return ChallengeDraft(**values)


async def link_account(
    db: Database, cipher: TokenCipher, user: int, now: dt.datetime, name: str | None = None
) -> None:
    """Give `user` a linked (sandbox) account, as /link would."""
    await UsersRepo(db).ensure(user, now, name)
    tokens = TokenSet("access", "refresh", now + dt.timedelta(hours=1))
    await AccountsRepo(db, cipher).save_link(user, "sandbox", f"sandbox-{user}", tokens, now)


async def add_values(
    db: Database, user: int, metric: Metric, values: Mapping[dt.date, float], now: dt.datetime
) -> None:
    """Store daily values as the daily run would (one provider, no manual entries)."""
    await UsersRepo(db).ensure(user, now)
    await db.execute_many(
        "INSERT INTO daily_values (discord_id, provider, metric, day, includes_manual, value, "
        "fetched_at) VALUES (?, 'sandbox', ?, ?, 0, ?, ?)",
        [
            (user, metric.value, day.isoformat(), value, now.isoformat())
            for day, value in values.items()
        ],
    )


def days_before(day: dt.date, count: int) -> list[dt.date]:
    return [day - dt.timedelta(days=n) for n in range(1, count + 1)]
