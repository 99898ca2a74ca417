"""Baselines: each player's usual day, from the fortnight before a challenge's start.

`baseline_need_of` is the fortnight to fetch for the players whose baseline is not fetched yet
(late joiners too), and `own_baselines` works each one out from that fetch alone, under the
challenge's own manual-entry policy, so nothing another challenge fetches ever changes it;
what a member's phone uploaded for that fortnight (a provider that is never fetched from,
Apple Health) counts too, read from storage, and alone once it covers
`MIN_SENT_BASELINE_DAYS` days.

`BaselineWatch` does that during the fetch: as soon as the answers of all of a player's
accounts are in, their baseline is worked out and the fortnight behind it let go (a run on a
challenge's first day holds 15 values of every member otherwise: 1.5 million at 100,000
members), keeping of each answer only the days the run still needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence

from bot.challenges.model import Challenge
from bot.daily.fetch import ChallengeNeed, FetchJob, FetchOutcome, manual_variant
from bot.domain import DailyValue
from bot.providers.base import Provider
from bot.scoring import BASELINE_DAYS, ChallengeRules, baseline_from_history
from bot.storage.values import BaselineRow

BaselineTarget = tuple[Challenge, frozenset[int]]  # a challenge, players whose baseline is due
# A fetch reads a provider's whole record of the fortnight; what a phone sent is only what
# it happened to send. Half the fortnight is enough to tell a member's usual day.
MIN_SENT_BASELINE_DAYS = 7
Sent = Mapping[int, Sequence[DailyValue]]  # what players' devices sent, by player


def baseline_need_of(challenge: Challenge, players: frozenset[int]) -> ChallengeNeed | None:
    """The fortnight before the start, for these players; None when there are none."""
    if not players:
        return None
    return ChallengeNeed(
        challenge_id=challenge.id,
        players=players,
        metric=challenge.metric,
        first=challenge.start - dt.timedelta(days=BASELINE_DAYS),
        last=challenge.start - dt.timedelta(days=1),
        include_manual=challenge.allow_manual,
    )


def own_baselines(
    challenge: Challenge,
    rules: ChallengeRules,
    players: Collection[int],
    outcomes: Sequence[FetchOutcome],
    providers: Mapping[str, Provider],
    sent: Sent | None = None,
) -> list[BaselineRow]:
    """The baseline of each of `players` whose every account with the metric was fetched:
    the median of their own fortnight from this fetch alone, in the answer asked for under
    the challenge's manual-entry policy (a fetch for another challenge may ask both ways),
    together with what their devices sent for it by themselves (`sent`: Apple Health's
    uploads, stored as they came). A player with an account that failed is left out, and so
    is one with nothing fetched and fewer than `MIN_SENT_BASELINE_DAYS` sent days: tried
    again next run (the group's usual day stands in meanwhile)."""
    sent = sent or {}
    by_player: defaultdict[int, list[FetchOutcome]] = defaultdict(list)
    for outcome in outcomes:
        player = outcome.job.account.discord_id
        if player in players and challenge.metric in outcome.job.metrics:
            by_player[player].append(outcome)
    rows = []
    for player in sorted(set(by_player) | {p for p in players if p in sent}):
        mine, values = by_player.get(player, []), list(sent.get(player, ()))
        if any(outcome.failure is not None for outcome in mine):
            continue
        if not mine and len({value.day for value in values}) < MIN_SENT_BASELINE_DAYS:
            continue
        for outcome in mine:
            asked = manual_variant(challenge.allow_manual, providers[outcome.job.account.provider])
            values += [value for value in outcome.values if value.includes_manual == asked]
        rows.append(BaselineRow(challenge.id, player, baseline_from_history(rules, values)))
    return rows


class BaselineWatch:
    """Takes every outcome as the fetch hands it over (`take`) and gives back what to keep of
    it: the days in `keep` only (all of them without `keep`), once the player's baselines
    due in `targets` were worked out from it (`rows`, for `done` players). An outcome of a
    player with another account still to come is kept whole until that one is in; a player
    with an account fetched by another process never gets done here (their baselines come
    from all outcomes at the end, as before)."""

    def __init__(
        self,
        *,
        targets: Sequence[BaselineTarget],
        rules: Callable[[Challenge], ChallengeRules],
        providers: Mapping[str, Provider],
        sent: Mapping[int, Sent],
        jobs: Sequence[FetchJob],
        keep: tuple[dt.date, dt.date] | None,
    ) -> None:
        self._targets = [(challenge, rules(challenge), players) for challenge, players in targets]
        self._providers = providers
        self._sent = sent
        self._keep = keep
        due = {player for _, players in targets for player in players}
        self._left = Counter(
            job.account.discord_id for job in jobs if job.account.discord_id in due
        )
        self._pending: defaultdict[int, list[FetchOutcome]] = defaultdict(list)
        self.rows: list[BaselineRow] = []
        self.done: set[int] = set()

    def take(self, outcome: FetchOutcome) -> FetchOutcome:
        player = outcome.job.account.discord_id
        if self._left[player] > 0:
            self._pending[player].append(outcome)
            self._left[player] -= 1
            if self._left[player] > 0:
                return outcome  # another account of theirs is still to come: kept whole
            self._work_out(player, self._pending.pop(player))
        return self.lean(outcome)

    def take_rows(self) -> list[BaselineRow]:
        """The rows worked out since the last call."""
        rows, self.rows = self.rows, []
        return rows

    def lean(self, outcome: FetchOutcome) -> FetchOutcome:
        """The outcome with the days in `keep` only."""
        if self._keep is None:
            return outcome
        first, last = self._keep
        kept = tuple(value for value in outcome.values if first <= value.day <= last)
        return (
            outcome
            if len(kept) == len(outcome.values)
            else dataclasses.replace(outcome, values=kept)
        )

    def _work_out(self, player: int, outcomes: Sequence[FetchOutcome]) -> None:
        for challenge, rules, players in self._targets:
            if player in players:
                self.rows += own_baselines(
                    challenge, rules, (player,), outcomes, self._providers, self._sent[challenge.id]
                )
        self.done.add(player)
