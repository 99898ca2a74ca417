"""`/leaderboard` and `/me` called as Discord would call them.

Interactions are `create_autospec(..., spec_set=True)` doubles of discord.py's classes. The
services behind the cog are the real ones (`Services`, its daily run included) over a real
database, with the scripted provider and recording messenger of `tests.daily.world`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest

from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.domain import ScoringMode
from bot.errors import UserError
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from cogs.leaderboard import LeaderboardCog
from tests.daily.world import JUNE_1, World, day, local

GUILD = 1  # the guild of `World.add_challenge`


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    return World(db, cipher)


@pytest.fixture
def services(
    world: World, db: Database, cipher: TokenCipher, make_settings: Callable[..., Settings]
) -> Services:
    built = build_services(
        make_settings(),
        db,
        MagicMock(),  # never used: the fake provider speaks no HTTP
        world.clock,
        providers={"fake": world.provider},
        cipher=cipher,
    )
    built.messenger.attach(world.messenger)
    return built


@pytest.fixture
def cog(services: Services) -> LeaderboardCog:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return LeaderboardCog(bot)


def interaction(user_id: int, *, guild_id: int | None = GUILD) -> Any:
    double = create_autospec(discord.Interaction, instance=True, spec_set=True)
    double.response = create_autospec(discord.InteractionResponse, instance=True, spec_set=True)
    double.response.is_done.return_value = False
    double.followup = create_autospec(discord.Webhook, instance=True, spec_set=True)
    double.user = create_autospec(discord.User, instance=True, spec_set=True)
    double.user.id = user_id
    double.guild_id = guild_id
    return double


def only_reply(double: Any) -> tuple[str, dict[str, Any]]:
    calls = [*double.response.send_message.await_args_list, *double.followup.send.await_args_list]
    assert len(calls) == 1, calls
    call = calls[0]
    text = call.args[0] if call.args else call.kwargs.get("content", "") or ""
    return text, call.kwargs


async def test_leaderboard_shows_what_the_daily_post_showed(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge(goal=8_000)
    alice = await world.add_player(challenge, 11, "Alice")
    bob = await world.add_player(challenge, 12, "Bob")
    world.provider.set(alice, day(1), 9_000)
    world.provider.set(bob, day(1), 4_000)
    world.clock.set(local(day(2), 9))
    await services.daily_run.run_due()
    [post] = world.messenger.posts

    double = interaction(12)
    await cog.leaderboard.callback(cog, double, challenge="june steps")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    _, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    embed: discord.Embed = kwargs["embed"]
    assert embed.title == post.embed.title and "⏳" in embed.title  # provisional, marked
    assert embed.description == post.embed.description
    assert "`1.` Alice · 9,000 steps ✓" in (embed.description or "")


async def test_leaderboard_without_an_option_picks_the_running_challenge(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 11, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.clock.set(local(day(2), 10))
    await services.daily_run.run_due()

    double = interaction(99)
    await cog.leaderboard.callback(cog, double, challenge=None)
    _, kwargs = only_reply(double)
    assert "June Steps" in (kwargs["embed"].title or "")


async def test_leaderboard_with_several_running_asks_unless_the_caller_plays_in_one(
    cog: LeaderboardCog, world: World
) -> None:
    first = await world.add_challenge(name="Steps A")
    await world.add_challenge(name="Steps B")
    await world.add_player(first, 11, "Alice")
    world.clock.set(local(day(2), 10))

    with pytest.raises(UserError, match="Several challenges are running"):
        await cog.leaderboard.callback(cog, interaction(99), challenge=None)

    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge=None)
    _, kwargs = only_reply(double)
    assert "Steps A" in (kwargs["embed"].title or "")


async def test_leaderboard_before_the_first_day_is_over_says_when(
    cog: LeaderboardCog, world: World
) -> None:
    await world.add_challenge()
    world.clock.set(local(JUNE_1, 15))
    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    text, kwargs = only_reply(double)
    assert "starts on Mon 1 Jun" in text and kwargs["ephemeral"] is True


async def test_leaderboard_of_a_finished_challenge_shows_the_results(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge(days=1)
    alice = await world.add_player(challenge, 11, "Alice")
    world.provider.set(alice, day(1), 7_000)
    world.clock.set(local(day(3), 9))
    await services.daily_run.run_due()

    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    _, kwargs = only_reply(double)
    assert "final results" in (kwargs["embed"].title or "")
    assert "🥇 **Alice**" in (kwargs["embed"].description or "")


async def test_me_in_a_dm_lists_ranks_values_and_streaks_across_challenges(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    steps = await world.add_challenge(name="Steps", goal=5_000)
    ranks = await world.add_challenge(name="Daily Rank", mode=ScoringMode.DAILY_RANK)
    alice = await world.add_player(steps, 11, "Alice")
    bob = await world.add_player(steps, 12, "Bob")
    await world.add_player(ranks, 11, "Alice")
    await world.add_player(ranks, 12, "Bob")
    for n, (a, b) in enumerate([(6_000, 9_000), (7_000, 3_000)], start=1):
        world.provider.set(alice, day(n), a)
        world.provider.set(bob, day(n), b)
    world.clock.set(local(day(3), 9))
    await services.daily_run.run_due()

    double = interaction(11, guild_id=None)
    await cog.me.callback(cog, double)

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    _, kwargs = only_reply(double)
    fields = {field.name: field.value or "" for field in kwargs["embed"].fields}
    assert set(fields) == {"Steps", "Daily Rank"}
    assert "Rank **1** of 2 · **13,000 steps**" in fields["Steps"]
    assert "Tue 2 Jun ⏳: 7,000 steps ✓" in fields["Steps"]
    assert "Streak: 2 · best 2" in fields["Steps"]
    assert "Rank **1** of 2 · **5 pts**" in fields["Daily Rank"]  # 2 + 3 points


async def test_me_lists_an_ended_challenge_for_a_week_of_its_own_days(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    # Kiritimati is 14 hours ahead of UTC: its days, not UTC's, decide what a week ago is.
    kiritimati = "Pacific/Kiritimati"
    challenge = await world.add_challenge(days=1, tz=kiritimati)
    alice = await world.add_player(challenge, 11, "Alice")
    world.provider.set(alice, day(1), 7_000)
    world.clock.set(local(day(3), 9, tz=kiritimati))
    await services.daily_run.run_due()  # the results: the challenge has ended

    def listed() -> set[str]:
        _, kwargs = only_reply(double)
        return {field.name or "" for field in kwargs["embed"].fields}

    world.clock.set(local(day(8), 23, tz=kiritimati))  # 7 days after its last day
    double = interaction(11, guild_id=None)
    await cog.me.callback(cog, double)
    assert listed() == {"June Steps 🏁"}

    world.clock.set(local(day(9), 10, tz=kiritimati))  # 8 days after; in UTC still 7
    double = interaction(11, guild_id=None)
    await cog.me.callback(cog, double)
    assert listed() == set()


async def test_me_without_challenges_says_how_to_join(cog: LeaderboardCog) -> None:
    double = interaction(77, guild_id=None)
    await cog.me.callback(cog, double)
    _, kwargs = only_reply(double)
    assert "not in any challenge" in (kwargs["embed"].description or "")


def test_me_works_in_dms_and_leaderboard_only_in_servers(cog: LeaderboardCog) -> None:
    contexts = cog.me.allowed_contexts
    assert contexts is not None and contexts.dm_channel and contexts.guild
    assert cog.leaderboard.guild_only
