"""From what an admin typed to a validated `ChallengeSpec`, and between specs and challenges.

`spec_from_draft` fills a new challenge's draft in with the guild's defaults and its preset;
`edited_spec` applies an edit to a stored challenge and validates the result as a whole (what
may no longer change once it started); `challenge_from_spec` makes the `Challenge` to store.
Nothing here does I/O: the service reads and writes around these functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.challenges.amounts import Amount, parse_amount
from bot.challenges.inputs import (
    ChallengeDraft,
    ChallengeEdit,
    ChallengeSpec,
    canonical_time_zone,
    start_problem,
    today_in,
    validated_spec,
)
from bot.challenges.model import Challenge, ChallengeStatus, GuildSettings
from bot.challenges.presets import DEFAULT_GOALS, Preset, preset_dates
from bot.domain import Metric, Units
from bot.errors import UserError


def spec_from_draft(draft: ChallengeDraft, guild: GuildSettings, now: dt.datetime) -> ChallengeSpec:
    """Fill in the guild's defaults and the preset, then validate (no I/O)."""
    try:
        time_zone = canonical_time_zone(draft.time_zone or guild.time_zone)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    post_time = draft.post_time or guild.post_time
    metric = draft.metric or Metric.STEPS
    start, end = draft.start, draft.end
    mode = draft.mode
    goal = _amount(draft.daily_goal, metric, guild.units)
    if draft.preset is not None:
        preset = draft.preset
        if end is not None and preset is not Preset.STREAK:
            raise UserError(
                f"The {preset.label} preset sets its own end date: leave the end date out."
            )
        local_now = now.astimezone(ZoneInfo(time_zone))
        if start is not None and (problem := start_problem(start, local_now.date(), time_zone)):
            raise UserError(problem)  # before the preset's date arithmetic
        start, preset_end = preset_dates(preset, local_now, post_time, start)
        end = end or preset_end
        mode = mode or preset.mode
        if preset.needs_goal and goal is None:
            goal = DEFAULT_GOALS[metric]
    if mode is None:
        raise UserError("Pick a scoring mode, or a preset that sets one.")
    if start is None or end is None:
        raise UserError("Give a start date and an end date, or pick a preset that sets them.")
    data = {
        **draft.model_dump(),  # every draft field is a spec field
        "metric": metric,
        "mode": mode,
        "start": start,
        "end": end,
        "post_time": post_time,
        "time_zone": time_zone,
        "daily_goal": goal,
        "daily_cap": _amount(draft.daily_cap, metric, guild.units),
    }
    return validated_spec(data, now=now, new=True, units=guild.units)


def edited_spec(
    current: Challenge, changes: ChallengeEdit, now: dt.datetime, units: Units = Units.METRIC
) -> ChallengeSpec:
    """`current` with `changes` applied, validated as a whole (goals and caps read in the
    server's `units`); a UserError when the challenge has ended, a started challenge's start,
    metric or scoring would change, or a new end date is in the past."""
    if current.status is ChallengeStatus.ENDED:
        raise UserError(f"“{current.name}” has ended: it can no longer be edited.")
    given = changes.model_dump(exclude_none=True)
    metric = Metric(given.get("metric", current.metric))
    for field in ("daily_goal", "daily_cap"):
        if field in given:
            given[field] = parse_amount(given[field], metric, units)
    for field in ("daily_goal", "daily_cap", "max_players"):
        if given.get(field) == 0:
            given[field] = None  # 0 removes the limit
    data = {**_spec_data(current), **given}
    if "mode" in given and given["mode"] != current.mode:
        data["preset"] = None  # the preset's shape no longer applies
        # Nor does the old mode's points table or tiers, which no edit option can remove:
        # only those given with the new mode are kept.
        data["points_table"] = given.get("points_table")
        data["tiers"] = given.get("tiers")
    today = current.today(now)
    if today >= current.start:
        locked = [
            label
            for field, label in (
                ("start", "start date"),
                ("metric", "metric"),
                ("mode", "scoring"),
            )
            if field in given and given[field] != getattr(current, field)
        ]
        if locked:
            raise UserError(
                f"“{current.name}” has already started, so its {' and '.join(locked)} can no "
                "longer change."
            )
    spec = validated_spec(data, now=now, new="start" in given, units=units)
    new_today = today_in(spec.time_zone, now)
    if "end" in given and spec.end < new_today:
        raise UserError(
            f"The end date {spec.end.isoformat()} is in the past: to stop the challenge "
            "now, use /challenge end."
        )
    return spec


def _amount(value: Amount | None, metric: Metric, units: Units) -> float | None:
    return None if value is None else parse_amount(value, metric, units)


def challenge_from_spec(
    spec: ChallengeSpec, guild_id: int, created_by: int, created_at: dt.datetime
) -> Challenge:
    """The active challenge `spec` describes, not stored yet (`id` 0)."""
    return Challenge(
        id=0,
        guild_id=guild_id,
        **spec.model_dump(exclude={"preset"}),
        preset=None if spec.preset is None else spec.preset.value,
        status=ChallengeStatus.ACTIVE,
        ended_at=None,
        created_by=created_by,
        created_at=created_at,
    )


def _spec_data(challenge: Challenge) -> dict[str, Any]:
    """A stored challenge's settings as `ChallengeSpec` input (for validating an edit)."""
    data = {field: getattr(challenge, field) for field in ChallengeSpec.model_fields}
    data["preset"] = Preset(challenge.preset) if challenge.preset else None
    return data
