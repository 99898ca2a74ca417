"""Daily aggregates of one challenge, k-anonymity, and optional Laplace noise. Pure functions.

What goes in: one `Contribution` per player whose value for the day is final, excluding
players who opted out of publishing. What comes out: count, sum, mean, median, 90th
percentile and the share of players who met the goal, or nothing when fewer than `k` players
contributed.

Percentiles use linear interpolation between the closest ranks (NumPy's default, "type 7"):
the median of an even count is the mean of the two middle values.

Differential privacy (when ε is configured). Neighbouring data sets differ by one player.
Every value a player contributes is first clamped to [0, B], where B is the challenge's daily
cap when it has one and otherwise the metric's bound in `METRIC_BOUNDS`; that bound is what
makes the sensitivities finite. Each published value gets Laplace noise of scale Δ/ε:
- participant count and goal count: Δ = 1;
- sum: Δ = B;
- median and 90th percentile: Δ = B (the global sensitivity of a quantile of values in
  [0, B]; honest but coarse for small groups).
The mean is the noisy sum divided by the noisy count and the goal share the noisy goal count
divided by the noisy count: post-processing, which costs no extra privacy. So one message
spends ε on each of the five noised values: 5ε in all (4ε without a goal), recorded in the
message. Noise is
drawn once per challenge and day; every sink gets the same noisy values, so sending to
several sinks, or retrying, does not spend more. After noise, counts are rounded to whole
numbers and never negative, values are clamped back to [0, B] (sum to [0, count·B]) and the
share to [0, 1]; all of that is post-processing too.

Limits worth knowing: floating-point Laplace sampling is not perfectly private against an
attacker who sees raw doubles (Mironov 2012); outputs are rounded to 2 decimals, which
mitigates but does not formally fix that. k-anonymity is checked on the true count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import Metric

# Plausible daily maxima per metric, used as the clamp bound B when a challenge has no cap.
METRIC_BOUNDS: dict[str, float] = {
    Metric.STEPS: 60_000,
    Metric.ACTIVE_MINUTES: 600,
    Metric.DISTANCE: 60,
    Metric.FLOORS: 300,
    Metric.ACTIVE_CALORIES: 4_000,
    Metric.SLEEP_MINUTES: 1_440,
}
DEFAULT_BOUND = 100_000.0
NOISED_VALUES = ("participants", "goal_count", "sum", "median", "p90")


@dataclass(frozen=True, slots=True)
class Contribution:
    """One player's final value for the day; never carries who the player is."""

    value: float
    goal_met: bool


@dataclass(frozen=True, slots=True)
class Privacy:
    k: int
    mechanism: str  # "none" or "laplace"
    epsilon_per_value: float | None = None
    epsilon_total: float | None = None
    clamp_upper: float | None = None


@dataclass(frozen=True, slots=True)
class DailyAggregate:
    participants: int
    sum: float
    mean: float
    median: float
    p90: float
    goal_share: float | None  # None when the challenge has no daily goal
    privacy: Privacy


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks; `sorted_values` must be sorted, non-empty."""
    if not sorted_values:
        raise ValueError("percentile of nothing")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within [0, 1]")
    position = (len(sorted_values) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight


def clamp_bound(metric: str, daily_cap: float | None) -> float:
    if daily_cap is not None and daily_cap > 0:
        return float(daily_cap)
    return METRIC_BOUNDS.get(metric, DEFAULT_BOUND)


def laplace(scale: float, rng: random.Random) -> float:
    """One Laplace(0, scale) sample: the difference of two exponentials of mean `scale`."""
    return rng.expovariate(1.0 / scale) - rng.expovariate(1.0 / scale)


def _round(value: float) -> float:
    return round(value, 2)


def aggregate(
    contributions: Sequence[Contribution],
    *,
    k: int,
    has_goal: bool,
    epsilon: float | None = None,
    bound: float | None = None,
    rng: random.Random | None = None,
) -> DailyAggregate | None:
    """The day's aggregate, or None when fewer than `k` players contributed.

    With `epsilon`, `bound` (B) and `rng` are required: values are clamped to [0, B] and
    Laplace noise is added as described in the module docstring.
    """
    if k < 3:
        raise ValueError("k below 3 gives no meaningful anonymity")
    count = len(contributions)
    if count < k:
        return None
    if epsilon is None:
        values = sorted(c.value for c in contributions)
        goal_count = sum(1 for c in contributions if c.goal_met)
        total = math.fsum(values)
        return DailyAggregate(
            participants=count,
            sum=_round(total),
            mean=_round(total / count),
            median=_round(percentile(values, 0.5)),
            p90=_round(percentile(values, 0.9)),
            goal_share=_round(goal_count / count) if has_goal else None,
            privacy=Privacy(k=k, mechanism="none"),
        )
    if bound is None or bound <= 0 or rng is None:
        raise ValueError("differential privacy needs a positive bound and a random source")
    return _noisy_aggregate(
        contributions, k=k, has_goal=has_goal, epsilon=epsilon, bound=bound, rng=rng
    )


def _noisy_aggregate(
    contributions: Sequence[Contribution],
    *,
    k: int,
    has_goal: bool,
    epsilon: float,
    bound: float,
    rng: random.Random,
) -> DailyAggregate:
    values = sorted(min(max(c.value, 0.0), bound) for c in contributions)
    goal_count = sum(1 for c in contributions if c.goal_met)

    noisy_count = max(0, round(len(values) + laplace(1.0 / epsilon, rng)))
    noisy_goals = max(0, round(goal_count + laplace(1.0 / epsilon, rng))) if has_goal else 0
    noisy_sum = math.fsum(values) + laplace(bound / epsilon, rng)
    noisy_median = percentile(values, 0.5) + laplace(bound / epsilon, rng)
    noisy_p90 = percentile(values, 0.9) + laplace(bound / epsilon, rng)

    noisy_sum = min(max(noisy_sum, 0.0), noisy_count * bound)
    divisor = max(noisy_count, 1)
    return DailyAggregate(
        participants=noisy_count,
        sum=_round(noisy_sum),
        mean=_round(min(noisy_sum / divisor, bound)),
        median=_round(min(max(noisy_median, 0.0), bound)),
        p90=_round(min(max(noisy_p90, 0.0), bound)),
        goal_share=_round(min(noisy_goals / divisor, 1.0)) if has_goal else None,
        privacy=Privacy(
            k=k,
            mechanism="laplace",
            epsilon_per_value=epsilon,
            epsilon_total=epsilon * (len(NOISED_VALUES) if has_goal else len(NOISED_VALUES) - 1),
            clamp_upper=bound,
        ),
    )
