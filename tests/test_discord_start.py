"""Logging in to Discord (`bot.discord_start`): `stride run` when Discord cannot be reached, and
when it refuses the token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import StrideApp
from bot.discord_start import MAX_RETRY_SECONDS, retry_delay
from bot.settings import Settings
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord, refused_rest
from tests.standins.discord.fixtures import discord_spec, make_discord_standin

__all__ = ["discord_spec", "make_discord_standin"]  # the stand-in's fixtures, used below

ROOT = Path(__file__).resolve().parents[1]


def test_retry_delays_double_and_are_capped() -> None:
    delays = [retry_delay(attempt) for attempt in range(1, 12)]
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(delays) == MAX_RETRY_SECONDS == delays[-1]


async def test_unreachable_discord_is_retried_one_line_each_until_it_answers(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    make_settings: Callable[..., Settings],
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin = await make_discord_standin()
    await standin.add_guild("Club")
    settings = make_settings(discord_token=standin.token, web_port=unused_tcp_port)
    waits: list[float] = []
    patches = contextlib.ExitStack()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            patches.enter_context(patch_discord(standin))  # Discord is back after attempt 3

    caplog.set_level(logging.WARNING, logger="bot.discord_start")
    with refused_rest(), patches:  # unwound in reverse: the original URL last
        app = StrideApp(settings, sleep=sleep)
        try:
            await app.start()
            await asyncio.wait_for(app.wait_until_ready(), timeout=30)
        finally:
            await app.stop()
    assert waits == [1.0, 2.0, 4.0]
    attempts = [r for r in caplog.records if r.name == "bot.discord_start"]
    assert [r.getMessage().split(":")[0] for r in attempts] == [
        "cannot reach Discord (attempt 1",
        "cannot reach Discord (attempt 2",
        "cannot reach Discord (attempt 3",
    ]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in attempts)
    assert standin.token not in caplog.text


async def test_stop_while_waiting_to_retry_returns_at_once(
    make_settings: Callable[..., Settings], unused_tcp_port: int
) -> None:
    settings = make_settings(discord_token="t0ken", web_port=unused_tcp_port)
    waiting = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waiting.set()
        await asyncio.Event().wait()  # a retry that would never come

    with refused_rest():
        app = StrideApp(settings, sleep=sleep)
        await app.start()
        await asyncio.wait_for(waiting.wait(), timeout=10)
        await asyncio.wait_for(app.stop(), timeout=10)


async def test_a_refused_token_is_one_line_and_exit_1(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    tmp_path: Path,
    unused_tcp_port: int,
) -> None:
    standin = await make_discord_standin()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DISCORD_TOKEN": "a-token-discord-does-not-know",
        "DATABASE_PATH": str(tmp_path / "stride.db"),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "WEB_PORT": str(unused_tcp_port),
        "STANDIN_REST_URL": standin.rest_base_url,
        "STANDIN_GATEWAY_URL": standin.gateway_url,
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "e2e" / "launch_stride.py"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    text = err.decode()
    assert process.returncode == 1, text
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Discord refused DISCORD_TOKEN" in errors[0]
    assert "a-token-discord-does-not-know" not in text
