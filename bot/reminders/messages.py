"""The reminders' DM and the `/remind` replies: Discord markdown, names escaped.

A line per challenge: "3,200 steps to go in **June Steps** — you're 2nd, 800 steps behind
Ana". In a challenge without a daily goal the line is the gap to the next place ("You're 2nd
in **June Steps**, 800 steps behind Ana"), and there is none for the leader.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import Metric, Units
from bot.nudges.messages import score_gap
from bot.render.text import escape_markdown, format_amount, printable_name
from bot.scoring import ChallengeRules

TURN_OFF = "-# /remind off stops these."


def ordinal(place: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st…"""
    teens = 10 <= place % 100 <= 20
    return f"{place}{'th' if teens else {1: 'st', 2: 'nd', 3: 'rd'}.get(place % 10, 'th')}"


def shown(name: str) -> str:
    return escape_markdown(printable_name(name))


Ahead = tuple[str, float]
"""Who is just ahead of a member (their name, or their place), and by how much."""


def behind_text(ahead: Ahead, rules: ChallengeRules, units: Units) -> str:
    """'800 steps behind Ana'."""
    name, gap = ahead
    return f"{score_gap(gap, rules, units)} behind {shown(name)}"


def place_text(rank: int, ahead: Ahead | None, rules: ChallengeRules, units: Units) -> str:
    """ "you're 2nd, 800 steps behind Ana", or "you're 1st" without anyone ahead."""
    if ahead is None:
        return f"you're {ordinal(rank)}"
    return f"you're {ordinal(rank)}, {behind_text(ahead, rules, units)}"


def goal_line(
    challenge_name: str,
    remaining: float,
    metric: Metric,
    units: Units,
    place: str,
) -> str:
    """'3,200 steps to go in **June Steps** — you're 2nd, 800 steps behind Ana'."""
    return (
        f"{format_amount(remaining, metric, units)} to go in **{shown(challenge_name)}** — {place}"
    )


def rank_line(
    challenge_name: str, rank: int, ahead: Ahead, rules: ChallengeRules, units: Units
) -> str:
    """ "You're 2nd in **June Steps**, 800 steps behind Ana" (no daily goal)."""
    return (
        f"You're {ordinal(rank)} in **{shown(challenge_name)}**, {behind_text(ahead, rules, units)}"
    )


def reminder_text(lines: list[str]) -> str:
    return "⏰ " + "\n⏰ ".join(lines) + f"\n{TURN_OFF}"


def status_reply(at: dt.time, zone: str, *, own_zone: bool) -> str:
    """What `/remind` says about a reminder that is on."""
    whose = "" if own_zone else " (yours, or your challenge's)"
    return (
        f"Your reminder is on: every day at {at.hour:02d}:{at.minute:02d} in {zone}{whose}, "
        "with what is left of today's goal in each running challenge you play (or, without "
        "a goal, how far the next place is); nothing when there is nothing left to do. "
        "/remind off stops it."
    )


OFF_REPLY = "Your reminders are off. /remind on 20:00 sends you one a day at 20:00."
