"""The nudges' DM texts: Discord markdown, every name and challenge name escaped.

A nudge says only what the challenge's leaderboard already shows (a display name, a score
gap, today's value against the goal) and ends with how to turn nudges off.
"""

from __future__ import annotations

from bot.domain import Metric, ScoringMode, Units
from bot.render.standings import format_score
from bot.render.text import escape_markdown, format_amount, printable_name
from bot.scoring import ChallengeRules

TURN_OFF = "-# /nudges off stops these."


def score_gap(gap: float, rules: ChallengeRules, units: Units) -> str:
    """A difference of two scores in the challenge's terms: '1,110 steps', '2 days',
    '3 pts', '1.2 mi', '4.5 percentage points'."""
    if rules.mode is ScoringMode.IMPROVEMENT:
        return f"{gap:.1f} percentage points"
    return format_score(gap, rules, units)


def passed_text(
    challenge_name: str, passer_name: str, gap: float, rules: ChallengeRules, units: Units
) -> str:
    """'**Ana** just passed you in **June Steps**: 1,110 steps ahead of you now.'"""
    return (
        f"🏃 **{_shown(passer_name)}** just passed you in **{_shown(challenge_name)}**: "
        f"{score_gap(gap, rules, units)} ahead of you now.\n{TURN_OFF}"
    )


def goal_text(challenge_name: str, remaining: float, metric: Metric, units: Units) -> str:
    """'2,300 steps to today's goal in **June Steps**.' (distances in the server's units)"""
    return (
        f"🎯 {format_amount(remaining, metric, units)} to today's goal in "
        f"**{_shown(challenge_name)}**.\n{TURN_OFF}"
    )


def _shown(name: str) -> str:
    return escape_markdown(printable_name(name))
