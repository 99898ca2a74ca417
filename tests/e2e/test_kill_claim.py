"""A real `stride worker` process is SIGKILLed right after it claimed a challenge's post and
sent it (Discord holds the request: it has, or has not yet, created the message). Its claim
stays behind; another process leaves the challenge alone while the lease lasts, then takes
it over: the channel has the post exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.daily.once import POST_LEASE
from bot.daily.post import post_nonce
from bot.roles import Role, RoleApp
from bot.settings import Settings
from bot.storage import Database
from bot.storage.challenges import ChallengesRepo
from tests.daily.processes import challenge_in
from tests.e2e.conftest import BOT_PERMISSIONS
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


async def seed(path: Path, guild_id: int, channel_id: int, now: dt.datetime) -> int:
    """A challenge whose post about yesterday is due now (posted at 00:00 UTC)."""
    today = now.date()
    challenge = replace(
        challenge_in(guild_id, now),
        channel_id=channel_id,
        start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=5),
        post_time=dt.time(0, 0),
    )
    async with await Database.open(path) as db:
        await db.migrate()
        return await ChallengesRepo(db).insert(challenge)


async def worker_killed_in_its_post(env: dict[str, str], hold_arrived: Awaitable[None]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "e2e" / "launch_worker.py"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(hold_arrived, timeout=60)
    finally:
        process.kill()  # SIGKILL: nothing after this point runs in it
        await process.wait()


@pytest.mark.parametrize("created", [False, True], ids=["before-discord-stored-it", "after"])
async def test_a_worker_killed_after_claiming_a_post_is_taken_over_after_its_lease(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    tmp_path: Path,
    created: bool,
) -> None:
    standin = await make_discord_standin()
    guild = await standin.add_guild(
        "Club", bot_permissions=BOT_PERMISSIONS, text_channels=("challenges",)
    )
    channel = standin.channel_named(guild, "challenges")
    now = dt.datetime.now(dt.UTC)
    database = tmp_path / "stride.db"
    challenge_id = await seed(database, guild.id, channel.id, now)
    keys = Fernet.generate_key().decode()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": standin.token,
        "DATABASE_PATH": str(database),
        "TOKEN_ENCRYPTION_KEYS": keys,
        "INSTANCE_NAME": "doomed",
        "STANDIN_REST_URL": standin.rest_base_url,
    }
    hold = standin.hold_message_create(channel, store_first=created)
    await worker_killed_in_its_post(env, hold.wait_arrived())
    hold.drop()
    assert len(standin.history(channel)) == (1 if created else 0)
    async with await Database.open(database) as db:
        claim = await db.fetch_one(
            "SELECT owner, done_at FROM claims WHERE claim_key = ?", (f"post:{challenge_id}",)
        )
        assert (
            claim is not None and claim["owner"].startswith("doomed/") and claim["done_at"] is None
        )
        assert await db.fetch_value("SELECT COUNT(*) FROM post_intents") == 1

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=standin.token,
        database_path=database,
        token_encryption_keys=keys,
        instance_name="survivor",
        web_port=0,
    )
    with patch_discord(standin):
        # The lease runs from the moment the worker claimed (a few seconds after `now`).
        for later, posts in ((dt.timedelta(minutes=1), 1 if created else 0), (POST_LEASE * 1.1, 1)):
            survivor = RoleApp(
                settings, Role.WORKER, clock=FakeClock(now + later + dt.timedelta(seconds=5))
            )
            await survivor.start()  # its start-up catch-up
            await survivor.stop()
            assert len(standin.history(channel)) == posts
    [message] = standin.history(channel)
    assert [a.filename for a in message.attachments] == [
        f"stride-{challenge_id}-{(now.date() - dt.timedelta(days=1)).isoformat()}.png"
    ]
    [*_, last] = standin.requests_to("POST", "/channels/{channel_id}/messages")
    assert last.json["nonce"] == post_nonce(message.attachments[0].filename)
    assert standin.failures() == []
