"""`/remind on|off|status` called as Discord would call it: a member's own reminder, off by
default, with a clear error for a time that is not HH:MM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from unittest.mock import MagicMock, create_autospec

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.errors import UserError
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from cogs._transformers import TimeOption
from cogs.reminders import RemindersCog
from tests.doubles.interaction import interaction, only_reply
from tests.engines import ENGINES
from tests.nudges.world import ANA


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """/remind stores through the repositories: on both engines (`tests.engines`)."""
    return str(request.param)


GUILD = 900_000_000_000_000_001


@pytest.fixture
def services(db: Database, cipher: TokenCipher, make_settings: Callable[..., Settings]) -> Services:
    return build_services(
        make_settings(),
        db,
        MagicMock(),  # never used here
        FakeClock(dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC)),
        providers={},
        cipher=cipher,
    )


@pytest.fixture
def cog(services: Services) -> RemindersCog:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return RemindersCog(bot)


def _reply(double: object) -> str:
    text, options = only_reply(double)
    assert options.get("ephemeral") is True
    return text


async def test_reminders_are_off_until_turned_on(cog: RemindersCog) -> None:
    double = interaction(ANA, guild_id=GUILD)
    await cog.status.callback(cog, double)
    assert _reply(double) == (
        "Your reminders are off. /remind on 20:00 sends you one a day at 20:00."
    )


async def test_turning_a_reminder_on_says_when_and_in_which_time_zone(
    cog: RemindersCog, services: Services
) -> None:
    double = interaction(ANA, guild_id=GUILD)
    await cog.on.callback(cog, double, time=dt.time(20, 30), time_zone="Europe/Berlin")

    assert _reply(double).startswith(
        "Your reminder is on: every day at 20:30 in Europe/Berlin, with what is left of "
        "today's goal"
    )
    status = await services.reminders.status(ANA)
    assert status is not None and (status.at, status.zone) == (dt.time(20, 30), "Europe/Berlin")

    later = interaction(ANA, guild_id=GUILD)
    await cog.status.callback(cog, later)
    assert "every day at 20:30 in Europe/Berlin" in _reply(later)


async def test_without_a_time_zone_the_reminder_follows_the_challenge(cog: RemindersCog) -> None:
    double = interaction(ANA, guild_id=GUILD)
    await cog.on.callback(cog, double, time=dt.time(8), time_zone=None)
    assert "every day at 08:00 in UTC (yours, or your challenge's)" in _reply(double)


async def test_a_time_that_is_not_hh_mm_is_refused_with_how_to_write_it() -> None:
    with pytest.raises(UserError, match=r"“8pm” is not a time: write it as HH:MM"):
        await TimeOption().transform(interaction(ANA, guild_id=GUILD), "8pm")
    with pytest.raises(UserError, match="is not a time"):
        await TimeOption().transform(interaction(ANA, guild_id=GUILD), "24:00")


async def test_an_unknown_time_zone_is_refused(cog: RemindersCog, services: Services) -> None:
    with pytest.raises(UserError, match="“Mars/Base” is not a time zone I know"):
        await cog.on.callback(
            cog, interaction(ANA, guild_id=GUILD), time=dt.time(20), time_zone="Mars/Base"
        )
    assert await services.reminders.status(ANA) is None


async def test_turning_reminders_off(cog: RemindersCog, services: Services) -> None:
    await services.reminders.turn_on(ANA, dt.time(20), None)
    double = interaction(ANA, guild_id=GUILD)
    await cog.off.callback(cog, double)
    assert _reply(double) == "Reminders are off: Stride sends you none."
    assert await services.reminders.status(ANA) is None


def test_the_commands_are_for_servers_only(cog: RemindersCog) -> None:
    assert cog.remind.guild_only
