"""Autocomplete of challenges, teams and time zones: at most 25 choices from one query."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.services import Services
from bot.storage import Database
from cogs._autocomplete import active_challenge_names, challenge_names, team_names, time_zones
from cogs.challenges._admin_cog import ChallengeAdminCog
from tests.challenges.fakes import ADMIN, ALICE, AUCKLAND, BOB, CHANNEL, GUILD, START, link_account
from tests.cogs.challenges.world import Discord, choice, create


async def test_challenge_autocomplete_returns_at_most_25(
    world: Discord, services: Services, db: Database
) -> None:
    for number in range(30):
        await db.execute(
            "INSERT INTO challenges (guild_id, channel_id, name, name_key, metric, scoring_mode, "
            "start_date, end_date, time_zone, post_time, status, created_by, created_at) "
            "VALUES (?, ?, ?, ?, 'steps', 'total', '2024-01-01', '2024-01-07', 'UTC', '09:00', "
            "'ended', ?, ?)",
            (
                GUILD,
                CHANNEL,
                f"January {number:02d}",
                f"january {number:02d}",  # bot.storage.names.name_key
                ADMIN,
                START.isoformat(),
            ),
        )
    choices = await challenge_names(world.interaction(), "jan")
    assert len(choices) == 25
    assert all(c.name == c.value and c.name.startswith("January") for c in choices)
    assert [c.value for c in await challenge_names(world.interaction(), "ary 2")] == [
        f"January {n}" for n in range(20, 30)
    ]


async def test_time_zone_autocomplete_returns_at_most_25(world: Discord) -> None:
    for text in ("", "a", "Europe", "pacific/auck"):
        choices = await time_zones(world.interaction(), text)
        assert 0 < len(choices) <= 25
    assert [c.value for c in await time_zones(world.interaction(), "pacific/auck")] == [AUCKLAND]


async def test_active_and_team_autocomplete(
    cog: ChallengeAdminCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
    clock: FakeClock,
) -> None:
    await create(cog, world, preset=choice("streak"))
    await create(cog, world, name="Spring Sprint", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    clock.advance(dt.timedelta(days=1))  # its first day is over: it can be ended
    await services.challenges.end(GUILD, "Spring Sprint")
    for user, team in ((ALICE, "Lions"), (BOB, "Tigers")):
        await link_account(db, cipher, user, START)
        await services.challenges.join(GUILD, "Spring Steps", user, None)
        await services.challenges.assign_team(GUILD, "Spring Steps", user, team)

    # Prefix matches first, then challenges that have not ended:
    assert [c.value for c in await challenge_names(world.interaction(), "spr")] == [
        "Spring Steps",
        "Spring Sprint",
    ]
    assert [c.value for c in await active_challenge_names(world.interaction(), "spr")] == [
        "Spring Steps"
    ]
    asking = world.interaction()
    asking.namespace = SimpleNamespace(challenge="Spring Steps")
    assert [c.value for c in await team_names(asking, "")] == ["Lions", "Tigers"]
    assert [c.value for c in await team_names(asking, "tig")] == ["Tigers"]
    assert [c.value for c in await team_names(asking, "LI")] == ["Lions"]
    assert await team_names(asking, "%") == []  # typed text, not a pattern
    asking.namespace = SimpleNamespace(challenge="No such thing")
    assert await team_names(asking, "") == []
