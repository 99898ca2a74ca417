"""Corrections by admins in the posts: the corrected amount itself is marked †, the footer
says what † means (or lists what this post is the first to mention), and a post with many
corrections still fits Discord."""

from __future__ import annotations

import datetime as dt

from bot.domain import Units
from bot.render.leaderboard import (
    CORRECTED_LEGEND,
    render_catch_up_post,
    render_daily_post,
    render_results_post,
)
from bot.scoring import compute_awards, compute_standings
from tests.render.samples import (
    ALICE,
    BOB,
    NAMES,
    assert_fits_discord,
    day,
    goal_rules,
    row_for,
    sample_standings,
    steps,
)

METRIC = Units.METRIC
NOTE = "† corrected by an admin: Bob, Wed 4 Jun: 9,000 steps → 8,000 steps"


def test_the_daily_post_marks_the_corrected_amount_of_its_day_and_explains_it() -> None:
    content = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        day=day(2),
        corrected={(BOB, day(2)), (ALICE, day(0))},  # Alice's is not a day this post shows
        corrections_note=NOTE,
    )
    assert row_for(content, "Bob").startswith("`3.` Bob · 8,000 steps† · ")
    assert row_for(content, "Alice").startswith("`1.` Alice · 13,000 steps ✓ · ")
    assert content.footer.endswith(NOTE)
    assert_fits_discord(content)


def test_a_mark_without_news_still_says_what_it_means_and_no_mark_says_nothing() -> None:
    marked = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        day=day(2),
        corrected={(ALICE, day(2))},  # mentioned by an earlier post
    )
    assert row_for(marked, "Alice").startswith("`1.` Alice · 13,000 steps† ✓ · ")
    assert marked.footer.endswith(f" · {CORRECTED_LEGEND}")
    unmarked = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        day=day(2),
        corrected={(ALICE, day(0))},
        hidden=frozenset(),
    )
    assert "†" not in unmarked.footer and "†" not in unmarked.description
    hidden = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        day=day(2),
        corrected={(ALICE, day(2))},
        hidden=frozenset({ALICE}),  # no row, so no mark to explain
    )
    assert "†" not in hidden.footer


def test_the_catch_up_post_marks_the_corrected_amount_in_its_day_field() -> None:
    content = render_catch_up_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        days=[day(0), day(1), day(2)],
        corrected={(BOB, day(1))},
        corrections_note=NOTE,
    )
    tuesday = dict((name, value) for name, value, _ in content.fields)["Tue 3 Jun"]
    assert tuesday.splitlines()[0] == "🥇 Bob 15,000 steps† ✓"
    assert "†" not in dict((name, value) for name, value, _ in content.fields)["Mon 2 Jun"]
    assert content.footer.endswith(NOTE)
    without_note = render_catch_up_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        days=[day(0), day(1), day(2)],
        corrected={(BOB, day(1))},
    )
    assert without_note.footer.endswith(CORRECTED_LEGEND)


def test_the_results_post_marks_a_corrected_best_day() -> None:
    standings = sample_standings()
    content = render_results_post(
        standings,
        compute_awards(standings),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        corrected={(BOB, day(1))},
        corrections_note=NOTE,
    )
    awards = dict((name, value) for name, value, _ in content.fields)["Awards"]
    assert "Best single day: **Bob** — 15,000 steps† on Tue 3 Jun" in awards
    assert content.footer.endswith(NOTE)


def test_many_corrections_fit_discord_in_every_post() -> None:
    players = range(1, 301)
    values = {pid: [steps(n, 1_000.0 * pid + n) for n in range(14)] for pid in players}
    rules = goal_rules()
    standings = compute_standings(rules, values, through=day(13))
    names = {pid: f"{'W' * 30}{pid}" for pid in players}
    corrected = {(pid, day(n)) for pid in players for n in range(14)}
    note = (
        "† corrected by an admin: "
        + "; ".join(f"{names[pid]}, Mon 2 Jun: 1 step → 2 steps" for pid in players)[:1000]
    )
    last: dt.date = day(13)
    posts = [
        render_daily_post(
            standings,
            names,
            units=METRIC,
            challenge_name="C" * 300,
            day=last,
            corrected=corrected,
            corrections_note=note,
        ),
        render_catch_up_post(
            standings,
            names,
            units=METRIC,
            challenge_name="C" * 300,
            days=[day(n) for n in range(14)],
            corrected=corrected,
            corrections_note=note,
        ),
        render_results_post(
            standings,
            compute_awards(standings),
            names,
            units=METRIC,
            challenge_name="C" * 300,
            corrected=corrected,
            corrections_note=note,
        ),
    ]
    for content in posts:
        assert_fits_discord(content)
        assert "†" in content.footer
