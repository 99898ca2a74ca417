"""The terminal table of `stride demo`."""

from __future__ import annotations

from bot.domain import Units
from bot.render.table import render_text_table
from bot.scoring import compute_standings
from tests.render.samples import (
    ALICE,
    BOB,
    CAROL,
    EVE,
    NAMES,
    day,
    goal_rules,
    sample_standings,
    steps,
)


def test_text_table_is_fixed_width_and_deterministic() -> None:
    names = {**NAMES, EVE: "Evelyn-Alexandra Montgomery-Smythe"}
    standings = sample_standings(teams={ALICE: "Red", BOB: "Red", CAROL: "Blue"})
    table = render_text_table(
        standings, names, units=Units.METRIC, day=day(2), previous_ranks={ALICE: 1, BOB: 1}
    )
    assert table == render_text_table(
        standings, names, units=Units.METRIC, day=day(2), previous_ranks={ALICE: 1, BOB: 1}
    )
    assert table == (
        "   #  Name                           Wed 4 Jun               Score  Change  Streak\n"
        "----  --------------------  ------------------  ------------------  ------  ------\n"
        "  1.  Alice                     13,000 steps ✓        36,000 steps       =       3\n"
        "  1.  Carol                     13,000 steps ✓        36,000 steps     new       3\n"
        "  3.  Bob                          8,000 steps        32,000 steps      -2\n"
        "  4.  Evelyn-Alexandra Mo…                   -         3,000 steps     new\n"
        "  5.  Dan                                    -         no data yet     new\n"
        "\n"
        "   #  Team                               Score  Syncing\n"
        "----  --------------------  ------------------  -------\n"
        "  1.  Red                         68,000 steps      2/2\n"
        "  2.  Blue                        36,000 steps      1/1\n"
    )


def test_text_table_aligns_wide_characters() -> None:
    standings = compute_standings(
        goal_rules(), {ALICE: [steps(0, 5)], BOB: [steps(0, 4)]}, through=day(0)
    )
    table = render_text_table(standings, {ALICE: "山田太郎", BOB: "Bob"}, units=Units.METRIC)
    alice, bob = table.splitlines()[2:4]
    # "山田太郎" takes 8 terminal columns, so both score columns end at the same place.
    assert len(alice) + 4 == len(bob)
    assert "(prov.)" not in table
