"""`/challenge edit`, `end`, `delete` and `kick`."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.errors import UserError
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from cogs.challenges._views import ConfirmDeleteChallenge
from tests.challenges.fakes import ALICE, AUCKLAND, BOB, CHANNEL, START, link_account
from tests.cogs.challenges.world import (
    LEADERBOARD,
    Discord,
    choice,
    create,
    embed_text,
    stored_challenges,
)
from tests.doubles.interaction import member, only_reply, text_channel


async def test_edit_checks_the_new_channel_and_replies_with_the_card(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    locked = text_channel(world.guild, LEADERBOARD, discord.Permissions(view_channel=True))
    with pytest.raises(UserError, match="I need Send Messages, Embed Links, Attach Files"):
        await cog.edit.callback(cog, world.interaction(), challenge="Spring Steps", channel=locked)

    double = world.interaction()
    await cog.edit.callback(
        cog, double, challenge="Spring Steps", name="Long Walk", daily_goal=12_000.0,
        manual_entries=choice("allow"),
    )  # fmt: skip

    text, kwargs = only_reply(double)
    assert text == "Updated **Long Walk**."
    assert kwargs["ephemeral"] is True
    assert "12,000 steps" in embed_text(kwargs["embed"])
    [stored] = await services.challenges.active_challenges()
    assert (stored.name, stored.daily_goal, stored.allow_manual, stored.channel_id) == (
        "Long Walk", 12_000, True, CHANNEL,
    )  # fmt: skip


async def test_end_defers_then_confirms_and_stores_yesterday_as_the_last_day(
    cog: ChallengeAdminCog, world: Discord, services: Services, clock: FakeClock
) -> None:
    await create(cog, world, preset=choice("streak"), time_zone=AUCKLAND, post_time=dt.time(7))
    clock.set(dt.datetime(2024, 5, 9, 13, tzinfo=dt.UTC))  # Friday 10 May in Auckland
    ended: list[int] = []

    async def on_ended(challenge_id: int) -> None:
        ended.append(challenge_id)

    services.events.on("challenge_ended", on_ended)
    double = world.interaction()

    await cog.end.callback(cog, double, challenge="Spring Steps")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text, kwargs = only_reply(double)
    assert text == (
        "Ended **Spring Steps**: its last day is Thu 09 May 2024. The results will be posted "
        f"in <#{CHANNEL}>."
    )  # the last day played in full: what the results post covers
    assert kwargs["ephemeral"] is True
    challenge = await services.challenges.get(1)
    assert challenge is not None and challenge.end == dt.date(2024, 5, 9)
    assert ended == [1]


async def test_delete_asks_first_and_only_the_asker_can_confirm(
    cog: ChallengeAdminCog, world: Discord, services: Services, db: Database
) -> None:
    await create(cog, world, preset=choice("streak"))
    double = world.interaction()
    await cog.delete.callback(cog, double, challenge="Spring Steps")
    text, kwargs = only_reply(double)
    assert text.startswith("Delete **Spring Steps** with its 0 player(s)")
    view = kwargs["view"]
    assert isinstance(view, ConfirmDeleteChallenge) and kwargs["ephemeral"] is True

    intruder = world.interaction(ALICE)
    assert await view.interaction_check(intruder) is False
    intruder.response.send_message.assert_awaited_once_with(
        "Only the admin who asked can press this.", ephemeral=True
    )

    cancel_press = world.interaction()
    await view.cancel.callback(cancel_press)
    cancel_press.response.edit_message.assert_awaited_once_with(
        content="Nothing was deleted.", view=None
    )
    assert await stored_challenges(db) == 1

    again = world.interaction()
    await cog.delete.callback(cog, again, challenge="spring steps")
    confirm_view = only_reply(again)[1]["view"]
    press = world.interaction()
    assert await confirm_view.interaction_check(press)
    await confirm_view.confirm.callback(press)
    press.response.edit_message.assert_awaited_once_with(
        content="Deleted “Spring Steps” with its players and scores.", view=None
    )
    assert await stored_challenges(db) == 0


async def test_kick_removes_the_player(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
) -> None:
    await create(cog, world, preset=choice("streak"))
    await link_account(db, cipher, BOB, START)
    await players.join.callback(players, world.interaction(BOB), challenge=None)
    double = world.interaction()
    await cog.kick.callback(cog, double, challenge="Spring Steps", member=member(BOB))
    text, _ = only_reply(double)
    assert text.startswith(f"Removed <@{BOB}> from **Spring Steps**")
    assert await services.challenges.participants(1) == []
    with pytest.raises(UserError, match="That member is not in “Spring Steps”"):
        await cog.kick.callback(
            cog, world.interaction(), challenge="Spring Steps", member=member(BOB)
        )
