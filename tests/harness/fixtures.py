"""Pytest fixtures for the Discord stand-in (``from tests.harness.fixtures import *`` in conftest).

``discord_spec`` (session) loads Discord's OpenAPI spec once: ``None`` when the file is missing
outside CI, a failure under ``CI=true``. It is session-scoped on purpose: it reads
``$DISCORD_OPENAPI_SPEC`` before any function-scoped fixture clears ``DISCORD_*`` variables.

``discord_standin`` starts a :class:`DiscordStandIn` on 127.0.0.1 (ephemeral port) and, at
teardown, fails the test with every problem the stand-in recorded (schema violations, late or
unanswered interactions, protocol misuse, unknown routes).

``patched_discord_standin`` is the same stand-in with discord.py pointed at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.harness.discord_standin import DiscordStandIn, patch_discord
from tests.harness.openapi import DiscordSpec, SpecUnavailableError, spec_from_environment

__all__ = ["discord_spec", "discord_spec_required", "discord_standin", "patched_discord_standin"]


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
async def discord_standin(discord_spec: DiscordSpec | None) -> AsyncIterator[DiscordStandIn]:
    """A running stand-in; the test fails at teardown if the stand-in recorded problems."""
    standin = DiscordStandIn(spec=discord_spec)
    await standin.start()
    try:
        yield standin
    finally:
        await standin.close()
    failures = standin.failures()
    if failures:
        pytest.fail(
            "the Discord stand-in recorded problems:\n  " + "\n  ".join(failures), pytrace=False
        )


@pytest.fixture
def patched_discord_standin(discord_standin: DiscordStandIn) -> Iterator[DiscordStandIn]:
    """The stand-in, with ``discord.http.Route.BASE`` and the gateway URL pointing at it."""
    with patch_discord(discord_standin):
        yield discord_standin
