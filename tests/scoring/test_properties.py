"""Property-based tests of the scoring engine's invariants, over random challenges and values."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import DailyValue, Metric, ScoringMode, TeamMode
from bot.scoring import ChallengeRules, Standings, compute_standings, cumulative_series

START = dt.date(2025, 3, 1)
LENGTH = 7
END = START + dt.timedelta(days=LENGTH - 1)


@dataclass(frozen=True)
class Scenario:
    rules: ChallengeRules
    values: dict[int, list[DailyValue]]
    through: dt.date
    provisional: frozenset[dt.date]
    baselines: dict[int, float]
    teams: dict[int, str]
    first_days: dict[int, dt.date]  # late joiners

    def standings(self) -> Standings:
        return compute_standings(
            self.rules,
            self.values,
            through=self.through,
            provisional_days=self.provisional,
            baselines=self.baselines,
            teams=self.teams,
            first_days=self.first_days,
        )


amounts = st.one_of(
    st.integers(min_value=0, max_value=40_000).map(float),
    st.floats(min_value=0, max_value=60.0, allow_nan=False, allow_infinity=False),
)
days = st.integers(min_value=-3, max_value=LENGTH + 2).map(lambda n: START + dt.timedelta(days=n))
daily_values = st.builds(
    DailyValue,
    metric=st.sampled_from([Metric.STEPS, Metric.STEPS, Metric.STEPS, Metric.FLOORS]),
    day=days,
    value=amounts,
    includes_manual=st.booleans(),
)


@st.composite
def challenge_rules(draw: st.DrawFn) -> ChallengeRules:
    mode = draw(st.sampled_from(ScoringMode))
    cap = draw(st.none() | st.sampled_from([10.0, 5000.0, 20_000.0]))
    goals = [g for g in (5.0, 1000.0, 10_000.0) if cap is None or g <= cap]
    goal_choice = st.sampled_from(goals)
    goal = draw(goal_choice if mode is ScoringMode.GOAL_DAYS else st.none() | goal_choice)
    return ChallengeRules(
        metric=Metric.STEPS,
        mode=mode,
        start=START,
        end=END,
        daily_goal=goal,
        daily_cap=cap,
        allow_manual=draw(st.booleans()),
        team_mode=draw(st.sampled_from(TeamMode)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    players = draw(st.lists(st.integers(1, 10**18), min_size=1, max_size=8, unique=True))
    values = {p: draw(st.lists(daily_values, max_size=14)) for p in players}
    through = START + dt.timedelta(days=draw(st.integers(-1, LENGTH + 1)))
    provisional = frozenset(draw(st.lists(days, max_size=3)))
    baselines = {
        p: draw(st.floats(min_value=1, max_value=20_000)) for p in players if draw(st.booleans())
    }
    teams = {
        p: draw(st.sampled_from(["Red", "Blue", "Green"])) for p in players if draw(st.booleans())
    }
    first_days = {p: draw(days) for p in players if draw(st.booleans())}
    return Scenario(
        draw(challenge_rules()), values, through, provisional, baselines, teams, first_days
    )


def expected_daily_values(
    rules: ChallengeRules,
    values: Sequence[DailyValue],
    through: dt.date,
    first_day: dt.date = START,
) -> dict[dt.date, float]:
    """An independent oracle for what a player's days should hold."""
    last = min(through, rules.end)
    best: dict[dt.date, float] = {}
    for v in values:
        if v.metric != rules.metric or not max(rules.start, first_day) <= v.day <= last:
            continue
        if v.includes_manual and not rules.allow_manual:
            continue
        best[v.day] = max(best.get(v.day, 0.0), v.value)
    cap = math.inf if rules.daily_cap is None else rules.daily_cap
    return {day: min(value, cap) for day, value in best.items()}


@given(scenarios())
def test_rank_is_one_plus_the_number_of_strictly_better_players(scenario: Scenario) -> None:
    standings = scenario.standings()
    all_scores = [p.score for p in standings.players]
    for player in standings.players:
        assert player.rank == 1 + sum(1 for s in all_scores if s > player.score)
    assert [p.rank for p in standings.players] == sorted(p.rank for p in standings.players)
    assert {p.player_id for p in standings.players} == set(scenario.values)


@given(scenarios())
def test_team_ranks_follow_the_same_competition_ranking(scenario: Scenario) -> None:
    teams = scenario.standings().teams
    for team in teams:
        assert team.rank == 1 + sum(1 for other in teams if other.score > team.score)
    assert {t.team for t in teams} == set(scenario.teams.values())


@given(scenarios())
def test_daily_values_match_the_max_merge_and_never_exceed_the_cap(scenario: Scenario) -> None:
    standings = scenario.standings()
    for player in standings.players:
        expected = expected_daily_values(
            scenario.rules,
            scenario.values[player.player_id],
            scenario.through,
            scenario.first_days.get(player.player_id, START),
        )
        assert player.daily_values == expected
        if scenario.rules.daily_cap is not None:
            assert all(v <= scenario.rules.daily_cap for v in player.daily_values.values())


@given(scenarios())
def test_total_equals_the_sum_of_capped_days(scenario: Scenario) -> None:
    rules = ChallengeRules(
        metric=Metric.STEPS,
        mode=ScoringMode.TOTAL,
        start=START,
        end=END,
        daily_cap=scenario.rules.daily_cap,
        allow_manual=scenario.rules.allow_manual,
    )
    standings = compute_standings(rules, scenario.values, through=scenario.through)
    for player in standings.players:
        expected = expected_daily_values(rules, scenario.values[player.player_id], scenario.through)
        assert player.score == math.fsum(expected.values())


@settings(max_examples=50)
@given(scenarios(), st.randoms(use_true_random=False))
def test_scoring_does_not_depend_on_input_order(scenario: Scenario, rng: random.Random) -> None:
    players = list(scenario.values)
    rng.shuffle(players)
    shuffled: dict[int, list[DailyValue]] = {}
    for player in players:
        items = list(scenario.values[player])
        rng.shuffle(items)
        shuffled[player] = items
    reordered = compute_standings(
        scenario.rules,
        shuffled,
        through=scenario.through,
        provisional_days=scenario.provisional,
        baselines=dict(reversed(list(scenario.baselines.items()))),
        teams=dict(reversed(list(scenario.teams.items()))),
        first_days=dict(reversed(list(scenario.first_days.items()))),
    )
    assert reordered == scenario.standings()


@given(scenarios())
def test_streaks_never_exceed_elapsed_days_and_best_is_at_least_current(
    scenario: Scenario,
) -> None:
    standings = scenario.standings()
    for player in standings.players:
        days = [d for d in standings.days if d >= player.first_day]
        final_days = [d for d in days if d not in standings.provisional_days]
        assert 0 <= player.current_streak <= player.best_streak <= player.elapsed_days
        assert len(final_days) <= player.elapsed_days <= len(days)
        assert sum(player.goal_met.values()) >= player.best_streak


@given(scenarios())
def test_the_chart_series_ends_at_each_players_score(scenario: Scenario) -> None:
    standings = scenario.standings()
    series = cumulative_series(standings)
    for player in standings.players:
        points = series[player.player_id]
        assert [d for d, _ in points] == list(standings.days)
        if points:
            assert math.isclose(points[-1][1], player.score, rel_tol=1e-9, abs_tol=1e-6)


@given(scenarios())
def test_team_score_is_the_sum_or_mean_of_member_scores(scenario: Scenario) -> None:
    standings = scenario.standings()
    by_id: Mapping[int, float] = {p.player_id: p.score for p in standings.players}
    for team in standings.teams:
        member_scores = [by_id[m] for m in team.member_ids]
        expected = math.fsum(member_scores)
        if scenario.rules.team_mode is TeamMode.MEAN:
            expected /= len(member_scores)
        assert math.isclose(team.score, expected, rel_tol=1e-9, abs_tol=1e-9)
