"""What the daily run and the standings read from the challenges (`ChallengeSource`).

`bot.challenges.ChallengeService` is the one implementation; the protocol keeps `bot.daily`
from depending on how challenges are stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from bot.challenges.model import Challenge, Participant
from bot.domain import Metric
from bot.scoring import ChallengeRules


class ChallengeSource(Protocol):
    """What the daily run needs from `bot.challenges.ChallengeService`."""

    async def active_challenges(self) -> list[Challenge]: ...

    async def get(self, challenge_id: int) -> Challenge | None: ...

    async def participants(self, challenge_id: int) -> list[Participant]: ...

    def rules(self, challenge: Challenge) -> ChallengeRules: ...

    async def excluded_days(self, challenge_id: int) -> set[tuple[int, dt.date]]: ...

    async def review_new_values(
        self, challenge_id: int, values: Sequence[tuple[int, Metric | str, dt.date, float]]
    ) -> Sequence[object]: ...

    async def finish(self, challenge_id: int) -> None: ...
