"""Competition ranks and rank changes between posts."""

from __future__ import annotations

from bot.scoring import compute_standings, rank_changes, ranks_of
from tests.scoring.builders import ALICE, BOB, CAROL, DAN, day, ranks, rules, steps


def test_ties_share_a_rank_and_the_next_rank_is_skipped() -> None:
    values = {
        ALICE: [steps(0, 10_000)],
        BOB: [steps(0, 8000)],
        CAROL: [steps(0, 8000)],
        DAN: [steps(0, 5000)],
    }
    standings = compute_standings(rules(), values, through=day(0))
    assert ranks(standings) == {ALICE: 1, BOB: 2, CAROL: 2, DAN: 4}
    # Display order of tied players is stable (by id here; renderers re-sort by name).
    assert [p.player_id for p in standings.players] == [ALICE, BOB, CAROL, DAN]


def test_rank_changes_up_down_same_and_new() -> None:
    values = {ALICE: [steps(0, 3)], BOB: [steps(0, 2)], CAROL: [steps(0, 1)], DAN: [steps(0, 4)]}
    current = compute_standings(rules(), values, through=day(0))
    # Now: Dan 1 (new), Alice 2, Bob 3, Carol 4.
    changes = rank_changes({ALICE: 3, BOB: 2, CAROL: 4}, current)
    assert changes == {DAN: None, ALICE: 1, BOB: -1, CAROL: 0}
    assert rank_changes(ranks_of(current), current) == dict.fromkeys(ranks_of(current), 0)
