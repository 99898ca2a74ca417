"""`/nudges [on|off]` called as Discord would call it: a member's own switch, off by default,
and what the reply tells them nudges reveal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from unittest.mock import MagicMock, create_autospec

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from cogs.nudges import NudgesCog
from tests.doubles.interaction import interaction, only_reply
from tests.nudges.world import ANA

GUILD = 900_000_000_000_000_001


@pytest.fixture
def services(db: Database, cipher: TokenCipher, make_settings: Callable[..., Settings]) -> Services:
    return build_services(
        make_settings(nudge_min_hours=4, nudge_earliest_hour=9, nudge_latest_hour=20),
        db,
        MagicMock(),  # never used here
        FakeClock(dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)),
        providers={},
        cipher=cipher,
    )


@pytest.fixture
def cog(services: Services) -> NudgesCog:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return NudgesCog(bot)


async def _nudges(cog: NudgesCog, state: str | None = None) -> str:
    double = interaction(ANA, guild_id=GUILD)
    await cog.nudges.callback(cog, double, state=state)
    text, options = only_reply(double)
    assert options.get("ephemeral") is True
    return text


async def test_nudges_are_off_until_the_member_turns_them_on(
    cog: NudgesCog, services: Services
) -> None:
    text = await _nudges(cog)

    assert text.startswith("Your nudges are off.")
    assert text.endswith("/nudges on turns them on.")
    assert not await services.nudges.member_enabled(ANA)


async def test_turning_nudges_on_says_what_they_reveal_and_how_often(
    cog: NudgesCog, services: Services
) -> None:
    text = await _nudges(cog, "on")

    assert await services.nudges.member_enabled(ANA)
    assert text == (
        "Nudges are on. A nudge is a DM when someone passes you in a challenge (it names them "
        "and by how much, which also tells you they just synced), or how far you are from "
        "today's goal; at most one every 4 h, only from 09:00 to 20:00 in the challenge's "
        "time zone, and only in challenges whose admins allow them. /nudges off stops them."
    )
    assert (await _nudges(cog)).startswith("Your nudges are on.")


async def test_turning_nudges_off(cog: NudgesCog, services: Services) -> None:
    await _nudges(cog, "on")

    assert await _nudges(cog, "off") == "Nudges are off: Stride sends you none."
    assert not await services.nudges.member_enabled(ANA)


def test_the_command_is_for_servers_only(cog: NudgesCog) -> None:
    assert cog.nudges.guild_only
