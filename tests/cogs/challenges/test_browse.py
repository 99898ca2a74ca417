"""`/challenge list`, `/challenge info` and the players' `/challenges`."""

from __future__ import annotations

import datetime as dt

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from tests.challenges.fakes import ALICE, GUILD, START, link_account
from tests.cogs.challenges.world import Discord, choice, create, embed_text
from tests.doubles.interaction import only_reply


async def test_list_and_info(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, name="Now", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    await create(cog, world, name="Later", preset=choice("weekend_warrior"))
    await link_account(db, cipher, ALICE, START)
    await players.join.callback(players, world.interaction(ALICE), challenge="Now")

    listing = world.interaction(ALICE, manage_guild=False)
    await cog.list_.callback(cog, listing)
    _, kwargs = only_reply(listing)
    text = embed_text(kwargs["embed"])
    assert "Running: **Now** · 05 May to 09 May 2024 · Steps · Total · 1 player" in text
    assert "Upcoming: **Later** · 11 May to 12 May 2024 · Weekend Warrior" in text
    assert "Past: None." in text

    info = world.interaction()
    await cog.info.callback(cog, info, challenge="now")
    _, kwargs = only_reply(info)
    text = embed_text(kwargs["embed"])
    assert "Status: Running: day 1 of 5." in text
    assert "Most steps in total wins." in text
    assert f"Who is in: <@{ALICE}>" in text


async def test_info_tells_a_challenge_that_ran_its_course_from_one_ended_early(
    cog: ChallengeAdminCog, world: Discord, services: Services, clock: FakeClock
) -> None:
    await create(cog, world, name="Full", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 6))  # fmt: skip
    await create(cog, world, name="Cut", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    clock.set(dt.datetime(2024, 5, 8, 12, tzinfo=dt.UTC))
    await services.challenges.finish(1)  # as the daily run does after the results post
    await services.challenges.end(GUILD, "Cut")

    statuses = []
    for name in ("Full", "Cut"):
        info = world.interaction()
        await cog.info.callback(cog, info, challenge=name)
        embed = only_reply(info)[1]["embed"]
        statuses.append(embed.fields[0].value)
    assert statuses == ["Over.", "Ended early."]


async def test_players_browse_challenges_with_a_public_command(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, name="Now", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    command = players.challenges_public
    assert command.default_permissions is None  # visible to every member
    assert command.guild_only

    listing = world.interaction(ALICE, manage_guild=False)
    await command.callback(players, listing, challenge=None)
    assert "Running: **Now**" in embed_text(only_reply(listing)[1]["embed"])

    info = world.interaction(ALICE, manage_guild=False)
    await command.callback(players, info, challenge="now")
    assert "Most steps in total wins." in embed_text(only_reply(info)[1]["embed"])
