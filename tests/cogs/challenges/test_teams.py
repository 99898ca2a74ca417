"""`/challenge team auto|rename|assign`."""

from __future__ import annotations

import datetime as dt

from bot.crypto import TokenCipher
from bot.domain import Metric
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from tests.challenges.fakes import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    START,
    add_values,
    days_before,
    link_account,
)
from tests.cogs.challenges.world import Discord, choice, create
from tests.doubles.interaction import member, only_reply


async def test_team_auto_balances_and_shows_the_teams(
    cog: ChallengeAdminCog,
    players: PlayerCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
) -> None:
    await create(cog, world, preset=choice("streak"))
    for user, average in ((ALICE, 15_000), (BOB, 11_000), (CAROL, 9_000), (DAVE, 4_000)):
        await link_account(db, cipher, user, START)
        await players.join.callback(players, world.interaction(user), challenge=None)
        await add_values(
            db, user, Metric.STEPS, dict.fromkeys(days_before(dt.date(2024, 5, 5), 7), average),
            START,
        )  # fmt: skip
    double = world.interaction()

    await cog.team_auto.callback(cog, double, challenge="Spring Steps", teams=2)

    _, kwargs = only_reply(double)
    embed = kwargs["embed"]
    assert [field.name for field in embed.fields] == ["Red", "Blue"]
    assert f"<@{ALICE}> · 15,000 steps/day" in embed.fields[0].value
    teams = {p.discord_id: p.team for p in await services.challenges.participants(1)}
    assert teams == {ALICE: "Red", DAVE: "Red", BOB: "Blue", CAROL: "Blue"}  # 19,000 vs 20,000

    rename = world.interaction()
    await cog.team_rename.callback(cog, rename, challenge="Spring Steps", team="red",
                                   new_name="Sprinters")  # fmt: skip
    assert only_reply(rename)[0].startswith("Renamed the team to **Sprinters**")
    assign = world.interaction()
    await cog.team_assign.callback(cog, assign, challenge="Spring Steps", member=member(CAROL),
                                   team="sprinters")  # fmt: skip
    assert only_reply(assign)[0] == f"<@{CAROL}> is in team **Sprinters** of **Spring Steps**."


async def test_team_auto_with_many_players_fits_in_one_embed(
    cog: ChallengeAdminCog, world: Discord, services: Services, db: Database
) -> None:
    await create(cog, world, preset=choice("streak"))
    players = [950_000_000_000_000_000 + n for n in range(300)]
    await db.execute_many(
        "INSERT INTO users (discord_id, created_at) VALUES (?, ?)",
        [(player, START.isoformat()) for player in players],
    )
    await db.execute_many(
        "INSERT INTO participants (challenge_id, discord_id, joined_on, joined_at) "
        "VALUES (1, ?, '2024-05-06', ?)",
        [(player, START.isoformat()) for player in players],
    )
    double = world.interaction()

    await cog.team_auto.callback(cog, double, challenge="Spring Steps", teams=10)

    embed = only_reply(double)[1]["embed"]
    assert len(embed.fields) == 10
    assert len(embed) <= 6000  # Discord refuses a larger embed, after the teams were saved
    assert all(field.value.endswith(" more") for field in embed.fields)
    teams = {p.team for p in await services.challenges.participants(1)}
    assert len(teams) == 10
