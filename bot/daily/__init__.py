"""The daily run and the standings: fetch, score, finalise and post every due challenge.

For each challenge with work, one run plans the days whose post is due and that have no run
record yet, fetches what is new, scores it and posts it; after downtime several days are
scored once each, in order, and one catch-up post covers them. A day is frozen at its grace
end, from a fetch at that instant. The modules, one job each:

- `runner`: `DailyRunner`, the orchestrator: the scheduler jobs (per challenge, one at its
  post time and one at its next grace end; an hourly sweep), the event subscriptions,
  `run_due`, the results of an early end and the baseline of a player who just joined.
- `plan`: what is due at an instant (`Planner`, the `Work` of one challenge, `post_kind`).
- `collect`: the fetch step: what each challenge needs (players' own baselines included),
  fetched once for all of them, stored in one transaction and handed to the fair-play review
  (`Collector`).
- `fetch`: fetching itself: one job per linked account, on a bounded pool of workers.
- `once`: several processes on one database: this process's shards only, the leased claim
  on each challenge's scoring and posting, and each account fetched once per run.
- `score`: standings written down: score rows, streaks, run records, finalised days and
  their `day_finalised` events, in one transaction (`Scorer`).
- `post`: the daily, catch-up and results posts with their chart, sent through the
  `Messenger` and recorded as posted or failed (`Poster`).
- `standings`: the read model: a challenge's standings from stored data (`StandingsReader`,
  `Board`, `PlayerSummary`), for the run and for `/leaderboard` and `/me`.
- `calendar`: when a day is posted, when it is final and when the results come (pure time
  arithmetic).
- `report`: what one run did (`RunReport`).
- `recap`, `recap_content`: the weekly recap after a chosen day's post, and the "weekly only"
  mode (`RecapService`); what a recap says.
- `adjust`, `corrections`: corrections by admins (`AdjustmentService`) and how the standings
  count them.
- `source`: what all of them need from the challenges (`ChallengeSource`).
"""

from bot.daily.calendar import calendar_of
from bot.daily.report import RunReport
from bot.daily.runner import DailyRunner
from bot.daily.standings import Board, PlayerSummary, StandingsReader

__all__ = ["Board", "DailyRunner", "PlayerSummary", "RunReport", "StandingsReader", "calendar_of"]
