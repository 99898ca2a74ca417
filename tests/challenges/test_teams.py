"""`balance_teams`: balanced teams from players' recent averages."""

from __future__ import annotations

import pytest

from bot.challenges.teams import balance_teams


def test_balance_teams_beats_plain_alternation() -> None:
    strengths = {1: 10.0, 2: 9.0, 3: 8.0, 4: 7.0, 5: 6.0, 6: 5.0}
    teams = balance_teams(strengths, ["Red", "Blue"])
    totals = {
        name: sum(strengths[p] for p, t in teams.items() if t == name) for name in ("Red", "Blue")
    }
    assert sorted(totals.values()) == [22.0, 23.0]  # alternating picks would give 21 vs 24


@pytest.mark.parametrize("count", [2, 3, 4])
def test_balanced_teams_have_equal_sizes_and_close_totals(count: int) -> None:
    strengths: dict[int, float | None] = {
        player: float(value)
        for player, value in enumerate([15_000, 12_500, 11_000, 9_000, 8_800, 7_000, 6_500,
                                        4_000, 3_000, 2_500, 2_000, 1_000])
    }  # fmt: skip
    names = ["Red", "Blue", "Green", "Gold"][:count]
    teams = balance_teams(strengths, names)
    assert set(teams) == set(strengths)
    sizes = [sum(1 for t in teams.values() if t == name) for name in names]
    totals = [sum(strengths[p] or 0 for p, t in teams.items() if t == name) for name in names]
    assert max(sizes) - min(sizes) <= 1
    assert max(totals) - min(totals) <= max(v or 0 for v in strengths.values())


def test_a_player_without_data_counts_as_a_typical_player_not_an_idle_one() -> None:
    strengths: dict[int, float | None] = {1: 10.0, 2: 8.0, 3: 6.0, 4: None}
    teams = balance_teams(strengths, ["Red", "Blue"])
    # As the median (8) player 4 joins 2 against 1 + 3 (16 vs 16); counted as 0 it would have
    # been put with the strongest player instead.
    assert teams[4] == teams[2] != teams[1] == teams[3]
