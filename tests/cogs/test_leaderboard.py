"""`/leaderboard`, `/me` and `/sync` called as Discord would call them.

Interactions are `create_autospec(..., spec_set=True)` doubles of discord.py's classes. The
services behind the cog are the real ones (`Services`, its daily run included) over a real
database, with the scripted provider and recording messenger of `tests.daily.world`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest

from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.domain import DailyValue, Metric, ScoringMode
from bot.errors import UserError
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.values import FetchedValue, ValuesRepo
from bot.sync.queue import SETTLE
from cogs.leaderboard import LeaderboardCog
from tests.daily.world import JUNE_1, World, day, local
from tests.doubles.interaction import interaction as shared_interaction
from tests.doubles.interaction import only_reply

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
    return shared_interaction(user_id, guild_id=guild_id)


async def sync_now(services: Services, world: World, *users: str) -> None:
    """The users' watches synced: their provider notified, and the sync queue fetched them."""
    for user in users:
        assert await services.sync.request("fake", user, reason="webhook") == 1
    world.clock.advance(SETTLE)
    await services.sync.run_due()


async def test_leaderboard_shows_a_sync_within_the_day_with_no_post_in_between(
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
    assert "`1.` Alice · 9,000 steps ✓" in post.embed.description
    world.clock.set(local(day(2), 14, 5))
    world.provider.set(bob, day(2), 12_000)  # Bob's watch syncs mid-afternoon
    await sync_now(services, world, bob)

    double = interaction(12)
    await cog.leaderboard.callback(cog, double, challenge="june steps")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    _, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    embed: discord.Embed = kwargs["embed"]
    assert embed.title == "June Steps — Tue 2 Jun ⏳"  # today, provisional
    rows = (embed.description or "").splitlines()
    assert "`1.` Bob · 12,000 steps ✓ · **16,000 steps** ▲1 · synced 14:05" in rows
    assert "`2.` Alice · — · **9,000 steps** ▼1 · synced 09:00" in rows
    assert "sync times in UTC" in (embed.footer.text or "")
    assert len(world.messenger.posts) == 1  # no post in between


async def test_leaderboard_marks_a_value_an_admin_corrected(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge(goal=8_000)
    alice = await world.add_player(challenge, 11, "Alice")
    bob = await world.add_player(challenge, 12, "Bob")
    world.provider.set(alice, day(1), 9_000)
    world.provider.set(bob, day(1), 4_000)
    world.clock.set(local(day(2), 9))
    await services.daily_run.run_due()
    world.clock.set(local(day(2), 14))
    await services.adjustments.adjust(
        GUILD, "June Steps", 12, day(2), "11000", "watch was charging", by=99
    )

    double = interaction(12)
    await cog.leaderboard.callback(cog, double, challenge="june steps")

    _, kwargs = only_reply(double)
    embed: discord.Embed = kwargs["embed"]
    rows = (embed.description or "").splitlines()
    assert any(row.startswith("`1.` Bob · 11,000 steps†") for row in rows), rows
    assert "corrected by an admin" in (embed.footer.text or "")


async def test_sync_times_are_in_the_challenges_time_zone(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge(tz="Europe/Berlin")
    alice = await world.add_player(challenge, 11, "Alice")
    await world.add_player(challenge, 12, "Bob")  # never synced
    world.clock.set(local(day(2), 12, 5))  # 14:05 in Berlin
    world.provider.set(alice, day(2), 3_000)
    await sync_now(services, world, alice)

    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")

    _, kwargs = only_reply(double)
    embed: discord.Embed = kwargs["embed"]
    rows = (embed.description or "").splitlines()
    assert any(row.startswith("`1.` Alice") and row.endswith("synced 14:05") for row in rows)
    assert any(row.startswith("`2.` Bob") and row.endswith("not synced yet") for row in rows)
    assert "sync times in Europe/Berlin" in (embed.footer.text or "")


async def test_an_earlier_days_sync_says_which_day(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 11, "Alice")
    world.clock.set(local(day(1), 20, 30))
    world.provider.set(alice, day(1), 3_000)
    await sync_now(services, world, alice)
    world.clock.set(local(day(2), 8))

    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    _, kwargs = only_reply(double)
    assert "synced Mon 1 Jun 20:30" in (kwargs["embed"].description or "")


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


async def test_leaderboard_before_the_first_day_says_when(
    cog: LeaderboardCog, world: World
) -> None:
    await world.add_challenge()
    world.clock.set(local(JUNE_1, 0) - dt.timedelta(hours=9))
    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    text, kwargs = only_reply(double)
    assert "starts on Mon 1 Jun" in text and kwargs["ephemeral"] is True


async def test_leaderboard_on_the_first_day_is_live_already(
    cog: LeaderboardCog, services: Services, world: World
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 11, "Alice")
    world.clock.set(local(JUNE_1, 15))
    world.provider.set(alice, JUNE_1, 2_500)
    await sync_now(services, world, alice)

    double = interaction(11)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    _, kwargs = only_reply(double)
    assert kwargs["embed"].title == "June Steps — Mon 1 Jun ⏳"
    assert "`1.` Alice · 2,500 steps · **2,500 steps** · synced 15:00" in (
        kwargs["embed"].description or ""
    )
    assert world.messenger.posts == []


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
    world.clock.set(local(day(3), 16, 40))
    world.provider.set(alice, day(3), 5_500)  # today, so far
    await sync_now(services, world, alice)

    double = interaction(11, guild_id=None)
    await cog.me.callback(cog, double)

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    _, kwargs = only_reply(double)
    fields = {field.name: field.value or "" for field in kwargs["embed"].fields}
    assert set(fields) == {"Steps", "Daily Rank"}
    assert "Rank **1** of 2 · **18,500 steps**" in fields["Steps"]
    assert "Wed 3 Jun ⏳: 5,500 steps ✓" in fields["Steps"]  # today, provisional
    assert "Streak: 3 · best 3" in fields["Steps"]
    assert "Synced 16:40 (UTC)" in fields["Steps"]
    assert "Rank **1** of 2 · **8 pts**" in fields["Daily Rank"]  # 2 + 3, and 3 so far today


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


@pytest.fixture
async def running_sync(services: Services) -> AsyncIterator[Services]:
    """The services with the sync queue's workers running, as `StrideApp` starts them."""
    await services.sync.start()
    yield services
    await services.sync.aclose()


def sent_text(double: Any) -> str:
    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    return text


async def test_sync_fetches_now_and_says_when_to_try_again(
    cog: LeaderboardCog, running_sync: Services, world: World
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 11, "Alice")
    world.clock.set(local(day(2), 14, 5))
    world.provider.set(alice, day(2), 6_200)
    again_at = int((world.clock.now() + dt.timedelta(minutes=10)).timestamp())

    double = interaction(11)
    await cog.sync.callback(cog, double)

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert sent_text(double).splitlines() == [
        "✓ **Fake Watch**: synced.",
        f"You can /sync again <t:{again_at}:R>.",
    ]
    board = interaction(11)
    await cog.leaderboard.callback(cog, board, challenge="June Steps")
    _, kwargs = only_reply(board)
    assert "`1.` Alice · 6,200 steps · **6,200 steps** · synced 14:05" in (
        kwargs["embed"].description or ""
    )

    world.clock.advance(dt.timedelta(minutes=3))
    double = interaction(11)
    await cog.sync.callback(cog, double)
    assert sent_text(double) == f"You synced a moment ago: you can /sync again <t:{again_at}:R>."
    assert len(world.provider.calls_for(alice)) == 1


async def test_sync_says_what_went_wrong_with_an_account(
    cog: LeaderboardCog, running_sync: Services, world: World
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 11, "Alice")
    await world.add_player(challenge, 12, "Bob", linked=False)
    world.clock.set(local(day(2), 14))
    world.provider.unavailable.add(alice)

    double = interaction(11)
    await cog.sync.callback(cog, double)
    retry_at = int((world.clock.now() + dt.timedelta(seconds=30)).timestamp())
    assert sent_text(double).splitlines()[0] == (
        f"**Fake Watch** did not answer: I try again <t:{retry_at}:R>."
    )

    double = interaction(12)
    await cog.sync.callback(cog, double)
    assert sent_text(double) == "You have no linked account to sync: /link one first."


async def answers_while_the_database_is_busy(
    db: Database, call: Callable[[Any], Awaitable[None]]
) -> None:
    """Call a command while another task holds the database (a storm of notifications being
    written, say): Discord's 3 s are met by the deferral, before any query."""
    held, release, deferred = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def busy() -> None:
        async with db.transaction():
            held.set()
            await release.wait()

    holder = asyncio.create_task(busy())
    await held.wait()
    double = interaction(11)
    double.response.defer.side_effect = lambda **_: deferred.set()
    running = asyncio.create_task(call(double))
    async with asyncio.timeout(5):
        await deferred.wait()
    assert not running.done()  # still waiting for the database
    release.set()
    await asyncio.gather(holder, running)
    only_reply(double)  # then it answered, once


async def test_a_busy_database_never_delays_leaderboard_or_sync(
    cog: LeaderboardCog, running_sync: Services, world: World, db: Database
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, 11, "Alice")
    world.clock.set(local(day(2), 14))

    await answers_while_the_database_is_busy(
        db, lambda double: cog.leaderboard.callback(cog, double, challenge=None)
    )
    await answers_while_the_database_is_busy(db, lambda double: cog.sync.callback(cog, double))


def test_sync_works_where_me_does(cog: LeaderboardCog) -> None:
    contexts = cog.sync.allowed_contexts
    assert contexts is not None and contexts.dm_channel and contexts.guild


async def test_a_big_challenge_shows_what_fits_and_counts_the_rest(
    cog: LeaderboardCog, world: World
) -> None:
    challenge = await world.add_challenge()
    accounts = AccountsRepo(world.db, world.cipher)
    values, synced = [], []
    for n in range(1, 151):
        await world.add_player(challenge, n, f"Player with a long name {n:03d}")
        account = await accounts.get(n, "fake")
        assert account is not None
        values.append(FetchedValue(n, "fake", DailyValue(Metric.STEPS, day(1), 1_000 + n)))
        synced.append(account.id)
    world.clock.set(local(day(1), 18, 45))
    await ValuesRepo(world.db).store_fetched(values, synced, world.clock.now())

    double = interaction(1)
    await cog.leaderboard.callback(cog, double, challenge="June Steps")
    _, kwargs = only_reply(double)
    embed: discord.Embed = kwargs["embed"]

    lines = (embed.description or "").splitlines()
    shown = [line for line in lines if line.startswith("`")]
    assert shown[0].startswith("`1.` Player with a long name 150 · 1,150 steps")
    assert all(line.endswith(" · synced 18:45") for line in shown)
    assert lines[-1] == f"…and {150 - len(shown)} more" and 10 < len(shown) < 150
    assert len(embed) <= 6000 and len(embed.description or "") <= 4096
