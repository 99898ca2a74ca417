"""The production wiring: `build_services` registers the handler and the delivery job."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.errors import UserError
from bot.notify import Messenger
from bot.publish.service import DELIVERY_JOB_ID, create_publish_service, sinks_from_settings
from bot.services import build_services
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


async def test_a_short_secret_switches_publishing_off_with_a_reason(
    db: Database, make_settings: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    settings = make_settings(
        publish={"secret": "short-secret", "file": {"path": str(tmp_path / "out.jsonl")}}
    )
    async with aiohttp.ClientSession() as http:
        service = create_publish_service(settings, db, http, clock, Messenger())
    status = await service.status(GUILD_ID)
    assert status.problem is not None and "at least 16 characters" in status.problem
    assert "short-secret" not in status.problem
    assert not any(sink.configured for sink in status.sinks)
    with pytest.raises(UserError, match="cannot be turned on"):
        await service.enable(GUILD_ID)
    assert not (await service.status(GUILD_ID)).enabled


async def test_a_bad_topic_template_turns_only_the_mqtt_sink_off(
    make_settings: Callable[..., Settings], clock: FakeClock, tmp_path: Path
) -> None:
    settings = make_settings(
        publish={
            "mqtt": {"host": "broker.invalid", "topic_template": "stride/{guild}/{metric}"},
            "file": {"path": str(tmp_path / "out.jsonl")},
        }
    )
    async with aiohttp.ClientSession() as http:
        sinks, reasons = sinks_from_settings(settings, http, clock)
    assert list(sinks) == ["file"]
    assert "PUBLISH__MQTT__TOPIC_TEMPLATE" in reasons["mqtt"]
