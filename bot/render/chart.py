"""The cumulative-score chart attached to the daily post, as PNG bytes.

Built on matplotlib's object API (`Figure` + the Agg canvas), never `pyplot`: pyplot keeps global
state and is not thread-safe, and the caller renders off the event loop with
`asyncio.to_thread(render_cumulative_chart, ...)`. Nothing here touches `rcParams` either, for
the same reason; every size and colour is passed explicitly.

Readable on a phone: 1200x700 px, large type, the leaders' lines in the Okabe-Ito colour-blind
safe palette (with dashes once the colours run out), everybody else as thin grey "others", and
the legend outside the plot in leaderboard order. The same input gives the same bytes (no
timestamp or version in the PNG metadata), so a test or a cache can compare images.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from collections.abc import Mapping, Sequence

from matplotlib import font_manager, ft2font
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

from bot.render.text import format_date, truncate

WIDTH_PX = 1200
HEIGHT_PX = 700
DPI = 100
MAX_LABELLED = 10
LEGEND_NAME_CHARS = 16

# Okabe & Ito (2008), without yellow, which is too faint on white; dashes extend it to ten.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
STYLES: tuple[tuple[str, str], ...] = tuple((c, "-") for c in OKABE_ITO) + tuple(
    (c, "--") for c in OKABE_ITO[:3]
)
OTHERS_COLOUR = "#BBBBBB"
TEXT_COLOUR = "#222222"
GRID_COLOUR = "#E5E5E5"

TITLE_SIZE = 24
LABEL_SIZE = 18
TICK_SIZE = 15
LEGEND_SIZE = 15
MAX_DATE_TICKS = 8

_WHITESPACE = re.compile(r"\s+")

Series = Mapping[int, Sequence[tuple[dt.date, float]]]


def render_cumulative_chart(
    series: Series,
    names: Mapping[int, str],
    title: str,
    metric_label: str,
) -> bytes:
    """A PNG line chart of each player's score over the challenge days.

    `series` is `bot.scoring.cumulative_series(standings)`; `names` maps player id to display
    name; `metric_label` labels the y axis (e.g. "Steps"). The `MAX_LABELLED` players with the
    highest final score get a colour and a legend entry, the rest are grey "others"."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    # A fixed axes rectangle rather than tight_layout: the layout (and so the bytes) must not
    # depend on the names, and the right quarter is kept for the legend.
    axes = figure.add_axes((0.09, 0.1, 0.6, 0.74))
    figure.suptitle(
        _plain(title),
        x=0.09,
        y=0.96,
        ha="left",
        fontsize=TITLE_SIZE,
        color=TEXT_COLOUR,
        fontweight="bold",
    )
    days = sorted({day for points in series.values() for day, _ in points})
    _style_axes(axes, days, metric_label)
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
        _draw_lines(axes, series, names, days)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def leaders(series: Series, names: Mapping[int, str]) -> list[int]:
    """Players by final score, highest first; ties by name then id (leaderboard order)."""
    return sorted(
        series,
        key=lambda p: (-_final(series[p]), _legend_name(names, p).casefold(), p),
    )


def _final(points: Sequence[tuple[dt.date, float]]) -> float:
    return max(points, key=lambda point: point[0])[1] if points else 0.0


def _draw_lines(
    axes: Axes, series: Series, names: Mapping[int, str], days: Sequence[dt.date]
) -> None:
    index = {day: i for i, day in enumerate(days)}
    order = leaders(series, names)
    marker = "o" if len(days) <= 14 else None
    handles: list[Line2D] = []
    labels: list[str] = []
    others: list[list[tuple[float, float]]] = []
    for position, player in enumerate(order):
        points = sorted(series[player])
        xs = [index[day] for day, _ in points]
        ys = [value for _, value in points]
        if position < MAX_LABELLED:
            colour, dashes = STYLES[position]
            (line,) = axes.plot(
                xs,
                ys,
                color=colour,
                linestyle=dashes,
                linewidth=3.2,
                marker=marker,
                markersize=6,
                zorder=3 + MAX_LABELLED - position,
            )
            handles.append(line)
            labels.append(f"{_legend_name(names, player)} ({_compact(_final(points))})")
        else:
            others.append(list(zip(xs, ys, strict=True)))
    if others:
        # One collection for everybody else: thousands of separate lines cost seconds and
        # hundreds of MB in a 10,000-player challenge.
        axes.add_collection(LineCollection(others, colors=OTHERS_COLOUR, linewidths=1.5, zorder=2))
        axes.autoscale_view()
    hidden = len(order) - len(handles)
    if hidden:
        handles.append(Line2D([], [], color=OTHERS_COLOUR, linewidth=3))
        labels.append(f"{hidden} other{'s' if hidden != 1 else ''}")
    axes.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=LEGEND_SIZE,
        frameon=False,
        handlelength=2.2,
        borderaxespad=0,
    )


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


def _compact(value: float) -> str:
    """'104k', '1.2M', '950', '12.5': short enough for the legend."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return _number(value)


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
