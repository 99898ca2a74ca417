"""Opt-in nudges by DM: "Ana just passed you" and "2,300 steps to today's goal".

Off for every member until they turn them on (`/nudges on`); on for every challenge until an
admin turns them off (`/challenge nudges`). The live sync calls `NudgeService.after_sync`
once it stored a member's new values. The modules, one job each:

- `service`: `NudgeService`, the two switches and `after_sync` (what is due, at most one per
  member, recorded before it is sent).
- `detect`: what is worth a nudge, as pure functions (`passed_by`, `goal_gap`) and the
  `Nudge` it makes.
- `policy`: `NudgePolicy`, the interval between two nudges and the waking hours.
- `messages`: the DM texts.
"""

from bot.nudges.detect import Nudge, NudgeKind
from bot.nudges.policy import NudgePolicy
from bot.nudges.service import NudgeService

__all__ = ["Nudge", "NudgeKind", "NudgePolicy", "NudgeService"]
