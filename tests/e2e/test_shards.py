"""Two `stride run` processes, shards 0 and 1 of 2, started together on one empty database
(SQLite and PostgreSQL; it is migrated once) against the Discord stand-in: each connects its
own shard (discord.py's AutoShardedBot, IDENTIFY with its
shard), answers the commands of its shard's guilds, and posts only its guilds' standings,
each exactly once, although both run the daily jobs at the same instant."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import StrideApp
from bot.clock import FakeClock
from bot.daily import RunReport
from bot.shards import guild_shard
from bot.storage.db import bundled_migrations
from tests.e2e.conftest import BOT_PERMISSIONS, MANAGE_GUILD
from tests.engines import ENGINES, Databases
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.entities import Channel, Guild, User
from tests.standins.providers import start_provider_standins

pytestmark = pytest.mark.e2e

SHARDS = 2
# Monday 2026-11-23, 08:00 UTC, as in the other scenarios.
START = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


async def started(apps: list[StrideApp]) -> None:
    await asyncio.gather(*(app.start() for app in apps))
    await asyncio.gather(*(app.wait_until_ready() for app in apps))
    for app in apps:
        if app.start_up_task is not None:
            await app.start_up_task


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """On SQLite (one file) and on PostgreSQL (one database), empty at the start."""
    return str(request.param)


@pytest.fixture
async def shards(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    databases: Databases,
    tmp_path: Path,
    unused_tcp_port_factory: Callable[[], int],
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[tuple[DiscordStandIn, FakeClock, list[StrideApp], User, list[Guild]]]:
    caplog.set_level(logging.INFO, logger="bot.storage")
    target = await databases.target(migrated=False)
    where: dict[str, object] = (
        {"database_url": str(target)}
        if databases.engine == "postgresql"
        else {"database_path": target}
    )
    clock = FakeClock(START)
    standin = await make_discord_standin(shard_count=SHARDS)
    providers = await start_provider_standins(clock=clock)
    admin = standin.add_user("Ada")
    guilds = []
    for shard in range(SHARDS):
        guilds.append(
            await standin.add_guild(
                f"Club {shard}",
                owner=admin,
                bot_permissions=BOT_PERMISSIONS,
                text_channels=("challenges",),
                guild_id=((5000 + shard) << 22) | 9,
            )
        )
    keys = Fernet.generate_key().decode()
    apps = []
    for shard in range(SHARDS):
        port = unused_tcp_port_factory()
        settings = providers.settings(
            sandbox=True,
            discord_token=standin.token,
            token_encryption_keys=keys,
            web_port=port,
            public_base_url=f"http://127.0.0.1:{port}",
            metrics_port=None,
            shard_count=SHARDS,
            shard_ids=[shard],
            publish={"file": {"path": str(tmp_path / "publish.jsonl")}},
            **where,
        )
        apps.append(StrideApp(settings, clock=clock))
    try:
        with patch_discord(standin):
            await started(apps)  # together, on an empty database: it is migrated once
            applied = [r for r in caplog.records if r.getMessage().startswith("applied migration")]
            assert len(applied) == bundled_migrations()[-1].version
            try:
                yield standin, clock, apps, admin, guilds
            finally:
                await asyncio.gather(*(app.stop() for app in apps))
    finally:
        await providers.close()


async def fire_both(apps: list[StrideApp], clock: FakeClock, instant: dt.datetime) -> None:
    since = clock.now()
    clock.set(instant)
    await asyncio.gather(
        *(app.services.scheduler.fire_due(since, instant) for app in apps if app.services)
    )


def bot_posts(standin: DiscordStandIn, channel: Channel) -> list[str]:
    return [
        attachment.filename
        for message in standin.messages_in(channel)
        if message.author.id == standin.bot_user.id and message.interaction_id is None
        for attachment in message.attachments
    ]


async def test_each_shard_process_serves_and_posts_its_own_guilds_once(
    shards: tuple[DiscordStandIn, FakeClock, list[StrideApp], User, list[Guild]],
) -> None:
    standin, clock, apps, admin, guilds = shards
    assert sorted(session.shard for session in standin.gateway.sessions) == [(0, 2), (1, 2)]
    for app, guild in zip(apps, guilds, strict=True):
        assert app.bot is not None
        assert [g.id for g in app.bot.guilds] == [guild.id]

    reports: dict[int, list[RunReport]] = {0: [], 1: []}
    for shard, app in enumerate(apps):
        assert app.services is not None
        runner = app.services.daily_run
        run_due = runner.run_due

        async def recording(run_due=run_due, shard=shard) -> RunReport:  # type: ignore[no-untyped-def]
            report = await run_due()
            reports[shard].append(report)
            return report

        runner.run_due = recording  # type: ignore[method-assign]

    channels = [standin.channel_named(guild, "challenges") for guild in guilds]
    for guild, channel in zip(guilds, channels, strict=True):
        record = await standin.slash(
            user=admin,
            guild=guild,
            channel=channel,
            name="challenge create",
            options={
                "name": f"Steps {guild.id}",
                "channel": channel.id,
                "preset": "daily_showdown",
            },
            permissions=MANAGE_GUILD,
        )
        card = await record.wait_message()
        assert f"Steps {guild.id}" in card.text

    # The day's post time, and the next day's: both processes fire their jobs together.
    for days in (1, 2):
        await fire_both(apps, clock, START.replace(hour=9, minute=5) + dt.timedelta(days=days))

    for shard, guild in enumerate(guilds):
        assert guild_shard(guild.id, SHARDS) == shard
        posted = {c for report in reports[shard] for c in report.posts}
        assert len(posted) == 1  # its own guild's challenge only
    for channel in channels:
        posts = bot_posts(standin, channel)
        # Monday's post on Tuesday, the results on Wednesday: each once.
        assert len(posts) == 2 and posts[1].endswith("-results.png"), posts
    assert standin.failures() == []
