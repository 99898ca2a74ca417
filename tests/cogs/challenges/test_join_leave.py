"""`/join` and `/leave`, and what a late joiner is told."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.errors import UserError
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from tests.challenges.fakes import ALICE, LOS_ANGELES, START, link_account
from tests.cogs.challenges.world import Discord, choice, create, embed_text
from tests.doubles.interaction import only_reply


async def test_join_without_a_linked_account_says_how_to_link(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database
) -> None:
    await create(cog, world, preset=choice("daily_showdown"))
    with pytest.raises(UserError) as caught:
        await players.join.callback(
            players, world.interaction(ALICE, manage_guild=False), challenge=None
        )
    assert str(caught.value) == (
        "Link a fitness account first: run /link, connect your tracker, then /join again."
    )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0


async def test_join_and_leave(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
) -> None:
    await create(cog, world, preset=choice("workweek_hustle"), time_zone=LOS_ANGELES)
    await link_account(db, cipher, ALICE, START)
    joining = world.interaction(ALICE, manage_guild=False, name="Alice")

    await players.join.callback(players, joining, challenge="spring steps")

    text, kwargs = only_reply(joining)
    assert text == "You are in **Spring Steps**! It starts on Mon 06 May."
    assert kwargs["ephemeral"] is True
    assert "Players: 1" in embed_text(kwargs["embed"])
    [player] = await services.challenges.participants(1)
    assert (player.discord_id, player.display_name, player.joined_on) == (
        ALICE, "Alice", dt.date(2024, 5, 6),
    )  # fmt: skip

    leaving = world.interaction(ALICE, manage_guild=False)
    await players.leave.callback(players, leaving, challenge=None)
    text, kwargs = only_reply(leaving)
    assert text == "You left **Spring Steps**; your scores in it are gone."
    assert await services.challenges.participants(1) == []


async def test_a_late_joiner_is_told_from_when_they_count(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    db: Database,
    cipher: TokenCipher,
    clock: FakeClock,
) -> None:
    await create(cog, world, preset=choice("workweek_hustle"), time_zone=LOS_ANGELES)
    await link_account(db, cipher, ALICE, START)
    clock.set(dt.datetime(2024, 5, 8, 18, tzinfo=dt.UTC))  # Wednesday in Los Angeles
    joining = world.interaction(ALICE, manage_guild=False)
    await players.join.callback(players, joining, challenge=None)
    text, _ = only_reply(joining)
    assert "You joined late: your days count from today, Wed 08 May." in text
