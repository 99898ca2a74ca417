"""`/challenge adjust` and `/challenge recap` as Discord calls them, and the corrections on
`/challenge info`."""

from __future__ import annotations

import datetime as dt

import pytest
from discord import app_commands

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric
from bot.errors import UserError
from bot.services import Services
from bot.storage import Database
from bot.storage.recaps import DailyPosts, RecapSettings
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from tests.challenges.fakes import ADMIN, ALICE, BOB, START, add_values, link_account
from tests.cogs.challenges.world import Discord, choice, create, embed_text, run_checks
from tests.doubles.interaction import member, only_reply
from tests.engines import ENGINES


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """/challenge adjust|recap|info store and read through the repositories: on both engines."""
    return str(request.param)


D = dt.date
NAME = "Spring Steps"


async def _spring_steps_with_alice(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    """A 15-day total challenge from Mon 6 May (UTC) that Alice plays, 7,000 steps on 7 May."""
    await create(
        cog, world, scoring=choice("total"), start_date=D(2024, 5, 6), end_date=D(2024, 5, 20)
    )
    await link_account(db, cipher, ALICE, START, "Alice")
    await players.join.callback(
        players, world.interaction(ALICE, manage_guild=False), challenge=NAME
    )
    await add_values(db, ALICE, Metric.STEPS, {D(2024, 5, 7): 7_000}, START)


async def test_an_admin_corrects_a_day_and_info_shows_it(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    db: Database,
    cipher: TokenCipher,
    clock: FakeClock,
    services: Services,
) -> None:
    await _spring_steps_with_alice(cog, players, world, db, cipher)
    clock.set(dt.datetime(2024, 5, 8, 12, tzinfo=dt.UTC))
    double = world.interaction()

    await cog.adjust.callback(
        cog, double, challenge=NAME, member=member(ALICE), day=D(2024, 5, 7), value="9000",
        reason="the watch was charging",
    )  # fmt: skip

    text, options = only_reply(double)
    assert options["ephemeral"] is True
    # No Discord client is connected here, so the DM cannot go out: the admin is told.
    assert text == (
        f"Corrected <@{ALICE}>'s Tue 07 May 2024 in **Spring Steps**: 7,000 steps → 9,000 "
        "steps. The standings are rescored, and the next post marks it with †. Stride could "
        "not reach them by DM (closed DMs?): tell them yourself."
    )
    info = world.interaction()
    await cog.info.callback(cog, info, challenge=NAME)
    _text, shown = only_reply(info)
    card = embed_text(shown["embed"])
    assert (
        f"Corrections by admins †: <@{ALICE}> · Tue 07 May: 7,000 steps → 9,000 steps · by "
        f"<@{ADMIN}> on 08 May · “the watch was charging”"
    ) in card
    [board] = [s.board for s in await services.standings.summaries_for(ALICE)]
    assert board.standings.player(ALICE).score == 9_000


async def test_adjust_needs_an_admin_and_refuses_a_non_player(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    await _spring_steps_with_alice(cog, players, world, db, cipher)
    command = cog.challenge.get_command("adjust")
    with pytest.raises(Exception, match="Manage Server"):
        await run_checks(command, world.interaction(BOB, manage_guild=False))
    with pytest.raises(UserError, match=f"<@{BOB}> is not playing in “Spring Steps”"):
        await cog.adjust.callback(
            cog, world.interaction(), challenge=NAME, member=member(BOB), day=D(2024, 5, 6),
            value="1000", reason="why not",
        )  # fmt: skip


async def test_the_recap_day_and_weekly_only(
    cog: ChallengeAdminCog, players: PlayerCog, world: Discord, db: Database, cipher: TokenCipher,
    services: Services,
) -> None:  # fmt: skip
    await _spring_steps_with_alice(cog, players, world, db, cipher)
    double = world.interaction()

    await cog.recap.callback(
        cog,
        double,
        challenge=NAME,
        day=app_commands.Choice(name="Friday", value=4),
        posts=choice(DailyPosts.WEEKLY_ONLY.value),
    )

    text, options = only_reply(double)
    assert options["ephemeral"] is True
    assert text == (
        "**Spring Steps**: the weekly recap is posted on Fridays, after that day's post; its "
        "days are no longer posted one by one (they are still scored every day, and the "
        "results post still comes)."
    )
    [challenge] = await services.challenges.active_challenges()
    assert await services.recaps.settings(challenge.id) == RecapSettings(4, DailyPosts.WEEKLY_ONLY)
    info = world.interaction()
    await cog.info.callback(cog, info, challenge=NAME)
    assert "Weekly recap: Fridays; the days are not posted one by one (weekly only)" in embed_text(
        only_reply(info)[1]["embed"]
    )

    again = world.interaction()
    await cog.recap.callback(cog, again, challenge=NAME, day=None, posts=choice("daily"))
    assert "on Fridays, after that day's post; every day is posted too." in only_reply(again)[0]
