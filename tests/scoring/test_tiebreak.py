"""The tie-break: players tied on score told apart by more goal days, or by who reached their
final score first; those still level share the place (1, 1, 3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import DailyValue, ScoringMode
from bot.scoring import (
    ChallengeRules,
    Standings,
    TieBreak,
    compute_standings,
    goal_day_count,
    score_reached_on,
    streak_ranks,
)
from tests.scoring.builders import ALICE, BOB, CAROL, DAN, day, ranks, rules, steps
from tests.scoring.test_properties import Scenario, scenarios

# Alice and Bob both total 20,000 steps; Alice met the 10,000 goal twice, Bob once, and Bob
# got to his 20,000 a day before Alice. Carol and Dan are level on everything.
LEVEL = {
    ALICE: [steps(0, 10_000), steps(1, 10_000)],
    BOB: [steps(0, 15_000), steps(1, 5000)],
    CAROL: [steps(1, 3000)],
    DAN: [steps(1, 3000)],
}
LATE = {
    ALICE: [steps(0, 5000), steps(2, 15_000)],  # 20,000 on day 2
    BOB: [steps(0, 12_000), steps(1, 8000)],  # 20,000 on day 1
    CAROL: [steps(0, 3000)],
    DAN: [steps(0, 3000)],
}


def standings(tie_break: TieBreak, values: Mapping[int, list[DailyValue]]) -> Standings:
    return compute_standings(rules(daily_goal=10_000, tie_break=tie_break), values, through=day(2))


def test_without_a_tie_break_tied_players_share_the_place() -> None:
    assert ranks(standings(TieBreak.NONE, LEVEL)) == {ALICE: 1, BOB: 1, CAROL: 3, DAN: 3}


def test_more_goal_days_breaks_a_tie_and_players_still_level_share_the_place() -> None:
    ranked = standings(TieBreak.GOAL_DAYS, LEVEL)
    assert ranks(ranked) == {ALICE: 1, BOB: 2, CAROL: 3, DAN: 3}
    assert [p.player_id for p in ranked.players] == [ALICE, BOB, CAROL, DAN]
    assert goal_day_count(ranked.player(ALICE)) == 2


def test_first_to_score_ranks_who_reached_their_score_earlier_ahead() -> None:
    assert ranks(standings(TieBreak.FIRST_TO_SCORE, LATE)) == {BOB: 1, ALICE: 2, CAROL: 3, DAN: 3}
    # Level scores reached on the same day stay level.
    assert ranks(standings(TieBreak.FIRST_TO_SCORE, LEVEL))[CAROL] == 3
    assert ranks(standings(TieBreak.FIRST_TO_SCORE, LEVEL))[DAN] == 3


def test_a_tie_break_never_reorders_players_with_different_scores() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 10_000)], BOB: [steps(0, 25_000)]}
    for tie_break in TieBreak:
        assert ranks(standings(tie_break, values)) == {BOB: 1, ALICE: 2}


def test_first_to_score_with_a_running_average() -> None:
    # Both average 5,000 over three days; Alice's running average was at 5,000 from day 0,
    # Bob's only on day 2.
    values = {ALICE: [steps(n, 5000) for n in range(3)], BOB: [steps(2, 15_000)]}
    ranked = compute_standings(
        rules(ScoringMode.AVERAGE, tie_break=TieBreak.FIRST_TO_SCORE), values, through=day(2)
    )
    assert ranks(ranked) == {ALICE: 1, BOB: 2}


def test_breaking_ties_by_goal_days_needs_a_daily_goal() -> None:
    with pytest.raises(ValueError, match="breaking ties by goal days needs a daily goal"):
        rules(tie_break=TieBreak.GOAL_DAYS)


def test_score_reached_on_is_the_first_day_at_or_above_the_final_score() -> None:
    series = [(day(0), 1.0), (day(1), 0.30000000000000004), (day(2), 0.3)]
    assert score_reached_on(series, 0.3) == day(0)
    # A running sum a last bit short of the score (added in another order) has reached it.
    assert score_reached_on([(day(0), 0.5), (day(1), sum([0.1] * 10))], 1.0) == day(1)
    assert score_reached_on([(day(0), 1.0)], 2.0) is None
    assert score_reached_on([], 0.0) is None


def test_a_streak_challenge_breaks_ties_on_its_best_streak() -> None:
    values = {
        ALICE: [steps(0, 10_000), steps(1, 10_000), steps(3, 10_000)],  # best 2, 3 goal days
        BOB: [steps(2, 10_000), steps(3, 10_000)],  # best 2 reached on day 3, 2 goal days
        CAROL: [steps(4, 10_000), steps(5, 10_000)],  # best 2 reached on day 5
    }

    def streak_standings(tie_break: TieBreak) -> Standings:
        streak = rules(ScoringMode.GOAL_DAYS, daily_goal=10_000, tie_break=tie_break)
        return compute_standings(streak, values, through=day(5))

    assert streak_ranks(streak_standings(TieBreak.NONE)) == {ALICE: 1, BOB: 1, CAROL: 1}
    assert streak_ranks(streak_standings(TieBreak.GOAL_DAYS)) == {ALICE: 1, BOB: 2, CAROL: 2}
    assert streak_ranks(streak_standings(TieBreak.FIRST_TO_SCORE)) == {
        ALICE: 1,
        BOB: 2,
        CAROL: 3,
    }


@given(scenarios(), st.sampled_from(TieBreak))
def test_a_tie_break_only_orders_players_tied_on_score(
    scenario: Scenario, tie_break: TieBreak
) -> None:
    if tie_break is TieBreak.GOAL_DAYS and scenario.rules.daily_goal is None:
        tie_break = TieBreak.FIRST_TO_SCORE
    broken: ChallengeRules = dataclasses.replace(scenario.rules, tie_break=tie_break)
    shared = scenario.standings()
    ranked = dataclasses.replace(scenario, rules=broken).standings()
    shared_ranks = {p.player_id: p.rank for p in shared.players}
    tied = {
        p.player_id: sum(1 for q in shared.players if q.score == p.score) for p in shared.players
    }
    for player in ranked.players:
        # Still competition ranking: a place is never better than 1 + those scoring more, and
        # never worse than the last place among those tied with the player.
        first = shared_ranks[player.player_id]
        assert first <= player.rank <= first + tied[player.player_id] - 1
    # The same ranks everywhere: scores do not change, only how ties are ordered.
    assert {p.player_id: p.score for p in ranked.players} == {
        p.player_id: p.score for p in shared.players
    }
    assert [p.rank for p in ranked.players] == sorted(p.rank for p in ranked.players)
