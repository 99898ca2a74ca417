"""`stride run` as a real process: it starts, serves /healthz, and stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from tests.standins.discord.discord_standin import DiscordStandIn

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_stride_run_stops_cleanly_on_signal(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
    tmp_path: Path,
    unused_tcp_port: int,
    signum: signal.Signals,
) -> None:
    standin = await make_discord_standin()
    await standin.add_guild("Club", bot_permissions=(1 << 11) | (1 << 10))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DISCORD_TOKEN": standin.token,
        "DATABASE_PATH": str(tmp_path / "stride.db"),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "WEB_PORT": str(unused_tcp_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{unused_tcp_port}",
        "SANDBOX__ENABLED": "true",
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
    try:
        await standin.wait_for_identify(timeout=30)
        await standin.wait_for_commands(["link", "challenge", "leaderboard"], timeout=30)
        health_url = f"http://127.0.0.1:{unused_tcp_port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(health_url) as health:
            assert health.status == 200
        process.send_signal(signum)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = err.decode()
    assert process.returncode == 0, log
    assert "shutting down" in log
    assert "Traceback" not in log
    # A cleanly closed SQLite database in WAL mode leaves no -wal file behind.
    assert not (tmp_path / "stride.db-wal").exists()
