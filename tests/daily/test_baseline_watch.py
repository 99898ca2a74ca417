"""Baselines worked out while the fetch goes on (`bot.daily.baselines.BaselineWatch`): a
player's baseline comes from all of their accounts' answers (never from the first one alone),
the fortnight behind it is let go once it is worked out, and a player whose other account
another process fetches is left to the end."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.daily.baselines import BaselineWatch
from bot.domain import DailyValue, Metric, ScoringMode
from bot.storage.values import BaselineRow
from tests.daily.test_collect import fetched_fortnight
from tests.daily.world import JUNE_1, World, day, local

FORTNIGHT = [JUNE_1 - dt.timedelta(days=n) for n in range(1, 15)]


def _steps(value: float, *, today: float | None = None) -> tuple[DailyValue, ...]:
    values = tuple(DailyValue(Metric.STEPS, d, value) for d in FORTNIGHT)
    return values + ((DailyValue(Metric.STEPS, day(1), today),) if today is not None else ())


async def test_a_baseline_is_worked_out_once_all_of_a_players_answers_are_in(
    world: World,
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    alice = fetched_fortnight(1, _steps(4_000, today=7_000))
    # Bob has two accounts: a watch that only counts half his steps, and his phone's.
    bob_watch = fetched_fortnight(2, _steps(1_000))
    bob_phone = dataclasses.replace(
        fetched_fortnight(2, _steps(8_000)),
        job=dataclasses.replace(
            bob_watch.job, account=dataclasses.replace(bob_watch.job.account, id=20)
        ),
    )
    carol = fetched_fortnight(3, _steps(5_000))  # her other account is another process's
    carol_elsewhere = dataclasses.replace(
        carol.job, account=dataclasses.replace(carol.job.account, id=30)
    )
    watch = BaselineWatch(
        targets=[(challenge, frozenset({1, 2, 3}))],
        rules=world.challenges.rules,
        providers={"fake": world.provider},
        sent={challenge.id: {}},
        jobs=[alice.job, bob_watch.job, bob_phone.job, carol.job, carol_elsewhere],
        keep=(day(1), day(7)),
    )

    kept = watch.take(alice)
    assert kept.values == (DailyValue(Metric.STEPS, day(1), 7_000),)  # the fortnight let go
    assert watch.take_rows() == [BaselineRow(challenge.id, 1, 4_000)]

    assert watch.take(bob_watch) is bob_watch  # kept whole: his phone's answer is to come
    assert watch.take_rows() == []
    assert watch.take(bob_phone).values == ()
    [row] = watch.take_rows()
    assert row.key == (challenge.id, 2) and row.value == 8_000  # the higher of each day

    assert watch.take(carol) is carol
    assert watch.take_rows() == [] and watch.done == {1, 2}


async def test_a_first_day_run_keeps_every_baseline_and_the_days_it_scores(
    world: World,
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    for player, usual in ((1, 4_000), (2, 10_000)):
        user = await world.add_player(challenge, player, f"P{player}")
        for when in FORTNIGHT:
            world.provider.set(user, when, usual)
        world.provider.set(user, day(1), usual * 1.5)

    await world.run_at(local(day(2), 9))

    rows = await world.db.fetch_all(
        "SELECT discord_id, value FROM participant_baselines ORDER BY discord_id"
    )
    assert [tuple(row) for row in rows] == [(1, 4_000.0), (2, 10_000.0)]
    stored = await world.db.fetch_value("SELECT COUNT(*) FROM daily_values")
    assert stored == 2 * 15  # the fortnight is stored even though the run let it go
    [post] = world.messenger.posts
    assert "+50" in post.embed.description  # both improved by half on their usual day
