"""The production wiring: `build_services` registers the handler and the delivery job."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bot.app import build_services
from bot.clock import FakeClock
from bot.publish.service import DELIVERY_JOB_ID, sinks_from_settings
from bot.settings import Settings
from bot.storage import Database
from tests.publish.conftest import DAY1, GUILD_ID, finalise_day, players, score_day, seed_challenge


async def test_a_finalised_day_reaches_the_file_through_the_scheduled_job(
    db: Database, make_settings: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    settings = make_settings(publish={"file": {"path": str(out)}})
    async with aiohttp.ClientSession() as http:
        services = build_services(settings, db, http, clock)
        assert services.publish is not None
        assert DELIVERY_JOB_ID in services.scheduler.job_ids()

        roster = players(5)
        await seed_challenge(db, roster=roster)
        await score_day(db, 1, DAY1, roster)
        await services.publish.enable(GUILD_ID)
        await finalise_day(db, services.events, 1, DAY1)
        await services.scheduler.run_now(DELIVERY_JOB_ID)
        await services.scheduler.shutdown()

    [line] = out.read_text("utf-8").splitlines()
    assert json.loads(line)["participants"] == 5


async def test_the_file_sink_is_the_default_when_nothing_is_configured(
    make_settings: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    settings = make_settings()
    async with aiohttp.ClientSession() as http:
        sinks, reasons = sinks_from_settings(settings, http, clock)
    assert list(sinks) == ["file"]
    assert "default" in sinks["file"].describe()
    assert reasons["mqtt"] == "set PUBLISH__MQTT__HOST"
    assert "PUBLISH__STREAMR__NODE_URL" in reasons["streamr"]
