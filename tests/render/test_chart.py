"""The cumulative-score chart: a valid, deterministic PNG, whatever the names."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

from bot.render.chart import leaders, render_cumulative_chart
from tests.render.samples import ALICE, BOB, CAROL, NAMES, START, day


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


def test_chart_is_a_valid_png_of_the_documented_size() -> None:
    png = render_cumulative_chart(chart_series(5), NAMES, "June Steps", "Steps")
    assert png_size(png) == (1200, 700)
    assert png.endswith(b"IEND\xaeB`\x82")


def test_chart_bytes_are_identical_for_the_same_input_and_differ_for_another() -> None:
    first = render_cumulative_chart(chart_series(4), NAMES, "June Steps", "Steps")
    second = render_cumulative_chart(chart_series(4), NAMES, "June Steps", "Steps")
    assert first == second
    assert b"Software" not in first  # no matplotlib version to make bytes vary
    other = render_cumulative_chart(chart_series(5), NAMES, "June Steps", "Steps")
    assert other != first


def test_chart_handles_empty_input_many_players_and_awkward_names() -> None:
    # filterwarnings=error: a missing glyph (emoji) or a mathtext error would fail this test.
    awkward = {0: "Ann 🏃‍♀️", 1: "$cash$ money", 2: "_hidden", 3: "\n", 4: "名前"}
    assert png_size(render_cumulative_chart({}, {}, "Empty", "Steps")) == (1200, 700)
    assert png_size(render_cumulative_chart(chart_series(40), awkward, "T 🏆", "km")) == (
        1200,
        700,
    )
    one_day = {ALICE: [(START, 5.0)]}
    assert png_size(render_cumulative_chart(one_day, NAMES, "Day one", "Steps")) == (1200, 700)


def test_chart_colours_go_to_the_leaders_in_leaderboard_order() -> None:
    series = {ALICE: [(START, 5.0)], BOB: [(START, 9.0)], CAROL: [(START, 9.0)]}
    assert leaders(series, {ALICE: "A", BOB: "Zed", CAROL: "Amy"}) == [CAROL, BOB, ALICE]
