"""A challenge in plain words, for the summary card and `/challenge info`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.challenges.model import Challenge, format_post_time
from bot.challenges.rulebook import ranks_by_streak, rules
from bot.domain import ScoringMode, TeamMode
from bot.fair_play import format_amount


def _points_list(points: Sequence[float]) -> str:
    return ", ".join(f"{p:g}" for p in points)


def describe_rules(challenge: Challenge, *, has_teams: bool = False) -> list[str]:
    """The challenge's rules in plain words, one sentence per line."""
    metric = challenge.metric
    unit = metric.label.lower()
    goal = format_amount(metric, challenge.daily_goal) if challenge.daily_goal else None
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
                f"{format_amount(metric, threshold)} = {points:g}"
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
        lines.append(f"A day counts up to {format_amount(metric, challenge.daily_cap)} at most.")
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
    if challenge.start == challenge.end:
        return f"{challenge.start:%a %d %b %Y} ({challenge.time_zone})"
    return (
        f"{challenge.start:%a %d %b %Y} to {challenge.end:%a %d %b %Y}, "
        f"{challenge.days} days ({challenge.time_zone})"
    )


def post_time_text(challenge: Challenge) -> str:
    return f"{format_post_time(challenge.post_time)} {challenge.time_zone}"
