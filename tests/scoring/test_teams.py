"""Team standings: members without data count as a player whose days were all empty."""

from __future__ import annotations

import pytest

from bot.domain import ScoringMode, TeamMode
from bot.scoring import compute_standings
from tests.scoring.builders import ALICE, BOB, CAROL, DAN, day, rules, steps


def test_team_sum_counts_a_non_syncing_member_as_zero() -> None:
    values = {ALICE: [steps(0, 6000)], BOB: [steps(0, 4000)], CAROL: [steps(0, 9000)], DAN: []}
    teams = {ALICE: "Red", BOB: "Red", CAROL: "Blue", DAN: "Blue"}
    standings = compute_standings(
        rules(team_mode=TeamMode.SUM), values, through=day(0), teams=teams
    )
    assert [(t.team, t.score, t.rank, t.syncing_members) for t in standings.teams] == [
        ("Red", 10_000, 1, 2),
        ("Blue", 9000, 2, 1),
    ]


def test_team_mean_divides_by_every_member_including_unsynced_ones() -> None:
    values = {ALICE: [steps(0, 6000)], BOB: [steps(0, 4000)], CAROL: [steps(0, 9000)]}
    # Dan is on Blue but absent from `values`: he has never linked a provider.
    teams = {ALICE: "Red", BOB: "Red", CAROL: "Blue", DAN: "Blue"}
    standings = compute_standings(
        rules(team_mode=TeamMode.MEAN), values, through=day(0), teams=teams
    )
    assert {t.team: t.score for t in standings.teams} == {"Red": 5000, "Blue": 4500}
    assert standings.teams[1].member_ids == (CAROL, DAN)
    assert not standings.player(DAN).has_data


def test_no_teams_means_no_team_standings() -> None:
    standings = compute_standings(rules(), {ALICE: [steps(0, 1)]}, through=day(0))
    assert standings.teams == ()


def test_an_improvement_team_gains_nothing_from_a_member_who_never_synced() -> None:
    # Carol is below her usual; counting Dan (no data) as "no change" would lift Blue's mean.
    values = {ALICE: [steps(0, 11_000)], BOB: [steps(0, 11_000)], CAROL: [steps(0, 5000)]}
    teams = {ALICE: "Red", BOB: "Red", CAROL: "Blue", DAN: "Blue"}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT, team_mode=TeamMode.MEAN),
        values,
        through=day(0),
        baselines=dict.fromkeys((ALICE, BOB, CAROL, DAN), 10_000.0),
        teams=teams,
    )
    assert standings.player(DAN).score == pytest.approx(-100.0)
    blue = next(t for t in standings.teams if t.team == "Blue")
    assert blue.score == pytest.approx(-75.0)  # (-50% + -100%) / 2, not -25%
