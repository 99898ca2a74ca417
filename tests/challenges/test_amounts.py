"""Goals and caps as admins type them: with a unit, or a bare number in the server's unit."""

from __future__ import annotations

import pytest

from bot.challenges.amounts import parse_amount
from bot.domain import KM_PER_MILE, Metric, Units
from bot.errors import UserError

IMPERIAL, METRIC = Units.IMPERIAL, Units.METRIC


@pytest.mark.parametrize(
    ("typed", "units", "km"),
    [
        ("5 mi", METRIC, 5 * KM_PER_MILE),
        ("5 miles", METRIC, 5 * KM_PER_MILE),
        ("8 km", IMPERIAL, 8.0),
        ("8KM", IMPERIAL, 8.0),
        ("5000 m", IMPERIAL, 5.0),
        ("5", METRIC, 5.0),
        ("5", IMPERIAL, 5 * KM_PER_MILE),
        (5.0, IMPERIAL, 5 * KM_PER_MILE),
        ("2.5mi", METRIC, 2.5 * KM_PER_MILE),
        ("5,5 km", METRIC, 5.5),
        ("0", IMPERIAL, 0.0),
    ],
)
def test_a_distance_is_stored_in_km(typed: str | float, units: Units, km: float) -> None:
    assert parse_amount(typed, Metric.DISTANCE, units) == pytest.approx(km)


def test_other_metrics_take_their_own_unit_or_none_and_never_convert() -> None:
    assert parse_amount("10,000", Metric.STEPS, IMPERIAL) == 10_000
    assert parse_amount("10000 steps", Metric.STEPS, METRIC) == 10_000
    assert parse_amount("30 min", Metric.ACTIVE_MINUTES, IMPERIAL) == 30
    assert parse_amount(500.0, Metric.ACTIVE_CALORIES, IMPERIAL) == 500


@pytest.mark.parametrize(
    ("typed", "metric", "message"),
    [
        ("5 parsecs", Metric.DISTANCE, "“parsecs” is not a distance unit I know: use km, m or mi"),
        ("five", Metric.DISTANCE, "“five” is not an amount: write a number"),
        ("8 km", Metric.STEPS, "Steps are counted in steps, not “km”"),
        ("", Metric.STEPS, "is not an amount"),
    ],
)
def test_an_unknown_unit_or_no_number_is_a_clear_error(
    typed: str, metric: Metric, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        parse_amount(typed, metric, METRIC)
