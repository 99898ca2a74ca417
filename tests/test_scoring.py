"""Example-based tests of the scoring engine: one scenario per rule a player would notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.domain import DailyValue, Metric, ScoringMode, TeamMode
from bot.scoring import (
    ChallengeRules,
    Standings,
    baseline_from_history,
    compute_awards,
    compute_standings,
    cumulative_series,
    rank_changes,
    ranks_of,
)

START = dt.date(2025, 6, 2)  # a Monday; the challenge runs one week
END = START + dt.timedelta(days=6)
ALICE, BOB, CAROL, DAN = 101, 202, 303, 404


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def steps(n: int, value: float, *, manual: bool = False) -> DailyValue:
    return DailyValue(Metric.STEPS, day(n), value, includes_manual=manual)


def rules(mode: ScoringMode = ScoringMode.TOTAL, **overrides: object) -> ChallengeRules:
    settings: dict[str, object] = {"mode": mode, **overrides}
    return ChallengeRules(metric=Metric.STEPS, start=START, end=END, **settings)  # type: ignore[arg-type]


def scores(standings: Standings) -> dict[int, float]:
    return {p.player_id: p.score for p in standings.players}


def ranks(standings: Standings) -> dict[int, int]:
    return {p.player_id: p.rank for p in standings.players}


# --------------------------------------------------------------------------- total, caps, inputs


def test_total_sums_days_in_the_window_and_ignores_other_metrics_and_days() -> None:
    values = {
        ALICE: [
            steps(0, 1000),
            steps(1, 2500),
            steps(2, 9999),  # after `through`: not yet counted
            DailyValue(Metric.STEPS, START - dt.timedelta(days=1), 50_000),  # before the start
            DailyValue(Metric.FLOORS, day(0), 40),  # another metric
        ]
    }
    standings = compute_standings(rules(), values, through=day(1))
    alice = standings.player(ALICE)
    assert alice.score == 3500
    assert alice.daily_values == {day(0): 1000, day(1): 2500}
    assert standings.days == (day(0), day(1))


def test_days_after_the_end_are_ignored_even_when_through_is_later() -> None:
    values = {ALICE: [steps(6, 100), steps(7, 100_000)]}
    standings = compute_standings(rules(), values, through=day(20))
    assert standings.player(ALICE).score == 100
    assert standings.days[-1] == END


def test_through_before_the_start_scores_nothing() -> None:
    standings = compute_standings(rules(), {ALICE: [steps(0, 5000)]}, through=day(-1))
    assert standings.days == ()
    assert standings.player(ALICE).score == 0
    assert not standings.player(ALICE).has_data


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


def test_values_above_the_daily_cap_count_as_the_cap() -> None:
    values = {ALICE: [steps(0, 60_000), steps(1, 12_000)], BOB: [steps(0, 25_000)]}
    standings = compute_standings(rules(daily_cap=20_000), values, through=day(1))
    assert standings.player(ALICE).daily_values == {day(0): 20_000, day(1): 12_000}
    assert scores(standings) == {ALICE: 32_000, BOB: 20_000}


def test_manual_entries_are_dropped_when_the_challenge_forbids_them() -> None:
    values = {
        ALICE: [steps(0, 30_000, manual=True), steps(0, 4000)],  # second provider, automatic
        BOB: [steps(0, 9000, manual=True)],
    }
    strict = compute_standings(rules(allow_manual=False), values, through=day(0))
    assert scores(strict) == {ALICE: 4000, BOB: 0}
    assert not strict.player(BOB).has_data

    lenient = compute_standings(rules(allow_manual=True), values, through=day(0))
    assert scores(lenient) == {ALICE: 30_000, BOB: 9000}


def test_several_providers_take_the_highest_value_per_day_never_the_sum() -> None:
    values = {ALICE: [steps(0, 8000), steps(0, 8500), steps(1, 3000), steps(1, 2000)]}
    standings = compute_standings(rules(), values, through=day(1))
    assert standings.player(ALICE).daily_values == {day(0): 8500, day(1): 3000}
    assert standings.player(ALICE).score == 11_500


def test_player_without_any_sync_is_listed_with_no_data_and_zero() -> None:
    standings = compute_standings(rules(), {ALICE: [steps(0, 10)], BOB: []}, through=day(0))
    bob = standings.player(BOB)
    assert (bob.score, bob.rank, bob.has_data) == (0, 2, False)


# --------------------------------------------------------------------------- average


def test_average_counts_a_missing_final_day_as_zero() -> None:
    values = {ALICE: [steps(0, 9000), steps(1, 6000)]}  # nothing on day 2, which is final
    standings = compute_standings(rules(ScoringMode.AVERAGE), values, through=day(2))
    assert standings.player(ALICE).score == 5000
    assert standings.player(ALICE).elapsed_days == 3


def test_average_waits_for_a_provisional_day_without_data() -> None:
    values = {ALICE: [steps(0, 9000), steps(1, 6000)], BOB: [steps(2, 300)]}
    standings = compute_standings(
        rules(ScoringMode.AVERAGE),
        values,
        through=day(2),
        provisional_days=frozenset({day(2)}),
    )
    # Alice: day 2 has not happened yet for her, so her average is over 2 days, not 3.
    assert standings.player(ALICE).score == 7500
    assert standings.player(ALICE).elapsed_days == 2
    # Bob already has a (partial) value on the provisional day: it counts, his final days are 0.
    assert standings.player(BOB).score == 100
    assert standings.player(BOB).elapsed_days == 3


def test_a_late_joiners_average_counts_from_their_first_day() -> None:
    values = {
        ALICE: [steps(0, 6000), steps(1, 6000), steps(2, 6000)],
        BOB: [steps(0, 90_000), steps(1, 6000), steps(2, 6000)],  # joined on day 1
    }
    standings = compute_standings(
        rules(ScoringMode.AVERAGE), values, through=day(2), first_days={BOB: day(1)}
    )
    bob = standings.player(BOB)
    assert bob.daily_values == {day(1): 6000, day(2): 6000}  # day 0 was before he joined
    assert (bob.elapsed_days, bob.score, bob.rank) == (2, 6000, 1)  # not 12,000 over 3 days
    assert cumulative_series(standings)[BOB] == [(day(0), 0), (day(1), 6000), (day(2), 6000)]


# --------------------------------------------------------------------------- goal days, tiers


def test_goal_days_scores_one_point_per_day_the_goal_is_met() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 9_999), steps(2, 15_000)], BOB: []}
    standings = compute_standings(
        rules(ScoringMode.GOAL_DAYS, daily_goal=10_000), values, through=day(3)
    )
    alice = standings.player(ALICE)
    assert alice.score == 2
    assert alice.goal_met == {day(0): True, day(1): False, day(2): True, day(3): False}
    assert alice.daily_points == {day(0): 1, day(1): 0, day(2): 1}


def test_tiers_score_the_highest_threshold_reached_each_day() -> None:
    values = {ALICE: [steps(0, 4999), steps(1, 5000), steps(2, 12_000), steps(3, 40_000)]}
    standings = compute_standings(rules(ScoringMode.TIERS), values, through=day(3))
    alice = standings.player(ALICE)
    assert alice.daily_points == {day(0): 0, day(1): 1, day(2): 2, day(3): 3}
    assert alice.score == 6


def test_custom_tiers() -> None:
    custom = rules(ScoringMode.TIERS, tiers=((1000, 5), (2000, 10)))
    standings = compute_standings(custom, {ALICE: [steps(0, 1500)]}, through=day(0))
    assert standings.player(ALICE).score == 5


# --------------------------------------------------------------------------- daily rank


def test_daily_rank_awards_3_2_1_each_day_and_sums() -> None:
    values = {
        ALICE: [steps(0, 9000), steps(1, 1000)],
        BOB: [steps(0, 8000), steps(1, 7000)],
        CAROL: [steps(0, 7000), steps(1, 9000)],
        DAN: [steps(0, 100), steps(1, 100)],
    }
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(1))
    assert standings.player(ALICE).daily_points == {day(0): 3, day(1): 1}
    assert standings.player(DAN).daily_points == {day(0): 0, day(1): 0}
    assert scores(standings) == {ALICE: 4, BOB: 4, CAROL: 4, DAN: 0}
    assert ranks(standings) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 4}


def test_daily_rank_ties_on_a_day_share_the_better_points() -> None:
    values = {ALICE: [steps(0, 8000)], BOB: [steps(0, 8000)], CAROL: [steps(0, 5000)]}
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(0))
    # Alice and Bob share 1st (3 points each); Carol is 3rd by competition ranking: 1 point.
    assert scores(standings) == {ALICE: 3, BOB: 3, CAROL: 1}


def test_daily_rank_gives_nothing_for_a_zero_reading_or_a_missing_day() -> None:
    values = {ALICE: [steps(0, 0)], BOB: [], CAROL: [steps(0, 10)]}
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(0))
    assert scores(standings) == {ALICE: 0, BOB: 0, CAROL: 3}


def test_daily_rank_uses_the_configured_points_table() -> None:
    values = {ALICE: [steps(0, 3)], BOB: [steps(0, 2)], CAROL: [steps(0, 1)]}
    custom = rules(ScoringMode.DAILY_RANK, points_table=(10, 5))
    standings = compute_standings(custom, values, through=day(0))
    assert scores(standings) == {ALICE: 10, BOB: 5, CAROL: 0}


# --------------------------------------------------------------------------- improvement


def test_improvement_is_percent_above_own_baseline() -> None:
    values = {ALICE: [steps(0, 12_000), steps(1, 6000)], BOB: [steps(0, 5000), steps(1, 5000)]}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(1),
        baselines={ALICE: 6000, BOB: 10_000},
    )
    assert standings.player(ALICE).score == pytest.approx(50.0)  # mean 9000 vs 6000
    assert standings.player(BOB).score == pytest.approx(-50.0)
    assert ranks(standings) == {ALICE: 1, BOB: 2}


def test_improvement_without_own_baseline_uses_the_group_median() -> None:
    values = {
        ALICE: [steps(0, 8000)],
        BOB: [steps(0, 8000)],
        CAROL: [steps(0, 8000)],
        DAN: [steps(0, 8000)],  # no history before the challenge
    }
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(0),
        baselines={ALICE: 2000, BOB: 4000, CAROL: 10_000},
    )
    dan = standings.player(DAN)
    assert (dan.baseline, dan.baseline_is_own) == (4000, False)
    assert dan.score == pytest.approx(100.0)


def test_improvement_with_no_baselines_at_all_scores_zero() -> None:
    values = {ALICE: [steps(0, 8000)], BOB: [steps(0, 100)]}
    standings = compute_standings(rules(ScoringMode.IMPROVEMENT), values, through=day(0))
    assert scores(standings) == {ALICE: 0, BOB: 0}


def test_baseline_is_the_median_of_the_14_days_before_the_start() -> None:
    history = [
        DailyValue(Metric.STEPS, START - dt.timedelta(days=n), 1000.0 * n) for n in range(1, 16)
    ]
    history.append(DailyValue(Metric.FLOORS, START - dt.timedelta(days=1), 1e9))
    # Day -15 (15,000) is outside the window; days -1..-14 hold 1000..14000, median 7500.
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), history) == 7500


def test_baseline_is_none_without_history() -> None:
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), []) is None
    zeros = [DailyValue(Metric.STEPS, START - dt.timedelta(days=1), 0)]
    assert baseline_from_history(rules(ScoringMode.IMPROVEMENT), zeros) is None


# --------------------------------------------------------------------------- teams


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


# --------------------------------------------------------------------------- streaks


def goal_rules() -> ChallengeRules:
    return rules(ScoringMode.TOTAL, daily_goal=10_000)


def test_streak_counts_consecutive_goal_days_and_a_missed_final_day_breaks_it() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 11_000), steps(2, 500), steps(3, 12_000)]}
    alice = compute_standings(goal_rules(), values, through=day(3)).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (1, 2)


def test_missing_final_day_breaks_a_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(2, 10_000)]}
    alice = compute_standings(goal_rules(), values, through=day(2)).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (1, 1)


def test_provisional_day_not_yet_met_does_not_break_the_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 10_000), steps(2, 3000)]}  # day 2 half synced
    alice = compute_standings(
        goal_rules(), values, through=day(2), provisional_days=frozenset({day(2)})
    ).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (2, 2)


def test_provisional_day_that_is_met_extends_the_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 10_000)]}
    alice = compute_standings(
        goal_rules(), values, through=day(1), provisional_days=frozenset({day(1)})
    ).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (2, 2)


def test_cap_below_goal_is_rejected_and_capped_values_can_meet_the_goal() -> None:
    with pytest.raises(ValueError, match="goal cannot be above the daily cap"):
        rules(daily_goal=20_000, daily_cap=15_000)
    capped = rules(ScoringMode.GOAL_DAYS, daily_goal=15_000, daily_cap=15_000)
    standings = compute_standings(capped, {ALICE: [steps(0, 30_000)]}, through=day(0))
    assert standings.player(ALICE).goal_met[day(0)]


def test_without_a_daily_goal_nobody_has_a_streak() -> None:
    standings = compute_standings(rules(), {ALICE: [steps(0, 99_999)]}, through=day(0))
    assert standings.player(ALICE).best_streak == 0


# --------------------------------------------------------------------------- rank changes, series


def test_rank_changes_up_down_same_and_new() -> None:
    values = {ALICE: [steps(0, 3)], BOB: [steps(0, 2)], CAROL: [steps(0, 1)], DAN: [steps(0, 4)]}
    current = compute_standings(rules(), values, through=day(0))
    # Now: Dan 1 (new), Alice 2, Bob 3, Carol 4.
    changes = rank_changes({ALICE: 3, BOB: 2, CAROL: 4}, current)
    assert changes == {DAN: None, ALICE: 1, BOB: -1, CAROL: 0}
    assert rank_changes(ranks_of(current), current) == dict.fromkeys(ranks_of(current), 0)


def test_cumulative_series_is_the_running_score_per_day() -> None:
    values = {ALICE: [steps(0, 1000), steps(2, 3000)], BOB: []}
    standings = compute_standings(rules(), values, through=day(2))
    series = cumulative_series(standings)
    assert series[ALICE] == [(day(0), 1000), (day(1), 1000), (day(2), 4000)]
    assert series[BOB] == [(day(0), 0), (day(1), 0), (day(2), 0)]


def test_cumulative_series_for_average_is_the_running_average() -> None:
    values = {ALICE: [steps(0, 1000), steps(2, 5000)]}
    standings = compute_standings(rules(ScoringMode.AVERAGE), values, through=day(2))
    series = cumulative_series(standings)[ALICE]
    assert [value for _, value in series] == pytest.approx([1000, 500, 2000])
    assert series[-1][1] == pytest.approx(standings.player(ALICE).score)


# --------------------------------------------------------------------------- awards


def test_awards_best_day_longest_streak_and_most_improved() -> None:
    values = {
        ALICE: [steps(0, 10_000), steps(1, 10_000), steps(2, 25_000)],
        BOB: [steps(0, 10_000), steps(1, 10_000), steps(2, 10_000)],
        CAROL: [steps(0, 14_000), steps(1, 2000)],
    }
    standings = compute_standings(
        goal_rules(), values, through=day(2), baselines={ALICE: 10_000, BOB: 5000}
    )
    awards = compute_awards(standings)
    assert awards.best_day is not None
    assert (awards.best_day.player_id, awards.best_day.day, awards.best_day.value) == (
        ALICE,
        day(2),
        25_000,
    )
    assert awards.longest_streak is not None
    assert (awards.longest_streak.player_ids, awards.longest_streak.days) == ((ALICE, BOB), 3)
    # Bob doubled his usual 5000; Alice's mean 15,000 is +50%; Carol has no own baseline.
    assert awards.most_improved is not None
    assert awards.most_improved.player_id == BOB
    assert awards.most_improved.percent == pytest.approx(100.0)


def test_most_improved_is_skipped_without_baselines_and_awards_without_data_are_none() -> None:
    standings = compute_standings(goal_rules(), {ALICE: [steps(0, 100)]}, through=day(0))
    awards = compute_awards(standings)
    assert awards.most_improved is None
    assert awards.longest_streak is None  # nobody met the goal
    empty = compute_awards(compute_standings(goal_rules(), {ALICE: []}, through=day(0)))
    assert empty.best_day is None


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": ScoringMode.GOAL_DAYS}, "needs a daily goal"),
        ({"daily_cap": 0}, "daily cap must be a positive number"),
        ({"daily_goal": float("nan")}, "daily goal must be a positive number"),
        ({"mode": ScoringMode.TIERS, "tiers": ()}, "needs at least one tier"),
        ({"tiers": ((10_000, 2), (5000, 1))}, "strictly increasing"),
        ({"mode": ScoringMode.DAILY_RANK, "points_table": ()}, "at least one entry"),
        ({"points_table": (3, -1)}, "cannot be negative"),
    ],
)
def test_invalid_rules_are_rejected_with_a_readable_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rules(**overrides)


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="end on or after its start"):
        ChallengeRules(Metric.STEPS, ScoringMode.TOTAL, start=END, end=START)
