"""The cumulative-score chart: a valid, deterministic PNG whatever the names; one colour per
player for the whole challenge; tied lines that can be told apart; legends as the posts write
scores."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bot.domain import DailyValue, Metric, ScoringMode, Units
from bot.render import chart as chart_module
from bot.render.chart import ChartInput, leaders, render_cumulative_chart
from bot.render.chart_data import colour_slots, cumulative_chart
from bot.scoring import ChallengeRules, Standings, compute_standings
from tests.render.samples import ALICE, BOB, CAROL, DAN, END, EVE, NAMES, START, day


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    chunk = data[12 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(chunk) == crc
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def chart_series(count: int) -> dict[int, list[tuple[dt.date, float]]]:
    return {pid: [(day(d), float((d + 1) * 1000 * pid)) for d in range(10)] for pid in range(count)}


def chart_of(
    series: dict[int, list[tuple[dt.date, float]]],
    names: dict[int, str],
    title: str,
    label: str = "Steps",
) -> ChartInput:
    return ChartInput(series=series, names=names, title=title, label=label)


@contextmanager
def drawn_lines() -> Iterator[dict[str, Line2D]]:
    """The lines each render draws, by legend label (name, a newline, the score)."""
    lines: dict[str, Line2D] = {}
    original = Axes.legend

    def legend(self: Axes, handles: list[Line2D], labels: list[str], **kwargs: object) -> object:
        lines.clear()
        lines.update({label: handle for handle, label in zip(handles, labels, strict=True)})
        return original(self, handles, labels, **kwargs)

    with mock.patch.object(Axes, "legend", legend):
        yield lines


def test_chart_is_a_valid_png_of_the_documented_size() -> None:
    png = render_cumulative_chart(chart_of(chart_series(5), NAMES, "June Steps"))
    assert png_size(png) == (1200, 700)
    assert png.endswith(b"IEND\xaeB`\x82")


def test_chart_bytes_are_identical_for_the_same_input_and_differ_for_another() -> None:
    first = render_cumulative_chart(chart_of(chart_series(4), NAMES, "June Steps"))
    second = render_cumulative_chart(chart_of(chart_series(4), NAMES, "June Steps"))
    assert first == second
    assert b"Software" not in first  # no matplotlib version to make bytes vary
    other = render_cumulative_chart(chart_of(chart_series(5), NAMES, "June Steps"))
    assert other != first


def test_chart_handles_empty_input_many_players_and_awkward_names() -> None:
    # filterwarnings=error: a missing glyph (emoji) or a mathtext error would fail this test.
    awkward = {0: "Ann 🏃‍♀️", 1: "$cash$ money", 2: "_hidden", 3: "\n", 4: "名前"}
    assert png_size(render_cumulative_chart(chart_of({}, {}, "Empty"))) == (1200, 700)
    many = chart_of(chart_series(40), awkward, "T 🏆", "km")
    assert png_size(render_cumulative_chart(many)) == (1200, 700)
    one_day = {ALICE: [(START, 5.0)]}
    assert png_size(render_cumulative_chart(chart_of(one_day, NAMES, "Day one"))) == (1200, 700)


def test_chart_legend_goes_in_leaderboard_order() -> None:
    series = {ALICE: [(START, 5.0)], BOB: [(START, 9.0)], CAROL: [(START, 9.0)]}
    assert leaders(series, {ALICE: "A", BOB: "Zed", CAROL: "Amy"}) == [CAROL, BOB, ALICE]


def _standings(
    values: dict[int, list[float]],
    mode: ScoringMode = ScoringMode.TOTAL,
    metric: Metric = Metric.STEPS,
    goal: float | None = None,
) -> Standings:
    rules = ChallengeRules(metric, mode, START, END, daily_goal=goal)
    daily = {
        player: [DailyValue(metric, day(n), value) for n, value in enumerate(days)]
        for player, days in values.items()
    }
    return compute_standings(rules, daily, through=day(max(len(v) for v in values.values()) - 1))


def test_a_players_colour_stays_the_same_when_ranks_change() -> None:
    slots = colour_slots([ALICE, BOB, CAROL])  # the order they joined
    # Day 1: Alice leads; day 2: Carol leads and Alice is last.
    monday = _standings({ALICE: [9000], BOB: [5000], CAROL: [1000]})
    tuesday = _standings({ALICE: [9000, 0], BOB: [5000, 6000], CAROL: [1000, 20_000]})
    colours = []
    for standings in (monday, tuesday):
        chart = cumulative_chart(standings, NAMES, title="June", units=Units.METRIC, slots=slots)
        with drawn_lines() as lines:
            render_cumulative_chart(chart)
        colours.append({name: line.get_color() for name, line in lines.items()})
    ranks_monday = [name.split("\n")[0] for name in colours[0]]
    ranks_tuesday = [name.split("\n")[0] for name in colours[1]]
    assert ranks_monday == ["Alice", "Bob", "Carol"] and ranks_tuesday == ["Carol", "Bob", "Alice"]
    by_name = [
        {label.split("\n")[0]: c for label, c in day_colours.items()} for day_colours in colours
    ]
    assert by_name[0] == by_name[1]
    assert len(set(by_name[0].values())) == 3


def test_tied_lines_are_drawn_apart_with_their_own_markers_and_say_tied() -> None:
    four_on_zero = {player: [500.0, 700.0] for player in (ALICE, BOB, CAROL, DAN)}
    standings = _standings(
        {**four_on_zero, EVE: [12_000.0, 11_000.0]}, mode=ScoringMode.GOAL_DAYS, goal=10_000
    )
    chart = cumulative_chart(
        standings,
        NAMES,
        title="Goal days",
        units=Units.METRIC,
        slots=colour_slots([ALICE, BOB, CAROL, DAN, EVE]),
    )
    with drawn_lines() as lines:
        render_cumulative_chart(chart)
    tied = {label: line for label, line in lines.items() if not label.startswith("Eve")}
    assert sorted(tied) == [f"{name}\n0 days, tied" for name in ("Alice", "Bob", "Carol", "Dan")]
    assert "Eve\n2 days" in lines
    # The data stay the true scores; each line has its own marker and its own shift on screen.
    assert {tuple(line.get_ydata()) for line in tied.values()} == {(0.0, 0.0)}
    assert len({line.get_marker() for line in tied.values()}) == 4
    screen_y = {line.get_transform().transform((0, 0))[1] for line in tied.values()}
    assert len(screen_y) == 4
    axes = next(iter(tied.values())).axes
    assert axes is not None and axes.get_ylim()[0] < 0 < axes.get_ylim()[1]  # in view
    assert len({line.get_color() for line in lines.values()}) == 5


def test_legends_write_scores_as_the_posts_do_in_the_servers_units() -> None:
    km = {ALICE: [8.0, 4.0], BOB: [5.0, 5.0]}
    standings = _standings(km, metric=Metric.DISTANCE)
    metric_chart = cumulative_chart(standings, NAMES, title="Km", units=Units.METRIC, slots={})
    imperial = cumulative_chart(standings, NAMES, title="Mi", units=Units.IMPERIAL, slots={})
    assert metric_chart.legend == {ALICE: "12.0 km", BOB: "10.0 km"}
    assert imperial.legend == {ALICE: "7.5 mi", BOB: "6.2 mi"}
    assert (metric_chart.label, imperial.label) == ("Distance (km)", "Distance (mi)")
    assert imperial.series[ALICE][-1][1] == metric_chart.series[ALICE][-1][1] / 1.609344
    with drawn_lines() as lines:
        render_cumulative_chart(imperial)
    assert sorted(lines) == ["Alice\n7.5 mi", "Bob\n6.2 mi"]


def test_improvement_legends_carry_percent() -> None:
    rules = ChallengeRules(Metric.STEPS, ScoringMode.IMPROVEMENT, START, END)
    daily = {ALICE: [DailyValue(Metric.STEPS, day(0), 12_000)]}
    standings = compute_standings(rules, daily, through=day(0), baselines={ALICE: 10_000})
    chart = cumulative_chart(standings, NAMES, title="Better", units=Units.METRIC, slots={})
    assert chart.legend == {ALICE: "+20.0%"}
    assert chart.label == "% above usual"


def test_hidden_members_have_no_line_and_are_not_among_the_others() -> None:
    standings = _standings({ALICE: [9000], BOB: [5000], CAROL: [1000]})
    chart = cumulative_chart(
        standings, NAMES, title="June", units=Units.METRIC, slots={}, hidden=frozenset({BOB})
    )
    assert sorted(chart.series) == [ALICE, CAROL]
    assert BOB not in chart.names and BOB not in chart.legend
    with drawn_lines() as lines:
        render_cumulative_chart(chart)
    assert sorted(lines) == ["Alice\n9,000 steps", "Carol\n1,000 steps"]


def test_style_slots_cover_twenty_one_players_before_repeating() -> None:
    assert len(set(chart_module.STYLES)) == 21
