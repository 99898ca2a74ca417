"""Issue 15, items 5 and 6, through the cogs and the daily run: a server's units change every
distance a member reads (the daily post, `/leaderboard`, `/me`, the rule card, the goal nudge,
goals typed in options), and a member can play under a nickname or hidden from public posts
while still seeing their own rank in `/me`.

The services are the real ones over a real database (`tests.daily.world`), the interactions
`spec_set` doubles of discord.py's classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest

from bot.challenges.inputs import ChallengeEdit
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.domain import KM_PER_MILE, Metric, Units
from bot.errors import UserError
from bot.nudges.service import pass_nudges
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from bot.sync.queue import SETTLE
from bot.web.share.view import chart_input, live_view
from cogs.accounts import AccountsCog
from cogs.challenges._embeds import challenge_card, info_embed
from cogs.leaderboard import LeaderboardCog
from tests.daily.world import World, day, local
from tests.doubles.interaction import interaction, only_reply
from tests.engines import ENGINES


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """Units and profiles are stored through the repositories: on both engines."""
    return str(request.param)


GUILD = 1  # the guild of `World.add_challenge`
ALICE, BOB, CAROL = 11, 12, 13
DISTANCE = re.compile(r"(\d[\d,]*\.\d) (km|mi)\b")


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


def _bot(services: Services) -> Any:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return bot


@pytest.fixture
def leaderboard(services: Services) -> LeaderboardCog:
    return LeaderboardCog(_bot(services))


@pytest.fixture
def accounts(services: Services) -> AccountsCog:
    return AccountsCog(_bot(services))


def distances(text: str) -> list[tuple[float, str]]:
    return [(float(number.replace(",", "")), unit) for number, unit in DISTANCE.findall(text)]


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{field.name} {field.value}" for field in embed.fields]
    return "\n".join(parts)


def assert_same_distances(metric: str, imperial: str) -> None:
    """Every distance of the metric text is in km, every one of the imperial text in mi, and
    they are the same distances, one by one."""
    in_km, in_mi = distances(metric), distances(imperial)
    assert in_km and {unit for _, unit in in_km} == {"km"}, metric
    assert {unit for _, unit in in_mi} == {"mi"}, imperial
    assert "km" not in imperial
    assert [round(km / KM_PER_MILE, 1) for km, _ in in_km] == [mi for mi, _ in in_mi]


async def _me(leaderboard: LeaderboardCog, user: int) -> str:
    double = interaction(user, guild_id=GUILD)
    await leaderboard.me.callback(leaderboard, double)
    _, kwargs = only_reply(double)
    return embed_text(kwargs["embed"])


async def _leaderboard(leaderboard: LeaderboardCog, user: int) -> str:
    double = interaction(user, guild_id=GUILD)
    await leaderboard.leaderboard.callback(leaderboard, double, challenge="June Run")
    _, kwargs = only_reply(double)
    return embed_text(kwargs["embed"])


async def test_every_distance_follows_the_servers_units(
    services: Services, world: World, leaderboard: LeaderboardCog
) -> None:
    challenge = await world.add_challenge(name="June Run", metric=Metric.DISTANCE, goal=5.0)
    alice = await world.add_player(challenge, ALICE, "Alice")
    bob = await world.add_player(challenge, BOB, "Bob")
    world.provider.set(alice, day(1), 8.0, metric=Metric.DISTANCE)
    world.provider.set(bob, day(1), 4.0, metric=Metric.DISTANCE)
    world.clock.set(local(day(2), 9))
    await services.daily_run.run_due()
    [metric_post] = world.messenger.posts
    assert metric_post.embed is not None
    metric_views = [
        await _me(leaderboard, ALICE),
        await _leaderboard(leaderboard, ALICE),
        embed_text(challenge_card(challenge, units=Units.METRIC)),
    ]
    metric_page = live_view(await services.standings.current(challenge))

    await services.challenges.update_guild_settings(GUILD, units=Units.IMPERIAL)
    imperial_views = [
        await _me(leaderboard, ALICE),
        await _leaderboard(leaderboard, ALICE),
        embed_text(challenge_card(challenge, units=Units.IMPERIAL)),
    ]
    imperial_page = live_view(await services.standings.current(challenge))
    world.provider.set(alice, day(2), 8.0, metric=Metric.DISTANCE)
    world.clock.set(local(day(3), 9))
    await services.daily_run.run_due()
    imperial_post = world.messenger.posts[-1].embed
    assert imperial_post is not None
    board = await services.standings.current(challenge)
    for metric_text, imperial_text in zip(metric_views, imperial_views, strict=True):
        assert_same_distances(metric_text, imperial_text)
    assert "Alice · 8.0 km ✓ · **8.0 km**" in metric_post.embed.description
    assert "Alice · 5.0 mi ✓ · **9.9 mi**" in imperial_post.description  # 16 km so far
    assert {unit for _, unit in distances(imperial_post.description)} == {"mi"}
    assert "goal 5.0 km/day" in metric_post.embed.description
    assert "goal 3.1 mi/day" in imperial_post.description
    assert "Daily goal: 3.1 mi." in imperial_views[2]
    # The live page and the chart say it the same way.
    assert [row.score for row in metric_page.rows] == ["8.0 km", "4.0 km"]
    assert [row.score for row in imperial_page.rows] == ["5.0 mi", "2.5 mi"]
    assert chart_input(board).label == "Distance (mi)"
    assert chart_input(board).legend[ALICE] == "9.9 mi"


async def test_the_goal_nudge_reads_in_the_servers_units(services: Services, world: World) -> None:
    challenge = await world.add_challenge(name="June Run", metric=Metric.DISTANCE, goal=8.0)
    alice = await world.add_player(challenge, ALICE, "Alice")
    await services.challenges.update_guild_settings(GUILD, units=Units.IMPERIAL)
    await services.nudges.set_member(ALICE, enabled=True)
    world.clock.set(local(day(2), 12))
    world.provider.set(alice, day(2), 4.0, metric=Metric.DISTANCE)
    assert await services.sync.request("fake", alice, reason="webhook") == 1
    world.clock.advance(SETTLE)
    await services.sync.run_due()
    await services.nudges.after_sync(ALICE)
    [nudge] = [dm for dm in world.messenger.dms if dm.user_id == ALICE]
    assert "2.5 mi to today's goal" in nudge.text


async def test_goals_and_caps_are_typed_in_the_servers_units_or_with_a_unit(
    services: Services, world: World
) -> None:
    challenge = await world.add_challenge(name="June Run", metric=Metric.DISTANCE)
    await services.challenges.update_guild_settings(GUILD, units=Units.IMPERIAL)
    edited = await services.challenges.edit(
        GUILD, "June Run", ChallengeEdit(daily_goal="3", daily_cap="20 km")
    )
    assert edited.daily_goal == pytest.approx(3 * KM_PER_MILE)  # a bare number: miles here
    assert edited.daily_cap == 20.0  # stored in km, whatever the server shows
    edited = await services.challenges.edit(GUILD, "June Run", ChallengeEdit(daily_goal="5000 m"))
    assert edited.daily_goal == 5.0
    with pytest.raises(UserError, match="“furlongs” is not a distance unit I know"):
        await services.challenges.edit(GUILD, "June Run", ChallengeEdit(daily_goal="3 furlongs"))
    with pytest.raises(UserError, match=r"between 0\.1 mi and 186\.4 mi"):
        await services.challenges.edit(GUILD, "June Run", ChallengeEdit(daily_goal="500 mi"))
    assert challenge.daily_goal is None


async def test_a_hidden_member_plays_but_is_not_on_show_and_a_nickname_replaces_a_name(
    services: Services, world: World, leaderboard: LeaderboardCog, accounts: AccountsCog
) -> None:
    challenge = await world.add_challenge(name="June Run", goal=8_000)
    alice = await world.add_player(challenge, ALICE, "Alice")
    bob = await world.add_player(challenge, BOB, "Bob")
    carol = await world.add_player(challenge, CAROL, "Carol")
    hide = interaction(BOB, guild_id=GUILD)
    await accounts.privacy_hide.callback(accounts, hide, state="on")
    assert "/me shows your own rank" in only_reply(hide)[0]
    nickname = interaction(CAROL, guild_id=GUILD)
    await accounts.privacy_nickname.callback(accounts, nickname, name="  Speedy   C ")
    assert "**Speedy C**" in only_reply(nickname)[0]
    world.provider.set(bob, day(1), 12_000)
    world.provider.set(alice, day(1), 9_000)
    world.provider.set(carol, day(1), 4_000)
    world.clock.set(local(day(2), 9))
    await services.daily_run.run_due()

    [post] = world.messenger.posts
    assert post.embed is not None
    rows = post.embed.description.splitlines()
    assert "Bob" not in post.embed.description and "Carol" not in post.embed.description
    assert any(row.startswith("`2.` Alice · 9,000 steps ✓") for row in rows)  # true place
    assert any(row.startswith("`3.` Speedy C · 4,000 steps") for row in rows)
    assert not any(row.startswith("`1.`") for row in rows)
    assert "✓ 2 of 3 met the goal" in post.embed.description  # anonymous: Bob counts
    shown = await _leaderboard(leaderboard, ALICE)
    assert "Bob" not in shown and "`2.` Alice" in shown and "Speedy C" in shown
    mine = await _me(leaderboard, BOB)
    assert "Rank **1** of 3" in mine and "/privacy hide" in mine
    board = await services.standings.current(challenge)
    assert [row.name for row in live_view(board).rows] == ["Alice", "Speedy C"]
    assert sorted(chart_input(board).series) == [ALICE, CAROL]
    # A hidden member who passes someone is not named to them.
    assert pass_nudges(board, {BOB: 2, ALICE: 1}, {BOB: 1, ALICE: 2}, BOB, [ALICE]) == []
    [passed] = pass_nudges(board, {CAROL: 2, ALICE: 1}, {CAROL: 1, ALICE: 2}, CAROL, [ALICE])
    assert "**Speedy C** just passed you" in passed.text
    export = json.loads((await services.privacy.export(BOB)).data)
    assert export["tables"]["member_profiles"][0]["hidden"] == 1


async def test_showing_again_and_clearing_the_nickname(
    services: Services, accounts: AccountsCog
) -> None:
    await services.privacy.set_nickname(GUILD, CAROL, "Speedy C")
    await services.privacy.set_hidden(GUILD, CAROL, hidden=True)
    show = interaction(CAROL, guild_id=GUILD)
    await accounts.privacy_hide.callback(accounts, show, state="off")
    assert "shown again" in only_reply(show)[0]
    clear = interaction(CAROL, guild_id=GUILD)
    await accounts.privacy_nickname.callback(accounts, clear, name=None)
    assert "display name again" in only_reply(clear)[0]
    profile = await services.privacy.profile(GUILD, CAROL)
    assert (profile.nickname, profile.hidden) == (None, False)
    assert await services.privacy.hidden_in(GUILD) == frozenset()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("@everyone", "cannot contain @"),
        ("<@123456>", "cannot contain @"),
        ("see https://evil.example", "or a link"),
        ("x", "at least 2 visible characters"),
        ("\u200b\u200b\n", "at least 2 visible characters"),
        ("W" * 33, "at most 32 characters"),
    ],
)
async def test_a_nickname_that_could_mislead_is_refused(
    accounts: AccountsCog, services: Services, name: str, problem: str
) -> None:
    with pytest.raises(UserError, match=re.escape(problem)):
        await accounts.privacy_nickname.callback(
            accounts, interaction(CAROL, guild_id=GUILD), name=name
        )
    assert (await services.privacy.profile(GUILD, CAROL)).nickname is None


async def test_nickname_and_hiding_are_per_server_so_not_in_dms(accounts: AccountsCog) -> None:
    with pytest.raises(UserError, match="run /privacy hide in the server"):
        await accounts.privacy_hide.callback(
            accounts, interaction(CAROL, guild_id=None), state="on"
        )


async def test_the_challenge_card_counts_hidden_members_without_naming_them(
    services: Services, world: World
) -> None:
    challenge = await world.add_challenge(name="June Run")
    for member in (ALICE, BOB, CAROL):
        await world.add_player(challenge, member)
    await services.privacy.set_hidden(GUILD, BOB, hidden=True)
    participants = await services.challenges.participants(challenge.id)
    card = info_embed(
        challenge,
        participants,
        day(1),
        units=Units.METRIC,
        hidden=await services.privacy.hidden_in(GUILD),
    )
    who = {field.name: field.value for field in card.fields}["Who is in"]
    assert who.splitlines() == [f"<@{ALICE}>", f"<@{CAROL}>", "1 member not shown (/privacy hide)"]
    assert {field.name: field.value for field in card.fields}["Players"] == "3"
    assert "everyone keeps their true place" in (card.footer.text or "")
