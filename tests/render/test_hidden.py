"""Members who chose to hide: no row, podium line, award or day-field line of theirs, and
everyone else keeps the place the scoring gave them (a hidden member's place is a gap)."""

from __future__ import annotations

from bot.domain import Units
from bot.render.leaderboard import render_catch_up_post, render_daily_post, render_results_post
from bot.scoring import compute_awards
from tests.render.samples import (
    ALICE,
    BOB,
    CAROL,
    NAMES,
    assert_fits_discord,
    day,
    row_for,
    sample_standings,
)

METRIC = Units.METRIC


def test_a_hidden_member_has_no_row_and_the_others_keep_their_places() -> None:
    standings = sample_standings(teams={ALICE: "Red", BOB: "Red", CAROL: "Blue"})
    shown = render_daily_post(
        standings, NAMES, units=METRIC, challenge_name="C", day=day(2), hidden={ALICE}
    )
    assert "Alice" not in shown.description
    assert row_for(shown, "Carol").startswith("`1.` Carol")  # tied with Alice: still 1st
    assert row_for(shown, "Bob").startswith("`3.` Bob")  # not moved up to 2nd
    # The team still counts Alice's 36,000 steps; the goal count still counts her.
    teams = {field.name: field.value for field in shown.fields}["Teams"]
    assert "Red · **68,000 steps**" in teams
    assert "✓ 2 of 5 met the goal" in shown.description  # Alice and Carol
    assert_fits_discord(shown)


def test_the_results_leave_out_a_hidden_medallist_and_their_awards() -> None:
    standings = sample_standings(baselines={BOB: 5000})
    awards = compute_awards(standings)
    content = render_results_post(
        standings, awards, NAMES, units=METRIC, challenge_name="June", hidden={BOB}
    )
    assert content.description.splitlines()[:2] == [
        "🥇 **Alice** — 36,000 steps",
        "🥇 **Carol** — 36,000 steps",
    ]
    assert "Bob" not in content.description
    lines = {field.name: field.value for field in content.fields}["Awards"].splitlines()
    assert lines == ["🔥 Longest streak: **Alice**, **Carol** — 3 days"]  # Bob's two are gone
    everyone_hidden = render_results_post(
        standings,
        awards,
        NAMES,
        units=METRIC,
        challenge_name="June",
        hidden={ALICE, BOB, CAROL},
    )
    assert everyone_hidden.description.startswith(
        "The medals went to members who chose not to be shown."
    )


def test_a_catch_up_day_field_skips_a_hidden_member_without_moving_anyone_up() -> None:
    standings = sample_standings()
    content = render_catch_up_post(
        standings,
        NAMES,
        units=METRIC,
        challenge_name="C",
        days=[day(0), day(1)],
        hidden={BOB},
    )
    fields = {field.name: field.value for field in content.fields}
    # On day 1 Bob led with 15,000: the others keep 2nd place.
    assert fields["Tue 3 Jun"].splitlines()[:2] == [
        "🥈 Alice 11,000 steps ✓",
        "🥈 Carol 11,000 steps ✓",
    ]
    assert "Bob" not in content.description + "".join(fields.values())
