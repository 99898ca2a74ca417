"""Challenge administration: presets, validated inputs, players, teams, fair-play reviews.

`model` is the domain (`Challenge`, `Participant`, `ChallengeStatus`, `Phase`,
`GuildSettings`): plain data that `bot.storage` imports, never the reverse. `ChallengeService`
(`service`) is what the cogs and the daily run call; it creates, edits, ends and deletes
challenges itself and delegates to collaborators it builds: `players` (joining, leaving,
kicking; teams by hand or balanced) and `review` (fair-play flags and admins' decisions).
`inputs` parses and validates what admins type (pydantic), `specs` turns a draft or an edit
into a validated spec with the guild's defaults and the preset applied (and a spec into the
challenge to store), `lookup` finds a challenge by the name typed, `presets` holds the classic
formats, `rulebook` turns a stored challenge into the scoring engine's rules, `describe` puts
them in plain words and `teams` balances teams. The service validates everything it is asked
to write first (pydantic models, `bot.scoring.rule_problems`) and writes it in one
transaction, so a bad value gets one `UserError` line and nothing is half-created.

Decisions worth knowing:

* **Dates.** A challenge's days are civil dates in its own time zone; "today" and "in the past"
  are judged there. A new challenge may start today but not earlier.
* **Presets** fix the shape of a challenge; metric, goal, channel, time zone and post time can
  still be chosen. Without an explicit start date a preset starts at the next occurrence in the
  challenge's zone: Daily Showdown and Goal Day today if it is still before the post time, else
  tomorrow; Workweek Hustle the next Monday (this week's only if today is Monday before the
  post time); Weekend Warrior the next Saturday (today if Saturday before the post time);
  Streak like Daily Showdown, for `STREAK_DAYS` days. With an explicit start date, Workweek
  Hustle needs a Monday and Weekend Warrior a Saturday.
* **Streak** challenges are stored in `goal_days` mode with `preset = "streak"`: the daily run
  ranks them by each player's best streak (`ranks_by_streak`) instead of by goal days.
* **Tie-break** (`tie_break`, default `none`: tied players share the place). `goal_days` needs
  a daily goal and is refused for goal-days scoring other than Streak, whose score it already
  is; `first_to_score` needs nothing. The scoring engine applies it (`bot.scoring.tiebreak`).
* **Metric and mode.** Improvement scoring compares with the 14 days before the start (fetched
  from the providers, so no stored history is needed), and is refused for sleep minutes, where
  more is not better. Tier scoring's default tiers are step counts, so other metrics must give
  their own tiers. A points table is only for daily-rank scoring, tiers only for tier scoring.
* **Events.** `challenge_changed` is emitted inside the transaction that creates or edits a
  challenge (a failing handler, e.g. the scheduler, undoes the change). `challenge_ended` is
  emitted after `/challenge end` or a delete is committed: the handler posts results over the
  network, which must neither hold the database nor undo the end. After a delete, `get()`
  returns None for that id: unschedule, post nothing.
* **Ending early.** `/challenge end` makes yesterday (in the challenge's zone) the last day:
  today is not over, and the results the daily run posts at once stop after yesterday. On its
  first day a challenge cannot be ended (nothing would be scored), only deleted.
* **Late joiners** count from the day they join, or from the start when the challenge
  backfills (`late_join_backfill`); `participants.joined_on` is that first day.
"""

from bot.challenges.model import Challenge, ChallengeStatus, GuildSettings, Participant, Phase

__all__ = ["Challenge", "ChallengeStatus", "GuildSettings", "Participant", "Phase"]
