"""Logging in to Discord at start, with retries while Discord cannot be reached.

discord.py's `Client.start` is `login` (REST: the token, the application, `setup_hook`) then
`connect` (the gateway, which reconnects by itself). A login that cannot reach Discord (DNS,
a refused connection, a timeout, a 5xx) is retried here with exponential backoff, one log
line per attempt; a token Discord refuses (`discord.LoginFailure`) is not retried. The sleep
is injected, so tests do not wait.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord.utils import MISSING

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# What "Discord cannot be reached" looks like from discord.py's REST client.
UNREACHABLE = (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.DiscordServerError)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, 4 … capped at 60)."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0 ** min(attempt - 1, 16))


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


async def _forget_http_session(client: discord.Client) -> None:
    """Close the session a failed `login` opened (each `login` opens its own), and let the
    next one make a new connector: closing the session closed the one it had."""
    await client.http.close()
    client.http.connector = MISSING


async def login_with_retries(client: discord.Client, token: str, *, sleep: Sleep) -> None:
    """`client.login(token)`, retried while Discord is unreachable; raises LoginFailure."""
    for attempt in itertools.count(1):
        try:
            await client.login(token)
            return
        except UNREACHABLE as exc:
            if client.user is not None:
                raise  # logged in: what failed came after (setup_hook), not reachability
            delay = retry_delay(attempt)
            log.warning(
                "cannot reach Discord (attempt %d: %s); retrying in %.0f s",
                attempt,
                _reason(exc),
                delay,
            )
            await _forget_http_session(client)
            await sleep(delay)


async def start_discord(client: discord.Client, token: str, *, sleep: Sleep) -> None:
    """Log in (with retries), then stay connected to the gateway (discord.py reconnects)."""
    await login_with_retries(client, token, sleep=sleep)
    await client.connect(reconnect=True)
