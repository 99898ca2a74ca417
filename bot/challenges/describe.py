"""A challenge in plain words, for the summary card and `/challenge info`: its rules as
sentences, its dates and its daily post time.

`rule_sentences` states every rule that decides a standing, as the scoring engine
(`bot.scoring`) applies it: how a score is made, which value of a day counts, when a day is
final and what a provisional day without data means, how places, ties and medals go, and how
teams count their members.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.challenges.model import Challenge, format_post_time
from bot.challenges.presets import STREAK_DAYS, Preset
from bot.challenges.rulebook import ranks_by_streak, rules
from bot.domain import ScoringMode, TeamMode, Units
from bot.render.text import format_amount, format_date
from bot.scoring import BASELINE_DAYS, ChallengeRules, TieBreak

_SAME_OR_NEXT_DAY = "the day it is created if that is before the post time, else the next day"
_PRESET_DATES = {  # (how long it runs, when it starts unless a start date is given)
    Preset.DAILY_SHOWDOWN: ("one day", _SAME_OR_NEXT_DAY),
    Preset.GOAL_DAY: ("one day", _SAME_OR_NEXT_DAY),
    Preset.WORKWEEK_HUSTLE: (
        "Monday to Friday",
        "the next Monday (that day when created on a Monday before the post time)",
    ),
    Preset.WEEKEND_WARRIOR: (
        "Saturday and Sunday",
        "the next Saturday (that day when created on a Saturday before the post time)",
    ),
    Preset.STREAK: (f"{STREAK_DAYS} days", _SAME_OR_NEXT_DAY),
}

_TIE_SENTENCES = {
    TieBreak.NONE: "Players with the same score share the place, and the places after them "
    "are skipped (1, 1, 3).",
    TieBreak.GOAL_DAYS: "Players with the same score are told apart by more days with the goal "
    "met; players still level share the place, and the places after them are skipped (1, 1, 3).",
    TieBreak.FIRST_TO_SCORE: "Players with the same score are told apart by who got to it on an "
    "earlier day; players still level share the place, and the places after them are skipped "
    "(1, 1, 3).",
}


def _points_list(points: Sequence[float]) -> str:
    return ", ".join(f"{p:g}" for p in points)


def rule_sentences(
    challenge: Challenge, *, has_teams: bool = False, units: Units = Units.METRIC
) -> list[str]:
    """The challenge's rules in plain words, one sentence per line, amounts in the server's
    `units`."""
    lines = _scoring_sentences(challenge, units)
    lines += _day_sentences(challenge, units)
    lines += _place_sentences(challenge)
    if has_teams:
        lines += _team_sentences(challenge)
    return lines


def _scoring_sentences(challenge: Challenge, units: Units) -> list[str]:
    """How the winner is decided, with what the mode does with a day without data."""
    metric = challenge.metric
    unit = metric.label.lower()
    goal = format_amount(challenge.daily_goal, metric, units) if challenge.daily_goal else None
    effective = rules(challenge)
    match challenge.mode:
        case ScoringMode.TOTAL:
            return [f"Most {unit} in total wins."]
        case ScoringMode.AVERAGE:
            return [
                f"Highest average {unit} per day wins; a day without data counts as 0 once it "
                "is final."
            ]
        case ScoringMode.GOAL_DAYS if ranks_by_streak(challenge):
            return [f"The longest run of days in a row with at least {goal} wins."]
        case ScoringMode.GOAL_DAYS if challenge.days == 1:
            return [
                f"Everyone who reaches {goal} wins.",
                "Nobody else wins: when nobody reaches it, there is no winner.",
            ]
        case ScoringMode.GOAL_DAYS:
            return [f"One point for every day with at least {goal}; most points wins."]
        case ScoringMode.DAILY_RANK:
            return _daily_rank_sentences(challenge, effective)
        case ScoringMode.TIERS:
            tiers = ", ".join(
                f"{format_amount(threshold, metric, units)} = {points:g}"
                for threshold, points in effective.tiers
            )
            default = "" if challenge.tiers else ", the default tiers"
            return [
                f"Every day scores the points of the highest tier it reaches ({tiers}{default}); "
                "most points wins."
            ]
        case ScoringMode.IMPROVEMENT:
            return [
                f"The biggest improvement in {unit} over your own usual day (the median of "
                f"the {BASELINE_DAYS} days before the start), in percent, wins.",
                "Your average over the days so far is compared with it, and a day without "
                "data counts as 0 once it is final.",
                "Without data before the start, the group's median usual day stands in; "
                "when nobody has any, everyone scores 0.",
            ]


def _daily_rank_sentences(challenge: Challenge, effective: ChallengeRules) -> list[str]:
    unit = challenge.metric.label.lower()
    default = "" if challenge.points_table else " (the default table)"
    return [
        f"Every day the top players by {unit} score "
        f"{_points_list(effective.points_table)} points{default}; most points wins.",
        "A zero reading earns no points, and players level on a day share the better place's "
        "points.",
    ]


def _day_sentences(challenge: Challenge, units: Units) -> list[str]:
    """Which value of a day counts, and when a day is final."""
    metric = challenge.metric
    lines = ["A day counts your highest reading across your linked devices, never their sum."]
    if challenge.daily_goal and challenge.mode is not ScoringMode.GOAL_DAYS:
        lines.append(f"Daily goal: {format_amount(challenge.daily_goal, metric, units)}.")
    if challenge.daily_cap is not None:
        cap = format_amount(challenge.daily_cap, metric, units)
        lines.append(f"A day counts up to {cap} at most.")
        if challenge.daily_goal:
            lines.append("The goal is checked against that capped value.")
    lines.append(
        "Manually entered activity counts."
        if challenge.allow_manual
        else "Manually entered activity does not count. Phone uploads (Apple Health) count as "
        "device data: Stride cannot tell the manual entries in them apart."
    )
    lines.append(
        "Players who join late count from the start."
        if challenge.late_join_backfill
        else "Players who join late count from the day they join."
    )
    lines.append(_grace_sentence(challenge.grace_hours))
    provisional = _provisional_sentence(challenge)
    if provisional:
        lines.append(provisional)
    return lines


def _grace_sentence(grace_hours: int) -> str:
    if grace_hours == 0:
        return "A day is final as soon as it ends: later syncs do not count."
    return (
        f"A day stays provisional for {grace_hours} hours after it ends (real hours, even "
        "across a clock change): late syncs count until then, then it is final."
    )


def _provisional_sentence(challenge: Challenge) -> str | None:
    """What a provisional day without data means, where it matters (averages, streaks); None
    without grace hours, when every day is final by the time it is scored."""
    averaged = challenge.mode in {ScoringMode.AVERAGE, ScoringMode.IMPROVEMENT}
    streaks = challenge.daily_goal is not None and challenge.days > 1
    if challenge.grace_hours == 0 or not (averaged or streaks):
        return None
    effects = [
        *(["it is left out of the average"] if averaged else []),
        *(["it breaks no streak"] if streaks else []),
    ]
    return f"A provisional day without data is not a missed day yet: {' and '.join(effects)}."


def _place_sentences(challenge: Challenge) -> list[str]:
    """Places, ties, medals and awards, and the preset's dates."""
    score = (
        "a score above 0% (better than your usual day)"
        if challenge.mode is ScoringMode.IMPROVEMENT
        else "a score above 0"
    )
    lines = [
        _TIE_SENTENCES[challenge.tie_break],
        "Players sharing a place share its medal (1, 1, 3 is two golds and a bronze).",
        f"A medal needs {score}, and every award a day, streak or improvement above 0.",
    ]
    if challenge.preset is not None:
        preset = Preset(challenge.preset)
        if challenge.days == preset.days:
            length, first = _PRESET_DATES[preset]
            lines.append(
                f"{preset.label} runs {length}; unless a start date is given, it starts {first}."
            )
    return lines


def _team_sentences(challenge: Challenge) -> list[str]:
    how = "total" if challenge.team_mode is TeamMode.SUM else "average"
    without = "-100%, as if every day were 0" if challenge.mode is ScoringMode.IMPROVEMENT else "0"
    return [
        f"Teams score the {how} of their members' scores.",
        f"A member without data counts as {without}; teams level on score share the place.",
    ]


def describe_dates(challenge: Challenge) -> str:
    """'Mon 06 May 2024 to Fri 10 May 2024, 5 days (UTC)', or the one day of a one-day challenge."""
    start = format_date(challenge.start, year=True, padded=True)
    if challenge.start == challenge.end:
        return f"{start} ({challenge.time_zone})"
    end = format_date(challenge.end, year=True, padded=True)
    return f"{start} to {end}, {challenge.days} days ({challenge.time_zone})"


def post_time_text(challenge: Challenge) -> str:
    return f"{format_post_time(challenge.post_time)} {challenge.time_zone}"
