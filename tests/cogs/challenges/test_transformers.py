"""The date and time options: what a member reads when a value does not parse."""

from __future__ import annotations

import datetime as dt

import pytest
from discord import app_commands

from bot.discord_bot import user_message_for
from cogs._transformers import DateOption, TimeOption
from tests.cogs.challenges.world import Discord


async def test_dates_and_times_that_do_not_parse_say_the_format(world: Discord) -> None:
    double = world.interaction()
    with pytest.raises(app_commands.AppCommandError) as bad_date:
        await DateOption().transform(double, "17/03/2025")
    with pytest.raises(app_commands.AppCommandError) as bad_time:
        await TimeOption().transform(double, "9am")
    # Passed through discord.py as they are, and shown as written by the error handler:
    assert user_message_for(bad_date.value) == (
        "“17/03/2025” is not a date: write it as YYYY-MM-DD, e.g. 2025-03-17.",
        None,
    )
    assert user_message_for(bad_time.value)[0] == (
        "“9am” is not a time: write it as HH:MM on a 24-hour clock, e.g. 09:00."
    )
    assert await DateOption().transform(double, "2025-03-17") == dt.date(2025, 3, 17)
    assert await TimeOption().transform(double, "18:45") == dt.time(18, 45)
