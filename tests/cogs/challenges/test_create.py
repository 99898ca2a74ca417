"""`/challenge create`: the summary card it replies with, the server's defaults, and the
bad options that create nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord_bot import StrideTree, intents
from bot.domain import Metric
from bot.errors import UserError
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from tests.challenges.fakes import AUCKLAND, CHANNEL, GUILD, LOS_ANGELES
from tests.cogs.challenges.world import (
    LEADERBOARD,
    Discord,
    choice,
    create,
    embed_text,
    stored_challenges,
)
from tests.doubles.interaction import only_reply, text_channel


@pytest.mark.parametrize(
    ("preset", "zone", "dates"),
    [
        ("workweek_hustle", AUCKLAND, "Mon 13 May 2024 to Fri 17 May 2024, 5 days"),
        ("workweek_hustle", LOS_ANGELES, "Mon 06 May 2024 to Fri 10 May 2024, 5 days"),
        ("daily_showdown", AUCKLAND, "Tue 07 May 2024 (Pacific/Auckland)"),
        ("daily_showdown", LOS_ANGELES, "Mon 06 May 2024 (America/Los_Angeles)"),
        ("weekend_warrior", AUCKLAND, "Sat 11 May 2024 to Sun 12 May 2024, 2 days"),
        ("goal_day", LOS_ANGELES, "Mon 06 May 2024 (America/Los_Angeles)"),
        ("streak", AUCKLAND, "Tue 07 May 2024 to Wed 05 Jun 2024, 30 days"),
    ],
)
async def test_create_from_a_preset_replies_with_a_summary_card(
    cog: ChallengeAdminCog,
    world: Discord,
    services: Services,
    preset: str,
    zone: str,
    dates: str,
) -> None:
    double = await create(
        cog, world, preset=choice(preset), time_zone=zone, post_time=dt.time(7, 0)
    )

    text, kwargs = only_reply(double)
    assert "New challenge: **Spring Steps**" in text
    assert kwargs.get("ephemeral", False) is False  # the card announces it
    card = embed_text(kwargs["embed"])
    assert f"Dates: {dates}" in card
    assert f"Daily post: 07:00 {zone}" in card
    assert f"Leaderboard: <#{CHANNEL}>" in card
    [stored] = await services.challenges.active_challenges()
    assert stored.preset == preset and stored.time_zone == zone


async def test_create_uses_the_servers_defaults(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(
        GUILD, time_zone=AUCKLAND, post_time=dt.time(18, 0), leaderboard_channel_id=LEADERBOARD
    )
    leaderboard = text_channel(world.guild, LEADERBOARD)
    world.guild.get_channel.side_effect = {LEADERBOARD: leaderboard}.get

    double = await create(cog, world, channel=None, preset=choice("goal_day"))

    _, kwargs = only_reply(double)
    card = embed_text(kwargs["embed"])
    assert "Daily post: 18:00 Pacific/Auckland" in card
    assert f"Leaderboard: <#{LEADERBOARD}>" in card
    assert "Everyone who reaches 10,000 steps wins." in card


async def test_a_custom_challenge_with_every_option(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(
        cog,
        world,
        metric=choice("active_minutes"),
        scoring=choice("tiers"),
        start_date=dt.date(2024, 5, 6),
        end_date=dt.date(2024, 5, 31),
        time_zone="Europe/Berlin",
        post_time=dt.time(8, 30),
        daily_goal=30.0,
        daily_cap=240.0,
        manual_entries=choice("allow"),
        grace_hours=12,
        team_mode=choice("mean"),
        tiers="30:1, 60:2, 90:4",
        max_players=20,
        late_join=choice("backfill"),
    )
    [stored] = await services.challenges.active_challenges()
    assert stored.metric is Metric.ACTIVE_MINUTES
    assert stored.tiers == ((30, 1), (60, 2), (90, 4))
    assert (stored.allow_manual, stored.grace_hours, stored.max_players) == (True, 12, 20)
    assert stored.late_join_backfill and stored.team_mode.value == "mean"


async def test_missing_channel_permissions_are_named_and_nothing_is_created(
    cog: ChallengeAdminCog, world: Discord, db: Database
) -> None:
    world.channel.permissions_for.return_value = discord.Permissions(
        view_channel=True, send_messages=True
    )
    double = world.interaction()
    with pytest.raises(UserError) as caught:
        await cog.create.callback(cog, double, name="Spring Steps", channel=world.channel,
                                  preset=choice("daily_showdown"))  # fmt: skip
    assert str(caught.value) == (
        f"I cannot post the leaderboard in <#{CHANNEL}>: I need Embed Links, Attach Files "
        "there. Give my role those permissions in the channel's settings, or pick another "
        "channel."
    )
    assert await stored_challenges(db) == 0
    double.response.send_message.assert_not_awaited()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scoring": choice("total"), "start_date": dt.date(2024, 5, 10),
          "end_date": dt.date(2024, 5, 8)}, "is before the start date"),
        ({"scoring": choice("total"), "start_date": dt.date(2024, 5, 5),
          "end_date": dt.date(2024, 5, 8), "time_zone": AUCKLAND}, "is in the past in"),
        ({"preset": choice("goal_day"), "time_zone": "Atlantis/Capital"},
         "is not a time zone I know"),
        ({"preset": choice("goal_day"), "daily_goal": 500_000.0},
         "must be between 100 steps and 100,000 steps"),
        ({"scoring": choice("improvement"), "metric": choice("sleep_minutes"),
          "start_date": dt.date(2024, 5, 6), "end_date": dt.date(2024, 5, 8)},
         "does not suit sleep"),
    ],
)  # fmt: skip
async def test_bad_create_options_are_one_line_and_nothing_is_created(
    cog: ChallengeAdminCog, world: Discord, db: Database, options: dict[str, Any], message: str
) -> None:
    double = world.interaction()
    with pytest.raises(UserError, match=message) as caught:
        await cog.create.callback(
            cog, double, name="Spring Steps", channel=world.channel, **options
        )
    assert "\n" not in str(caught.value)
    assert await stored_challenges(db) == 0
    # The tree's error handler shows it ephemerally, as written.
    await StrideTree(discord.Client(intents=intents())).on_error(  # type: ignore[arg-type]
        double, app_commands.CommandInvokeError(cog.create, caught.value)
    )
    double.response.send_message.assert_awaited_once_with(str(caught.value), ephemeral=True)


async def test_duplicate_name_in_the_same_server(
    cog: ChallengeAdminCog, world: Discord, db: Database
) -> None:
    await create(cog, world, preset=choice("daily_showdown"))
    with pytest.raises(UserError, match="already has a challenge called “SPRING STEPS”"):
        await create(cog, world, name="SPRING STEPS", preset=choice("goal_day"))
    assert await stored_challenges(db) == 1
