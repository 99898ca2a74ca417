"""Pytest fixtures for the Discord stand-in (a conftest does
``from tests.standins.discord.fixtures import *``).

``discord_spec`` (session) loads Discord's OpenAPI spec once: ``None`` when the file is missing
outside CI, a failure under ``CI=true``. It is session-scoped on purpose: it reads
``$DISCORD_OPENAPI_SPEC`` before any function-scoped fixture clears ``DISCORD_*`` variables.

``make_discord_standin`` starts stand-ins with custom options (say, a shorter interaction
deadline); ``discord_standin`` is one with the defaults. Both serve on 127.0.0.1 with an
ephemeral port and, at teardown, fail the test with every problem a stand-in recorded (schema
violations, late or unanswered interactions, protocol misuse, unknown routes).

``patched_discord_standin`` is ``discord_standin`` with discord.py pointed at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.openapi import DiscordSpec, SpecUnavailableError, spec_from_environment

__all__ = [
    "discord_spec",
    "discord_spec_required",
    "discord_standin",
    "make_discord_standin",
    "patched_discord_standin",
]

StandInFactory = Callable[..., Awaitable[DiscordStandIn]]


@pytest.fixture(scope="session")
def discord_spec() -> DiscordSpec | None:
    """Discord's OpenAPI spec, or ``None`` (validation off) when it is missing outside CI."""
    try:
        return spec_from_environment()
    except SpecUnavailableError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def discord_spec_required(discord_spec: DiscordSpec | None) -> DiscordSpec:
    """The spec, or a skip saying that schema validation is not running here."""
    if discord_spec is None:
        pytest.skip("Discord's OpenAPI spec is missing: request validation is skipped")
    return discord_spec


@pytest.fixture
async def make_discord_standin(
    discord_spec: DiscordSpec | None,
) -> AsyncIterator[StandInFactory]:
    """``await make_discord_standin(**options)`` starts a stand-in (options as DiscordStandIn)."""
    created: list[DiscordStandIn] = []

    async def make(**options: Any) -> DiscordStandIn:
        standin = DiscordStandIn(spec=discord_spec, **options)
        await standin.start()
        created.append(standin)
        return standin

    try:
        yield make
    finally:
        for standin in created:
            await standin.close()
    failures = [line for standin in created for line in standin.failures()]
    if failures:
        pytest.fail(
            "the Discord stand-in recorded problems:\n  " + "\n  ".join(failures), pytrace=False
        )


@pytest.fixture
async def discord_standin(make_discord_standin: StandInFactory) -> DiscordStandIn:
    """A running stand-in with default options; problems it records fail the test."""
    return await make_discord_standin()


@pytest.fixture
def patched_discord_standin(discord_standin: DiscordStandIn) -> Iterator[DiscordStandIn]:
    """The stand-in, with ``discord.http.Route.BASE`` and the gateway URL pointing at it."""
    with patch_discord(discord_standin):
        yield discord_standin
