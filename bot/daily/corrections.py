"""Corrections by admins as the standings count them, as pure functions.

* `effective`: the adjustment that counts for each (player, day): the latest one.
* `with_corrections`: a player's counted values with their adjusted days replaced by the
  adjusted value (it counts whatever the providers said, the manual-entry policy or a
  fair-play exclusion; the daily cap still applies, as to every value).
* `footnote`: what a post says about the corrections it is the first to mention (the ones it
  claimed, `bot.daily.mentions`), hidden members unnamed (`public_names`), within
  `NOTE_LIMIT`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from bot.domain import DailyValue, Metric, Units
from bot.render.text import CORRECTED_MARK, display_name, fit_lines, format_amount, format_date
from bot.storage.adjustments import Adjustment

MARK = CORRECTED_MARK
NOTE_LIMIT = 1000  # of a post's footer (2,048): many corrections end in "…and N more"
HIDDEN_NAME = "a member"  # who a correction is about, when that member chose to hide

Corrected = dict[tuple[int, dt.date], Adjustment]


def effective(adjustments: Iterable[Adjustment]) -> Corrected:
    """The latest adjustment of each (player, day), from adjustments oldest first."""
    latest: Corrected = {}
    for adjustment in adjustments:
        latest[(adjustment.discord_id, adjustment.day)] = adjustment
    return latest


def with_corrections(
    metric: Metric, player: int, counted: Sequence[DailyValue], corrected: Corrected
) -> list[DailyValue]:
    """`counted` with each day the admins adjusted replaced by the adjusted value."""
    days = {day: a.new_value for (who, day), a in corrected.items() if who == player}
    if not days:
        return list(counted)
    kept = [value for value in counted if value.day not in days]
    return kept + [DailyValue(metric, day, value) for day, value in sorted(days.items())]


def public_names(names: Mapping[int, str], hidden: AbstractSet[int]) -> dict[int, str]:
    """The names a public post gives the players a correction is about: hidden members'
    left out (`HIDDEN_NAME`)."""
    return {player: HIDDEN_NAME if player in hidden else name for player, name in names.items()}


def amount_change(adjustment: Adjustment, metric: Metric, units: Units) -> str:
    """'8,000 steps → 10,000 steps' ('no data → …' for a day without data)."""
    before = adjustment.old_value
    old = "no data" if before is None else format_amount(before, metric, units)
    return f"{old} → {format_amount(adjustment.new_value, metric, units)}"


def footnote(
    adjustments: Sequence[Adjustment],
    names: Mapping[int, str],
    metric: Metric,
    units: Units,
) -> str | None:
    """'† corrected by an admin: Ana, Tue 2 Jun: 8,000 steps → 10,000 steps (a final day)'
    for `adjustments` (as many as fit in `NOTE_LIMIT`, then '…and N more'); None without
    any."""
    if not adjustments:
        return None
    head = f"{MARK} corrected by an admin: "
    parts = [
        f"{display_name(names, a.discord_id)}, {format_date(a.day)}: "
        f"{amount_change(a, metric, units)}{' (a final day)' if a.was_final else ''};"
        for a in adjustments
    ]
    # One line per correction to fit them whole, then on one line as a footer reads.
    fitted = fit_lines(parts, NOTE_LIMIT - len(head)).replace("\n", " ")
    return head + fitted.removesuffix(";")
