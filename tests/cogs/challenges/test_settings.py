"""`/settings`: show and change a server's defaults and admin role."""

from __future__ import annotations

import datetime as dt

import discord
import pytest
from discord import app_commands

from bot.domain import KM_PER_MILE, Units
from bot.errors import UserError
from bot.services import Services
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.settings import SettingsCog
from tests.challenges.fakes import ALICE, GUILD, LOS_ANGELES
from tests.cogs.challenges.world import (
    ADMIN_ROLE,
    LEADERBOARD,
    Discord,
    choice,
    create,
    embed_text,
    run_checks,
)
from tests.doubles.interaction import only_reply, role, text_channel


async def test_settings_show_and_change(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    show = world.interaction()
    await settings_cog.settings.callback(settings_cog, show)
    _, kwargs = only_reply(show)
    assert "Time zone: UTC" in embed_text(kwargs["embed"])

    change = world.interaction()
    leaderboard = text_channel(world.guild, LEADERBOARD)
    await settings_cog.settings.callback(
        settings_cog, change, time_zone="america/los_angeles", post_time=dt.time(20, 15),
        leaderboard_channel=leaderboard, admin_role=role(ADMIN_ROLE),
    )  # fmt: skip
    text, kwargs = only_reply(change)
    assert text == "Saved." and kwargs["ephemeral"] is True
    stored = await services.challenges.guild_settings(GUILD)
    assert (stored.time_zone, stored.post_time) == (LOS_ANGELES, dt.time(20, 15))
    assert (stored.leaderboard_channel_id, stored.admin_role_id) == (LEADERBOARD, ADMIN_ROLE)


async def test_only_manage_server_changes_the_admin_role(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    role_holder = world.interaction(ALICE, manage_guild=False, roles=(ADMIN_ROLE,))
    assert await run_checks(settings_cog.settings, role_holder)
    with pytest.raises(UserError, match="Only members with the Manage Server permission can"):
        await settings_cog.settings.callback(settings_cog, role_holder, clear_admin_role=True)
    with pytest.raises(UserError, match="@everyone cannot be the admin role"):
        await settings_cog.settings.callback(
            settings_cog, world.interaction(), admin_role=role(GUILD, default=True)
        )
    assert (await services.challenges.guild_settings(GUILD)).admin_role_id == ADMIN_ROLE


async def test_settings_check_the_leaderboard_channel(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    no_files = text_channel(
        world.guild, LEADERBOARD,
        discord.Permissions(view_channel=True, send_messages=True, embed_links=True),
    )  # fmt: skip
    with pytest.raises(UserError, match="I need Attach Files there"):
        await settings_cog.settings.callback(
            settings_cog, world.interaction(), leaderboard_channel=no_files
        )
    assert (await services.challenges.guild_settings(GUILD)).leaderboard_channel_id is None


async def test_settings_units_change_how_distances_are_shown_and_typed(
    settings_cog: SettingsCog, cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    change = world.interaction()
    await settings_cog.settings.callback(
        settings_cog, change, units=app_commands.Choice(name="Imperial", value="imperial")
    )
    _, kwargs = only_reply(change)
    assert "Units: Imperial: miles (mi)" in embed_text(kwargs["embed"])
    stored = await services.challenges.guild_settings(GUILD)
    assert stored.units is Units.IMPERIAL
    # Another setting changed later keeps the units.
    await services.challenges.update_guild_settings(GUILD, time_zone=LOS_ANGELES)
    assert (await services.challenges.guild_settings(GUILD)).units is Units.IMPERIAL

    double = await create(
        cog, world, metric=choice("distance"), scoring=choice("total"),
        start_date=dt.date(2024, 5, 20), end_date=dt.date(2024, 5, 26),
        daily_goal="5", daily_cap="50 km",
    )  # fmt: skip
    _, kwargs = only_reply(double)
    card = embed_text(kwargs["embed"])
    assert "Daily goal: 5.0 mi." in card and "A day counts up to 31.1 mi at most." in card
    [created] = await services.challenges.active_challenges()
    assert created.daily_goal == pytest.approx(5 * KM_PER_MILE)  # stored in km
    assert created.daily_cap == 50.0


async def test_a_goal_with_an_unknown_unit_creates_nothing(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    with pytest.raises(UserError, match="“parsecs” is not a distance unit I know: use km, m or mi"):
        await create(
            cog, world, metric=choice("distance"), scoring=choice("total"),
            start_date=dt.date(2024, 5, 20), end_date=dt.date(2024, 5, 26),
            daily_goal="5 parsecs",
        )  # fmt: skip
    with pytest.raises(UserError, match="Steps are counted in steps, not “km”"):
        await create(cog, world, preset=choice("goal_day"), daily_goal="8 km")
    assert await services.challenges.active_challenges() == []
