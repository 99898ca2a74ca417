"""Which values count: the scored window, other metrics, the cap, manual entries, providers."""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric
from bot.scoring import compute_standings
from tests.scoring.builders import ALICE, BOB, END, START, day, rules, scores, steps


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
