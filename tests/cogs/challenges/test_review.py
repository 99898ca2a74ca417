"""`/challenge review`: walking an admin through flagged values."""

from __future__ import annotations

import datetime as dt

from bot.crypto import TokenCipher
from bot.fair_play import ReviewStatus
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from cogs.challenges._views import ReviewView
from tests.challenges.fakes import ADMIN, ALICE, BOB, GUILD, START, link_account
from tests.cogs.challenges.world import Discord, choice, create
from tests.doubles.interaction import only_reply


async def test_review_walks_through_flags_with_exclude_and_accept(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
) -> None:
    await create(cog, world, preset=choice("streak"), post_time=dt.time(7))
    for user in (ALICE, BOB):
        await link_account(db, cipher, user, START)
        await players.join.callback(players, world.interaction(user), challenge=None)
    day = dt.date(2024, 5, 7)
    flags = await services.challenges.review_new_values(
        1, [(ALICE, "steps", day, 150_000.0), (BOB, "steps", day, 120_000.0)]
    )
    assert len(flags) == 2
    double = world.interaction()

    await cog.review.callback(cog, double, challenge="Spring Steps")

    text, kwargs = only_reply(double)
    assert text.startswith(f"Flag 1 of 2: <@{ALICE}> on Tue 07 May 2024: 150,000 steps.")
    assert "above the ceiling of 100,000 steps a day" in text
    view = kwargs["view"]
    assert isinstance(view, ReviewView)
    first = world.interaction()
    await view.exclude.callback(first)
    assert first.response.edit_message.await_args.kwargs["content"].startswith("Flag 2 of 2")
    second = world.interaction()
    await view.accept.callback(second)
    second.response.edit_message.assert_awaited_once_with(
        content="All flags are reviewed.", view=None
    )
    assert await services.challenges.excluded_days(1) == {(ALICE, day)}
    decided = await db.fetch_all("SELECT discord_id, status, reviewed_by FROM value_reviews")
    assert {(r["discord_id"], r["status"], r["reviewed_by"]) for r in decided} == {
        (ALICE, ReviewStatus.EXCLUDED.value, ADMIN), (BOB, ReviewStatus.ACCEPTED.value, ADMIN),
    }  # fmt: skip

    nothing = world.interaction()
    await cog.review.callback(cog, nothing, challenge="Spring Steps")
    assert only_reply(nothing)[0] == "No values of **Spring Steps** are waiting for review."


async def test_review_of_a_challenge_deleted_meanwhile_says_so(
    cog: ChallengeAdminCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("streak"), post_time=dt.time(7))
    await link_account(db, cipher, ALICE, START)
    await services.challenges.join(GUILD, None, ALICE, None)
    await services.challenges.review_new_values(
        1, [(ALICE, "steps", dt.date(2024, 5, 7), 150_000.0)]
    )
    double = world.interaction()
    await cog.review.callback(cog, double, challenge="Spring Steps")
    view = only_reply(double)[1]["view"]
    await services.challenges.delete(GUILD, 1)

    press = world.interaction()
    await view.exclude.callback(press)

    press.response.edit_message.assert_awaited_once_with(
        content="That flag no longer exists.", view=None
    )
