"""The cumulative-score chart attached to the daily post, as PNG bytes.

Built on matplotlib's object API (`Figure` + the Agg canvas), never `pyplot`: pyplot keeps global
state and is not thread-safe, and the caller renders off the event loop with
`asyncio.to_thread(render_cumulative_chart, ...)`. Nothing here touches `rcParams` either, for
the same reason; every size and colour is passed explicitly.

Readable on a phone: 1200x700 px, large type, the leaders' lines in the Okabe-Ito colour-blind
safe palette (with dashes and dots once the colours run out), each player in one style for the
whole challenge (their slot), tied lines side by side with their own markers, everybody else
as thin grey "others", and the legend outside the plot in leaderboard order, each score written
as the posts write it. The same input gives the same bytes (no
timestamp or version in the PNG metadata), so a test or a cache can compare images.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib import font_manager, ft2font
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter
from matplotlib.transforms import offset_copy

from bot.render.text import format_date, truncate

WIDTH_PX = 1200
HEIGHT_PX = 700
DPI = 100
MAX_LABELLED = 10
LEGEND_NAME_CHARS = 16

# Okabe & Ito (2008), without yellow, which is too faint on white; dashes extend it to 21.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
STYLES: tuple[tuple[str, str], ...] = tuple(
    (colour, dashes) for dashes in ("-", "--", ":") for colour in OKABE_ITO
)
# Tied lines: each its own marker, shifted this many points from its neighbour.
TIE_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
TIE_SHIFT_POINTS = 2.5
MARKER_DAYS = 14  # markers on every day up to this many days
OTHERS_COLOUR = "#BBBBBB"
TEXT_COLOUR = "#222222"
GRID_COLOUR = "#E5E5E5"

TITLE_SIZE = 24
LABEL_SIZE = 18
TICK_SIZE = 15
LEGEND_SIZE = 13
MAX_DATE_TICKS = 8

_WHITESPACE = re.compile(r"\s+")

Series = Mapping[int, Sequence[tuple[dt.date, float]]]


@dataclass(frozen=True, slots=True)
class ChartInput:
    """What the chart shows (`bot.render.chart_data.cumulative_chart` makes it).

    `series` are the scores as shown (distances already in the server's unit), `legend` each
    player's final score as the posts write it ('36,000 steps', '+12.5%'), and `slots` each
    player's place in the palette for the whole challenge (their join order), so a player
    keeps their colour from post to post whatever their rank."""

    series: Series
    names: Mapping[int, str]
    title: str
    label: str  # what the scores are, above the y axis: 'Distance (mi)', 'Points'
    legend: Mapping[int, str] = field(default_factory=dict)
    slots: Mapping[int, int] = field(default_factory=dict)


def render_cumulative_chart(chart: ChartInput) -> bytes:
    """A PNG line chart of each player's score over the challenge days.

    The `MAX_LABELLED` players with the highest final score get their own style (from their
    slot) and a legend entry, the rest are grey "others". Players whose lines are the same
    (tied all the way, e.g. four players on 0 goal days) are drawn side by side, a few pixels
    apart, each with its own marker, and their legend entries say "tied"."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # A fixed axes rectangle rather than tight_layout: the layout (and so the bytes) must not
    # depend on the names, and the right quarter is kept for the legend.
    axes = figure.add_axes((0.11, 0.1, 0.58, 0.74))
    figure.suptitle(
        _plain(chart.title),
        x=0.11,
        y=0.96,
        ha="left",
        fontsize=TITLE_SIZE,
        color=TEXT_COLOUR,
        fontweight="bold",
    )
    series = chart.series
    days = sorted({day for points in series.values() for day, _ in points})
    _style_axes(axes, days, chart.label)
    if not days:
        axes.set_xticks([])
        axes.set_yticks([])
        axes.text(
            0.5,
            0.5,
            "No data yet",
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=LABEL_SIZE,
            color="#777777",
        )
    else:
        _draw_lines(axes, chart, days)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def leaders(series: Series, names: Mapping[int, str]) -> list[int]:
    """Players by final score, highest first; ties by name then id (leaderboard order)."""
    return sorted(
        series,
        key=lambda p: (-_final(series[p]), _legend_name(names, p).casefold(), p),
    )


def style_of(chart: ChartInput, player: int) -> tuple[str, str]:
    """A player's colour and dashes, the same in every chart of the challenge: from their
    slot; players without one follow the highest slot, by id."""
    slot = chart.slots.get(player)
    if slot is None:
        unslotted = sorted(p for p in chart.series if p not in chart.slots)
        slot = max(chart.slots.values(), default=-1) + 1 + unslotted.index(player)
    return STYLES[slot % len(STYLES)]


def tie_groups(series: Series, players: Sequence[int]) -> list[list[int]]:
    """`players` whose lines are identical, in groups of two or more (in `players` order)."""
    groups: dict[tuple[tuple[dt.date, float], ...], list[int]] = {}
    for player in players:
        groups.setdefault(tuple(sorted(series[player])), []).append(player)
    return [group for group in groups.values() if len(group) > 1]


def _final(points: Sequence[tuple[dt.date, float]]) -> float:
    return max(points, key=lambda point: point[0])[1] if points else 0.0


def _draw_lines(axes: Axes, chart: ChartInput, days: Sequence[dt.date]) -> None:
    series, names = chart.series, chart.names
    index = {day: i for i, day in enumerate(days)}
    order = leaders(series, names)
    labelled = order[:MAX_LABELLED]
    ties = {p: (group, i) for group in tie_groups(series, labelled) for i, p in enumerate(group)}
    finals = [_final(series[p]) for p in order]
    handles: list[Line2D] = []
    labels: list[str] = []
    for position, player in enumerate(labelled):
        points = sorted(series[player])
        xs = [index[day] for day, _ in points]
        ys = [value for _, value in points]
        colour, dashes = style_of(chart, player)
        (line,) = axes.plot(
            xs,
            ys,
            color=colour,
            linestyle=dashes,
            linewidth=3.2,
            markersize=7,
            zorder=3 + MAX_LABELLED - position,
            **_tie_style(axes, ties.get(player), len(days)),
        )
        handles.append(line)
        final = _final(points)
        tied = ", tied" if finals.count(final) > 1 else ""
        value = chart.legend.get(player) or _number(final)
        # Two lines, so that a long name and a long score both fit beside the plot.
        labels.append(f"{_legend_name(names, player)}\n{value}{tied}")
    # Shifted lines are not counted by autoscaling: the limits take every point in.
    axes.update_datalim([(index[day], value) for p in labelled for day, value in series[p]])
    axes.autoscale_view()
    others = [
        [(index[day], value) for day, value in sorted(series[player])]
        for player in order[MAX_LABELLED:]
    ]
    if others:
        # One collection for everybody else: thousands of separate lines cost seconds and
        # hundreds of MB in a 10,000-player challenge.
        axes.add_collection(LineCollection(others, colors=OTHERS_COLOUR, linewidths=1.5, zorder=2))
        axes.autoscale_view()
        handles.append(Line2D([], [], color=OTHERS_COLOUR, linewidth=3))
        labels.append(f"{len(others)} other{'s' if len(others) != 1 else ''}")
    axes.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=LEGEND_SIZE,
        frameon=False,
        handlelength=2.2,
        borderaxespad=0,
        labelspacing=0.35,
    )


def _tie_style(axes: Axes, tie: tuple[list[int], int] | None, day_count: int) -> dict[str, Any]:
    """A line's marker, and for a line tied with others its own marker and a small vertical
    shift (in points, on screen only: the line's data stay the true scores)."""
    if tie is None:
        return {"marker": "o" if day_count <= MARKER_DAYS else None}
    group, position = tie
    shift = (position - (len(group) - 1) / 2) * TIE_SHIFT_POINTS
    return {
        "marker": TIE_MARKERS[position % len(TIE_MARKERS)],
        "markevery": max(1, math.ceil(day_count / MARKER_DAYS)),
        "transform": offset_copy(axes.transData, fig=figure_of(axes), y=shift, units="points"),
    }


def figure_of(axes: Axes) -> Figure:
    figure = axes.get_figure(root=True)
    if not isinstance(figure, Figure):  # pragma: no cover - every axes here is on a Figure
        raise TypeError("axes without a figure")
    return figure


def _style_axes(axes: Axes, days: Sequence[dt.date], metric_label: str) -> None:
    # Above the plot rather than a rotated y label: easier to read on a phone.
    axes.set_title(_plain(metric_label), loc="left", fontsize=LABEL_SIZE, color="#555555", pad=12)
    axes.tick_params(labelsize=TICK_SIZE, colors=TEXT_COLOUR)
    axes.grid(True, color=GRID_COLOUR, linewidth=1)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _number(value)))
    if days:
        step = max(1, math.ceil(len(days) / MAX_DATE_TICKS))
        ticks = list(range(0, len(days), step))
        axes.xaxis.set_major_locator(FixedLocator(ticks))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _tick_label(days, value)))
        axes.set_xlim(-0.3, len(days) - 0.7)


def _tick_label(days: Sequence[dt.date], value: float) -> str:
    position = round(value)
    if not 0 <= position < len(days):
        return ""
    return format_date(days[position], weekday=False)


def _number(value: float) -> str:
    """'36,000', '12.5', '0.25': enough precision for both steps and kilometres."""
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def _legend_name(names: Mapping[int, str], player: int) -> str:
    name = _plain(names.get(player, "")) or f"Player {player}"
    return truncate(name, LEGEND_NAME_CHARS, measure=len)


def _plain(text: str) -> str:
    """Text matplotlib draws literally: characters the font lacks are dropped (an emoji would
    be an empty box and a warning), and `$` is escaped so it does not start math mode."""
    supported = _font_characters()
    kept = "".join(c if ord(c) in supported and c.isprintable() else " " for c in text)
    return _WHITESPACE.sub(" ", kept).strip().replace("$", r"\$")


@functools.cache
def _font_characters() -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties())
    return frozenset(ft2font.FT2Font(path).get_charmap())
