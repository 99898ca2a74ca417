"""The daily, catch-up and results posts, as a reader would see them."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import Metric, ScoringMode, Units
from bot.render.leaderboard import render_catch_up_post, render_daily_post, render_results_post
from bot.render.text import escape_markdown
from bot.scoring import ChallengeRules, TieBreak, compute_awards, compute_standings
from tests.render.samples import (
    ALICE,
    BOB,
    CAROL,
    DAN,
    END,
    EVE,
    NAMES,
    START,
    assert_fits_discord,
    day,
    goal_rules,
    row_for,
    sample_standings,
    steps,
)

# --------------------------------------------------------------------------- daily post

METRIC = Units.METRIC


def test_daily_post_row_shows_rank_name_day_value_goal_score_change_and_streak() -> None:
    content = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        day=day(2),
        previous_ranks={ALICE: 1, BOB: 2, CAROL: 3, EVE: 4},
    )
    assert content.title == "June Steps — Wed 4 Jun"
    assert row_for(content, "Alice") == "`1.` Alice · 13,000 steps ✓ · **36,000 steps** \u2013 🔥3"
    assert row_for(content, "Carol") == "`1.` Carol · 13,000 steps ✓ · **36,000 steps** ▲2 🔥3"
    assert row_for(content, "Bob") == "`3.` Bob · 8,000 steps · **32,000 steps** ▼1"
    assert row_for(content, "Eve") == "`4.` Eve · — · **3,000 steps** \u2013"
    assert row_for(content, "Dan") == "`5.` Dan · no data yet"
    assert "✓ 2 of 5 met the goal" in content.description
    assert_fits_discord(content)


def test_first_daily_post_has_no_change_column_and_newcomers_are_marked_new() -> None:
    first = render_daily_post(
        sample_standings(), NAMES, units=METRIC, challenge_name="C", day=day(2)
    )
    assert "▲" not in first.description
    assert "new" not in row_for(first, "Alice")
    later = render_daily_post(
        sample_standings(),
        NAMES,
        units=METRIC,
        challenge_name="C",
        day=day(2),
        previous_ranks={BOB: 1},
    )
    assert row_for(later, "Alice").endswith("new 🔥3")


def test_streak_flame_appears_from_two_days() -> None:
    values = {ALICE: [steps(0, 10_000)], BOB: [steps(0, 10_000), steps(1, 10_000)]}
    standings = compute_standings(goal_rules(), values, through=day(1))
    content = render_daily_post(standings, NAMES, units=METRIC, challenge_name="C", day=day(1))
    assert "🔥" not in row_for(content, "Alice")  # a one-day streak is just today's ✓
    assert row_for(content, "Bob").endswith("🔥2")


def test_provisional_day_is_marked_in_title_description_and_footer() -> None:
    standings = sample_standings(provisional_days=frozenset({day(2)}))
    content = render_daily_post(standings, NAMES, units=METRIC, challenge_name="C", day=day(2))
    assert content.title.endswith("⏳")
    assert "late syncs can still change this day" in content.description
    assert "standings include provisional days" in content.footer
    final = render_daily_post(
        sample_standings(), NAMES, units=METRIC, challenge_name="C", day=day(2)
    )
    assert "⏳" not in final.title
    assert "Provisional" not in final.description


def test_tied_players_are_listed_by_name_not_by_id() -> None:
    values = {10: [steps(0, 500)], 2: [steps(0, 500)]}
    standings = compute_standings(goal_rules(), values, through=day(0))
    content = render_daily_post(
        standings, {10: "Anna", 2: "Zoe"}, units=METRIC, challenge_name="C", day=day(0)
    )
    assert content.description.index("Anna") < content.description.index("Zoe")


def test_names_cannot_inject_markdown_or_extra_rows() -> None:
    evil = "<@123> **Boss**\n`9.` [click](https://x.y)"
    standings = compute_standings(goal_rules(), {ALICE: [steps(0, 1)]}, through=day(0))
    content = render_daily_post(
        standings, {ALICE: evil}, units=METRIC, challenge_name="C", day=day(0)
    )
    rows = content.description.split("**Standings so far**\n")[1].splitlines()
    assert len(rows) == 1  # the newline in the name did not start a second row
    assert "\\*\\*Boss\\*\\*" in rows[0]
    assert "\\`9.\\` \\[click\\]\\(" in rows[0]
    assert "\\<\\@123" in rows[0]
    assert escape_markdown("a_b|c~d") == "a\\_b\\|c\\~d"


def test_unknown_player_gets_a_placeholder_name() -> None:
    standings = compute_standings(goal_rules(), {77: [steps(0, 1)]}, through=day(0))
    content = render_daily_post(standings, {}, units=METRIC, challenge_name="C", day=day(0))
    assert "Player 77" in content.description


def test_teams_field_lists_team_scores_and_how_many_members_sync() -> None:
    teams = {ALICE: "Red", BOB: "Red", CAROL: "Blue", DAN: "Blue"}
    content = render_daily_post(
        sample_standings(teams=teams), NAMES, units=METRIC, challenge_name="C", day=day(2)
    )
    assert content.fields[0].name == "Teams"
    assert content.fields[0].value.splitlines() == [
        "`1.` Red · **68,000 steps** · 2/2 syncing",
        "`2.` Blue · **36,000 steps** · 1/2 syncing",
    ]


def test_five_hundred_players_with_long_names_fit_with_and_n_more() -> None:
    values = {pid: [steps(0, float(pid))] for pid in range(1, 501)}
    names = {pid: f"{'W' * 40} number {pid} with_markdown*" for pid in values}
    teams = {pid: f"Team {'X' * 200} {pid % 100}" for pid in values}
    standings = compute_standings(goal_rules(), values, through=day(0), teams=teams)
    content = render_daily_post(
        standings, names, units=METRIC, challenge_name="N" * 400, day=day(0), previous_ranks={}
    )
    assert_fits_discord(content)
    lines = content.description.splitlines()
    shown = [line for line in lines if line.startswith("`")]
    assert lines[-1] == f"…and {500 - len(shown)} more"
    assert len(shown) >= 20
    assert shown[0].startswith("`1.` WWWW")  # the leader (highest id) is listed first
    assert content.fields[0].value.splitlines()[-1].startswith("…and ")


names_strategy = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=600),
    name=names_strategy,
    challenge=names_strategy,
    team_count=st.integers(min_value=0, max_value=60),
    days=st.integers(min_value=1, max_value=14),
)
def test_every_post_fits_discord_limits(
    count: int, name: str, challenge: str, team_count: int, days: int
) -> None:
    values = {pid: [steps(d, 10_000.0 + pid) for d in range(days)] for pid in range(1, count + 1)}
    names = {pid: f"{name}{pid}" for pid in values}
    teams = {pid: f"{name}{pid % team_count}" for pid in values} if team_count else {}
    standings = compute_standings(goal_rules(), values, through=day(days - 1), teams=teams)
    posts = [
        render_daily_post(
            standings, names, units=METRIC, challenge_name=challenge, day=day(days - 1)
        ),
        render_catch_up_post(
            standings,
            names,
            units=METRIC,
            challenge_name=challenge,
            days=[day(d) for d in range(days)],
        ),
        render_results_post(
            standings, compute_awards(standings), names, units=METRIC, challenge_name=challenge
        ),
    ]
    for post in posts:
        assert_fits_discord(post)
        if count:
            assert post.description  # never cut down to nothing


def test_daily_rank_rows_show_the_points_earned_that_day() -> None:
    values = {ALICE: [steps(0, 9000)], BOB: [steps(0, 8000)]}
    rules = ChallengeRules(Metric.STEPS, ScoringMode.DAILY_RANK, START, END)
    standings = compute_standings(rules, values, through=day(0))
    content = render_daily_post(standings, NAMES, units=METRIC, challenge_name="C", day=day(0))
    assert row_for(content, "Alice") == "`1.` Alice · 9,000 steps +3 pts · **3 pts**"
    assert row_for(content, "Bob") == "`2.` Bob · 8,000 steps +2 pts · **2 pts**"


# --------------------------------------------------------------------------- results post


def test_results_post_podium_shares_medals_on_ties_and_lists_awards() -> None:
    standings = sample_standings(baselines={BOB: 5000})
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="June Steps"
    )
    assert content.title == "🏁 June Steps — final results"
    assert content.description.splitlines()[:3] == [
        "🥇 **Alice** — 36,000 steps",
        "🥇 **Carol** — 36,000 steps",
        "🥉 **Bob** — 32,000 steps",
    ]
    assert "`4.` Eve · **3,000 steps**" in content.description
    assert "`5.` Dan · no data yet" in content.description
    awards = {f.name: f.value for f in content.fields}["Awards"].splitlines()
    assert awards == [
        "⭐ Best single day: **Bob** — 15,000 steps on Tue 3 Jun",
        "🔥 Longest streak: **Alice**, **Carol** — 3 days",
        "📈 Most improved: **Bob** — +113% over their usual",
    ]
    assert_fits_discord(content)


def test_results_post_when_nobody_synced() -> None:
    standings = compute_standings(goal_rules(), {ALICE: [], BOB: []}, through=END)
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="Quiet"
    )
    assert content.description.startswith("Nobody synced any data")
    assert content.fields == ()


def test_results_post_never_says_nobody_synced_when_somebody_did() -> None:
    # Improvement: a final day without data counts as 0, so the three players who never synced
    # are at -100% and the only one who did, below her usual, is 1st. Below her usual is no
    # improvement: no medal, but she did sync.
    values = {ALICE: [steps(0, 8000)], BOB: [], CAROL: [], DAN: []}
    rules = ChallengeRules(Metric.STEPS, ScoringMode.IMPROVEMENT, START, END)
    standings = compute_standings(rules, values, through=day(0), baselines={ALICE: 10_000})
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="Quiet"
    )
    assert "Nobody synced" not in content.description
    assert content.description.startswith(
        "No medals: nobody beat their usual day.\n\n**Final standings**"
    )
    assert row_for(content, "Alice") == "`1.` Alice · **-20.0%**"
    assert row_for(content, "Bob") == "`2.` Bob · no data yet"
    assert_fits_discord(content)


def test_a_goal_day_podium_names_only_those_who_reached_the_goal() -> None:
    goal_day = ChallengeRules(Metric.STEPS, ScoringMode.GOAL_DAYS, START, START, daily_goal=10_000)
    values = {ALICE: [steps(0, 12_000)], BOB: [steps(0, 10_000)], CAROL: [steps(0, 4000)]}
    standings = compute_standings(goal_day, values, through=START)
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="Goal Day"
    )
    assert content.description.splitlines()[:2] == [
        "🥇 **Alice** — 1 day",
        "🥇 **Bob** — 1 day",
    ]
    assert "🥈" not in content.description and "🥉" not in content.description
    assert row_for(content, "Carol") == "`3.` Carol · **0 days**"
    assert_fits_discord(content)


def test_a_goal_day_nobody_reached_has_no_winners() -> None:
    goal_day = ChallengeRules(Metric.STEPS, ScoringMode.GOAL_DAYS, START, START, daily_goal=10_000)
    values = {ALICE: [steps(0, 9000)], BOB: [steps(0, 4000)]}
    standings = compute_standings(goal_day, values, through=START)
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="Goal Day"
    )
    assert content.description.startswith("No medals: nobody reached the goal.")
    assert "🥇" not in content.description
    assert row_for(content, "Alice") == "`1.` Alice · **0 days**"
    awards = {f.name: f.value for f in content.fields}["Awards"]
    assert awards == "⭐ Best single day: **Alice** — 9,000 steps on Mon 2 Jun"


def test_results_of_zeros_name_no_medal_and_no_best_day() -> None:
    rules = ChallengeRules(Metric.STEPS, ScoringMode.TOTAL, START, END)
    values = {ALICE: [steps(0, 0)], BOB: [steps(1, 0)]}
    standings = compute_standings(rules, values, through=END)
    content = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="Quiet"
    )
    assert content.description.startswith("No medals: nobody scored.")
    assert "🥇" not in content.description
    assert content.fields == ()  # no award for a day of 0 steps


def test_a_tie_break_ranks_tied_players_apart_in_every_post_and_says_so() -> None:
    broken = ChallengeRules(
        Metric.STEPS, ScoringMode.TOTAL, START, END, daily_goal=10_000, tie_break=TieBreak.GOAL_DAYS
    )
    values = {
        ALICE: [steps(0, 10_000), steps(1, 10_000)],  # 20,000, 2 goal days
        BOB: [steps(0, 15_000), steps(1, 5000)],  # 20,000, 1 goal day
        CAROL: [steps(0, 5000)],
    }
    standings = compute_standings(broken, values, through=day(1))
    daily = render_daily_post(standings, NAMES, units=METRIC, challenge_name="C", day=day(1))
    assert "ties: more goal days" in daily.description.splitlines()[0]
    assert row_for(daily, "Alice").startswith("`1.` Alice")
    assert row_for(daily, "Bob").startswith("`2.` Bob")
    results = render_results_post(
        standings, compute_awards(standings), NAMES, units=METRIC, challenge_name="C"
    )
    assert results.description.splitlines()[:3] == [
        "🥇 **Alice** — 20,000 steps",
        "🥈 **Bob** — 20,000 steps",
        "🥉 **Carol** — 5,000 steps",
    ]
    assert "ties: more goal days" in results.footer


# --------------------------------------------------------------------------- catch-up post


def test_catch_up_post_has_one_field_per_missed_day_with_its_top_three() -> None:
    standings = sample_standings(provisional_days=frozenset({day(2)}))
    content = render_catch_up_post(
        standings,
        NAMES,
        units=METRIC,
        challenge_name="June Steps",
        days=[day(2), day(0), day(1)],
        previous_ranks={ALICE: 1},
    )
    assert content.title == "June Steps — Mon 2 Jun \u2013 Wed 4 Jun"
    assert [f.name for f in content.fields] == ["Mon 2 Jun", "Tue 3 Jun", "Wed 4 Jun ⏳"]
    assert content.fields[1].value.splitlines() == [
        "🥇 Bob 15,000 steps ✓",
        "🥈 Alice 11,000 steps ✓",
        "🥈 Carol 11,000 steps ✓",
        "✓ 3 of 5 met the goal",
    ]
    assert "Catching up on 3 days" in content.description
    assert row_for(content, "Carol").endswith("**36,000 steps** new 🔥3")
    assert_fits_discord(content)


def test_catch_up_over_many_days_keeps_the_latest_days_and_says_how_many_are_left_out() -> None:
    long_rules = ChallengeRules(Metric.STEPS, ScoringMode.TOTAL, START, START + dt.timedelta(90))
    values = {pid: [steps(d, 1000.0 * pid) for d in range(60)] for pid in range(1, 30)}
    standings = compute_standings(long_rules, values, through=day(59))
    content = render_catch_up_post(
        standings, {}, units=METRIC, challenge_name="Long", days=[day(d) for d in range(60)]
    )
    assert_fits_discord(content)
    assert content.fields[-1].name == "Thu 31 Jul"
    shown = len(content.fields)
    assert f"…and {60 - shown} earlier days not shown" in content.description
