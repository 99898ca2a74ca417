"""The split roles (`bot.roles`): `stride web` answers over HTTP and runs nothing in the
background; `stride worker` runs the queues and the daily run and serves nothing; the
worker posts a day's standings over Discord's REST API, without a gateway."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.daily.runner import SWEEP_JOB_ID
from bot.instance import NameInUse
from bot.roles import RESCHEDULE_JOB_ID, Role, RoleApp
from bot.settings import Settings
from bot.storage import Database
from bot.storage.challenges import ChallengesRepo
from bot.storage.db import bundled_migrations
from tests.daily.processes import challenge_in
from tests.engines import Databases
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord, refused_rest
from tests.standins.discord.entities import ATTACH_FILES, EMBED_LINKS, SEND_MESSAGES
from tests.standins.discord.fixtures import *  # noqa: F403 - the stand-in's fixtures

NOW = dt.datetime(2026, 6, 2, 9, 5, tzinfo=dt.UTC)


@pytest.fixture
def role_settings(tmp_path: Path, unused_tcp_port: int) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_path": tmp_path / "stride.db",
            "token_encryption_keys": Fernet.generate_key().decode(),
            "web_port": unused_tcp_port,
            "metrics_port": None,
            "metrics_token": "scrape-token-for-the-test",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


async def test_the_web_role_serves_http_and_runs_nothing_in_the_background(
    role_settings: Callable[..., Settings],
) -> None:
    app = RoleApp(role_settings(), Role.WEB, clock=FakeClock(NOW))
    await app.start()
    try:
        assert app.services is not None and app.port is not None
        base = f"http://127.0.0.1:{app.port}"
        headers = {"Authorization": "Bearer scrape-token-for-the-test"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200
            async with http.get(f"{base}/metrics", headers=headers) as metrics:
                assert metrics.status == 200
            async with http.get(f"{base}/oauth/sandbox/callback?state=forged") as callback:
                assert 400 <= callback.status < 500  # the route is there; the state is not
        assert not app.services.scheduler.running
        assert not app.services.messenger.connected  # no DISCORD_TOKEN: no client at all
    finally:
        await app.stop()


async def test_the_worker_role_posts_the_daily_run_over_rest_and_serves_nothing(
    role_settings: Callable[..., Settings],
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    guild = await standin.add_guild(
        "Club", bot_permissions=SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
    )
    channel = standin.channel_named(guild, "general")
    settings = role_settings(discord_token=standin.token, sandbox={"enabled": True})
    async with await Database.open(settings.database_path) as db:
        await db.migrate()
        challenge = challenge_in(guild.id, NOW - dt.timedelta(days=2))
        start = NOW.date() - dt.timedelta(days=1)
        # Nobody plays yet: the day's post goes out all the same.
        await ChallengesRepo(db).insert(replace(challenge, channel_id=channel.id, start=start))
    app = RoleApp(settings, Role.WORKER, clock=FakeClock(NOW))
    with patch_discord(standin):
        await app.start()  # the start-up catch-up posts yesterday
        try:
            assert app.services is not None and app.port is None
            jobs = app.services.scheduler.job_ids()
            assert {RESCHEDULE_JOB_ID, SWEEP_JOB_ID} <= set(jobs)
            assert app.services.scheduler.running
        finally:
            await app.stop()
    [post] = standin.history(channel)
    assert [attachment.filename for attachment in post.attachments] == [
        f"stride-1-{start.isoformat()}.png"
    ]
    assert standin.gateway.sessions == []  # REST only
    assert standin.failures() == []


async def test_the_worker_waits_for_an_unreachable_discord_and_web_goes_on_without_it(
    role_settings: Callable[..., Settings],
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin = await make_discord_standin()
    await standin.add_guild("Club")
    settings = role_settings(discord_token=standin.token)
    waits: list[float] = []
    patches = contextlib.ExitStack()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            patches.enter_context(patch_discord(standin))  # Discord is back after attempt 2

    caplog.set_level(logging.WARNING)
    with refused_rest():
        web = RoleApp(settings, Role.WEB, clock=FakeClock(NOW), sleep=sleep)
        await web.start()  # one attempt: the routes work without Discord
        try:
            assert web.services is not None and not web.services.messenger.connected
        finally:
            await web.stop()
        assert waits == []
        with patches:  # unwound before the original URL comes back
            worker = RoleApp(settings, Role.WORKER, clock=FakeClock(NOW), sleep=sleep)
            await worker.start()  # retried with backoff until Discord answers
            try:
                assert worker.services is not None and worker.services.messenger.connected
            finally:
                await worker.stop()
    assert waits == [1.0, 2.0]
    gc.collect()  # an unclosed aiohttp session of a failed login would complain now
    assert "Unclosed client session" not in caplog.text
    assert "Traceback" not in caplog.text and standin.token not in caplog.text


@pytest.mark.parametrize("db_engine", ["sqlite", "postgresql"])
async def test_two_processes_started_together_on_an_empty_database_migrate_it_once(
    databases: Databases,
    role_settings: Callable[..., Settings],
    unused_tcp_port_factory: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.storage")
    target = await databases.target(migrated=False)
    where = (
        {"database_url": str(target)}
        if databases.engine == "postgresql"
        else {"database_path": target}
    )
    apps = [
        RoleApp(
            role_settings(web_port=unused_tcp_port_factory(), **where), role, clock=FakeClock(NOW)
        )
        for role in (Role.WEB, Role.WORKER)
    ]
    await asyncio.gather(*(app.start() for app in apps))
    try:
        versions = [await app.services.db.schema_version() for app in apps if app.services]
    finally:
        await asyncio.gather(*(app.stop() for app in apps))
    latest = bundled_migrations()[-1].version
    assert versions == [latest, latest]
    applied = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("applied migration")
    ]
    assert len(applied) == latest  # each migration once, by one of the two


async def test_a_second_worker_with_the_same_name_stops_with_one_clear_line(
    role_settings: Callable[..., Settings],
) -> None:
    """Two `stride worker`s named alike would both own every claim: the second one waits
    while the first renews its name, then refuses to start; after the first's clean stop the
    name is free at once."""
    clock = FakeClock(NOW)
    settings = role_settings(instance_name="worker-a")
    first = RoleApp(settings, Role.WORKER, clock=clock)
    await first.start()

    async def time_passes(seconds: float) -> None:  # the first one's heartbeat goes on
        clock.advance(dt.timedelta(seconds=seconds))
        assert first.services is not None and first.services.instance is not None
        await first.services.instance.renew()

    try:
        second = RoleApp(settings, Role.WORKER, clock=clock, sleep=time_passes)
        with pytest.raises(NameInUse) as refused:
            await second.start()
        assert str(refused.value) == (
            "another Stride process named worker-a/unsharded is running on this database; "
            "give each process its own INSTANCE_NAME"
        )
        assert second.services is None
    finally:
        await first.stop()

    async def no_time(seconds: float) -> None:
        raise AssertionError("the name was given back: no wait")

    third = RoleApp(settings, Role.WORKER, clock=clock, sleep=no_time)
    await third.start()
    await third.stop()
