"""ValuesRepo's baselines: kept as the first fetch gave them, only for players still in the
challenge, gone with the player; and the latest frozen day of each challenge."""

from __future__ import annotations

import datetime as dt

from bot.crypto import TokenCipher
from bot.storage import Database
from bot.storage.values import BaselineRow, ScoreRow, ValuesRepo
from tests.daily.world import World, day

NOW = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)


async def test_a_baseline_is_kept_as_its_first_fetch_gave_it(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    await world.add_player(challenge, 2, "Bob")
    await world.add_player(challenge, 3, "Carol", joined=False)
    repo = ValuesRepo(db)
    assert await repo.players_without_baseline(challenge.id) == {1, 2}

    first = [BaselineRow(challenge.id, 1, 5_000), BaselineRow(challenge.id, 2, None)]
    await repo.store_fetched([], [], NOW, [*first, BaselineRow(challenge.id, 3, 7_000)])
    await repo.store_fetched([], [], NOW, [BaselineRow(challenge.id, 1, 9_000)])

    assert await repo.baselines(challenge.id) == {1: 5_000}  # Bob's fortnight had no data
    assert await repo.players_without_baseline(challenge.id) == set()
    rows = await db.fetch_all("SELECT discord_id FROM participant_baselines")
    assert sorted(row["discord_id"] for row in rows) == [1, 2]  # Carol is not playing


async def test_leaving_drops_the_baseline_and_joining_again_fetches_it_afresh(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher)
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    repo = ValuesRepo(db)
    await repo.store_fetched([], [], NOW, [BaselineRow(challenge.id, 1, 5_000)])

    await world.players.remove(challenge.id, 1)
    await world.players.add(challenge.id, 1, day(3), NOW)

    assert await repo.baselines(challenge.id) == {}
    assert await repo.players_without_baseline(challenge.id) == {1}


async def test_the_last_final_day_of_each_challenge(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher)
    first = await world.add_challenge(name="One")
    second = await world.add_challenge(name="Two")
    await world.add_challenge(name="Three")
    for challenge in (first, second):
        await world.add_player(challenge, 1, "Alice")
    repo = ValuesRepo(db)
    await repo.save_scores(
        first.id,
        [ScoreRow(1, day(n), 1_000, 1_000, False, final=n < 3) for n in (1, 2, 3)],
    )
    await repo.save_scores(second.id, [ScoreRow(1, day(1), 1_000, 1_000, False, final=False)])

    assert await repo.last_final_days() == {first.id: day(2)}
