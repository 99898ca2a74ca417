"""A challenge in plain words, for the summary card and `/challenge info`: its rules as
sentences, its dates and its daily post time."""

from __future__ import annotations

from collections.abc import Sequence

from bot.challenges.model import Challenge, format_post_time
from bot.challenges.rulebook import ranks_by_streak, rules
from bot.domain import ScoringMode, TeamMode
from bot.render.text import format_amount, format_date


def _points_list(points: Sequence[float]) -> str:
    return ", ".join(f"{p:g}" for p in points)


def rule_sentences(challenge: Challenge, *, has_teams: bool = False) -> list[str]:
    """The challenge's rules in plain words, one sentence per line."""
    metric = challenge.metric
    unit = metric.label.lower()
    goal = format_amount(challenge.daily_goal, metric) if challenge.daily_goal else None
    effective = rules(challenge)
    lines: list[str]
    match challenge.mode:
        case ScoringMode.TOTAL:
            lines = [f"Most {unit} in total wins."]
        case ScoringMode.AVERAGE:
            lines = [f"Highest average {unit} per day wins; a day without data counts as 0."]
        case ScoringMode.GOAL_DAYS if ranks_by_streak(challenge):
            lines = [f"The longest run of days in a row with at least {goal} wins."]
        case ScoringMode.GOAL_DAYS if challenge.days == 1:
            lines = [f"Everyone who reaches {goal} wins."]
        case ScoringMode.GOAL_DAYS:
            lines = [f"One point for every day with at least {goal}; most points wins."]
        case ScoringMode.DAILY_RANK:
            lines = [
                f"Every day the top players by {unit} score "
                f"{_points_list(effective.points_table)} points; most points wins."
            ]
        case ScoringMode.TIERS:
            tiers = ", ".join(
                f"{format_amount(threshold, metric)} = {points:g}"
                for threshold, points in effective.tiers
            )
            lines = [f"Every day scores points by tier ({tiers}); most points wins."]
        case ScoringMode.IMPROVEMENT:
            lines = [
                f"The biggest improvement in {unit} over your own usual day (the median of "
                "the 14 days before the start), in percent, wins."
            ]
    if goal and challenge.mode is not ScoringMode.GOAL_DAYS:
        lines.append(f"Daily goal: {goal}.")
    if challenge.daily_cap is not None:
        lines.append(f"A day counts up to {format_amount(challenge.daily_cap, metric)} at most.")
    lines.append(
        "Manually entered activity counts."
        if challenge.allow_manual
        else "Manually entered activity does not count."
    )
    lines.append(
        "Players who join late count from the start."
        if challenge.late_join_backfill
        else "Players who join late count from the day they join."
    )
    if has_teams:
        how = "total" if challenge.team_mode is TeamMode.SUM else "average"
        lines.append(f"Teams score the {how} of their members' scores.")
    lines.append(f"Late syncs count for {challenge.grace_hours} hours after a day ends.")
    return lines


def describe_dates(challenge: Challenge) -> str:
    """'Mon 06 May 2024 to Fri 10 May 2024, 5 days (UTC)', or the one day of a one-day challenge."""
    start = format_date(challenge.start, year=True, padded=True)
    if challenge.start == challenge.end:
        return f"{start} ({challenge.time_zone})"
    end = format_date(challenge.end, year=True, padded=True)
    return f"{start} to {end}, {challenge.days} days ({challenge.time_zone})"


def post_time_text(challenge: Challenge) -> str:
    return f"{format_post_time(challenge.post_time)} {challenge.time_zone}"
