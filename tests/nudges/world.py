"""The nudges' test world: a `NudgeService` over the daily run's world (`tests.daily.world`),
sending through a `tests.doubles.messenger.RecordingTransport`; values stored as a sync stores
them.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric
from bot.nudges import NudgePolicy, NudgeService
from bot.storage import Database
from bot.storage.values import FetchedValue, ValuesRepo
from tests.daily.world import World
from tests.doubles.messenger import RecordingTransport, connected

ANA, BOB, CY = 710_000_000_000_000_001, 710_000_000_000_000_002, 710_000_000_000_000_003


def nudge_service(world: World, discord: RecordingTransport, policy: NudgePolicy) -> NudgeService:
    """Nudges over the world's challenges and standings, sending through `discord`."""
    return NudgeService(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        messenger=connected(discord),
        policy=policy,
    )


async def store(
    db: Database,
    discord_id: int,
    day: dt.date,
    value: float,
    *,
    now: dt.datetime,
    manual: bool = False,
    metric: Metric = Metric.STEPS,
) -> None:
    """Store a value as a sync does (what `after_sync` then looks at)."""
    fetched = FetchedValue(discord_id, "fake", DailyValue(metric, day, value, manual))
    await ValuesRepo(db).store_fetched([fetched], [], now)
