"""The statistics, the k threshold and the Laplace noise, as pure functions."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.publish.aggregate import (
    METRIC_BOUNDS,
    Contribution,
    aggregate,
    clamp_bound,
    laplace,
    percentile,
)


def _values(*values: float, goal_at: float = 10_000) -> list[Contribution]:
    return [Contribution(v, v >= goal_at) for v in values]


def test_statistics_of_a_day() -> None:
    result = aggregate(_values(4_000, 6_000, 8_000, 12_000, 20_000), k=5, has_goal=True)
    assert result is not None
    assert result.participants == 5
    assert result.sum == 50_000
    assert result.mean == 10_000
    assert result.median == 8_000
    assert result.p90 == pytest.approx(16_800)  # 12 000 + 0.6 · 8 000
    assert result.goal_share == 0.4
    assert result.privacy.mechanism == "none"
    assert result.privacy.k == 5


def test_goal_share_is_absent_without_a_goal() -> None:
    result = aggregate(_values(1, 2, 3, 4, 5), k=5, has_goal=False)
    assert result is not None and result.goal_share is None


@pytest.mark.parametrize(("players", "published"), [(4, False), (5, True), (6, True)])
def test_k_anonymity_at_k_minus_one_k_and_k_plus_one(players: int, published: bool) -> None:
    result = aggregate(_values(*range(1_000, 1_000 + players)), k=5, has_goal=True)
    assert (result is not None) is published
    if result is not None:
        assert result.participants == players


def test_k_below_three_is_refused() -> None:
    with pytest.raises(ValueError):
        aggregate(_values(1, 2, 3), k=2, has_goal=False)


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_median_matches_the_standard_library(values: list[float]) -> None:
    assert percentile(sorted(values), 0.5) == pytest.approx(statistics.median(values))


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=50))
def test_p90_matches_the_inclusive_method(values: list[float]) -> None:
    expected = statistics.quantiles(values, n=10, method="inclusive")[8]
    assert percentile(sorted(values), 0.9) == pytest.approx(expected)


def test_clamp_bound_prefers_the_challenge_cap() -> None:
    assert clamp_bound("steps", 15_000) == 15_000
    assert clamp_bound("steps", None) == METRIC_BOUNDS["steps"]


def test_laplace_noise_has_the_right_spread() -> None:
    rng = random.Random(7)
    samples = [laplace(2.0, rng) for _ in range(20_000)]
    assert statistics.fmean(samples) == pytest.approx(0, abs=0.1)
    # Var(Laplace(b)) = 2 b²
    assert statistics.pvariance(samples) == pytest.approx(8.0, rel=0.1)


def test_noise_is_recorded_and_values_are_clamped() -> None:
    result = aggregate(
        _values(5_000, 9_000, 11_000, 14_000, 90_000),
        k=5,
        has_goal=True,
        epsilon=1.0,
        bound=20_000,
        rng=random.Random(1),
    )
    assert result is not None
    assert result.privacy.mechanism == "laplace"
    assert result.privacy.epsilon_per_value == 1.0
    assert result.privacy.epsilon_total == 5.0
    assert result.privacy.clamp_upper == 20_000
    assert 0 <= result.median <= 20_000 and 0 <= result.p90 <= 20_000


def test_values_are_clamped_to_the_bound_before_the_noise() -> None:
    # The clamp is what bounds one player's influence (the sensitivity): a value above it must
    # count as the bound in every statistic, not only be cut from the published figure.
    result = aggregate(
        _values(5_000, 9_000, 11_000, 14_000, 90_000),
        k=5,
        has_goal=True,
        epsilon=1e9,  # noise far below the rounding
        bound=20_000,
        rng=random.Random(1),
    )
    assert result is not None
    assert result.sum == pytest.approx(59_000, abs=0.1)  # 90 000 counts as 20 000
    assert result.mean == pytest.approx(11_800, abs=0.1)
    assert result.p90 == pytest.approx(17_600, abs=0.1)  # 14 000 + 0.6 · 6 000
    assert (result.participants, result.goal_share) == (5, 0.6)


def test_noise_without_a_goal_spends_less() -> None:
    result = aggregate(
        _values(1, 2, 3, 4, 5), k=5, has_goal=False, epsilon=0.5, bound=10, rng=random.Random(3)
    )
    assert result is not None
    assert result.goal_share is None
    assert result.privacy.epsilon_total == 2.0  # four noised values


@settings(max_examples=300)
@given(
    seed=st.integers(0, 2**32),
    epsilon=st.floats(0.001, 10),
    values=st.lists(st.floats(0, 200_000, allow_nan=False), min_size=5, max_size=30),
)
def test_noisy_counts_are_never_negative_and_shares_stay_shares(
    seed: int, epsilon: float, values: list[float]
) -> None:
    result = aggregate(
        [Contribution(v, i % 3 == 0) for i, v in enumerate(values)],
        k=5,
        has_goal=True,
        epsilon=epsilon,
        bound=60_000,
        rng=random.Random(seed),
    )
    assert result is not None
    assert isinstance(result.participants, int) and result.participants >= 0
    assert result.sum >= 0
    assert 0 <= result.mean <= 60_000
    assert 0 <= result.median <= 60_000
    assert 0 <= result.p90 <= 60_000
    assert result.goal_share is not None and 0 <= result.goal_share <= 1


def test_noise_needs_a_bound_and_a_source() -> None:
    with pytest.raises(ValueError):
        aggregate(_values(1, 2, 3, 4, 5), k=5, has_goal=False, epsilon=1.0)
