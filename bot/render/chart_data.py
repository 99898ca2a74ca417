"""What the cumulative chart shows, from the standings (`cumulative_chart` → `ChartInput`).

The daily post and the live page draw the same chart from this: each shown player's running
score (`bot.scoring.cumulative_series`) in the server's units, the legend's final scores
written as the posts write them (`format_score`), and each player's colour slot for the whole
challenge. Members who chose to hide have no line, no legend entry and are not counted among
the "others".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from bot.domain import ScoringMode, Units
from bot.render.chart import ChartInput
from bot.render.standings import format_score
from bot.render.text import shown_value, unit_label
from bot.scoring import ChallengeRules, PlayerId, Standings, cumulative_series


def chart_label(rules: ChallengeRules, units: Units) -> str:
    """What the chart's scores are: 'Steps', 'Distance, daily average (mi)', 'Points'."""
    metric = rules.metric
    label = unit_label(metric, units)
    # "Steps", not "Steps (steps)": the unit only when it adds something.
    unit = "" if label.casefold() == metric.label.casefold() else f" ({label})"
    match rules.mode:
        case ScoringMode.TOTAL:
            return f"{metric.label}{unit}"
        case ScoringMode.AVERAGE:
            return f"{metric.label}, daily average{unit}"
        case ScoringMode.GOAL_DAYS:
            return "Days the goal was met"
        case ScoringMode.IMPROVEMENT:
            return "% above usual"
        case _:
            return "Points"


def colour_slots(join_order: Sequence[PlayerId]) -> dict[PlayerId, int]:
    """Each player's colour slot: their place in the order they joined the challenge, which
    no rank, score or post changes."""
    return {player: slot for slot, player in enumerate(join_order)}


def cumulative_chart(
    standings: Standings,
    names: Mapping[PlayerId, str],
    *,
    title: str,
    units: Units,
    slots: Mapping[PlayerId, int],
    hidden: AbstractSet[PlayerId] = frozenset(),
) -> ChartInput:
    """The chart of the shown players' running scores, as the daily post and the live page
    draw it."""
    rules = standings.rules
    amounts = rules.mode in {ScoringMode.TOTAL, ScoringMode.AVERAGE}
    series = {}
    legend = {}
    for player, points in cumulative_series(standings).items():
        if player in hidden:
            continue
        series[player] = [
            (day, shown_value(value, rules.metric, units) if amounts else value)
            for day, value in points
        ]
        final = max(points)[1] if points else 0.0
        legend[player] = format_score(final, rules, units)
    return ChartInput(
        series=series,
        names={player: names[player] for player in series if player in names},
        title=title,
        label=chart_label(rules, units),
        legend=legend,
        slots=dict(slots),
    )
