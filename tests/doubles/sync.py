"""`RecordingSync`: a recording `SyncRequests` for the webhook routes (the real queue is
`bot.sync.queue`).

It coalesces as the real queue does: a provider user asked for twice is queued once. `calls`
records every request, so a test sees both what the route asked and what was queued.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SyncCall:
    provider: str
    provider_user_id: str
    reason: str


@dataclass
class RecordingSync:
    calls: list[SyncCall] = field(default_factory=list)
    queued: set[tuple[str, str]] = field(default_factory=set)
    error: Exception | None = None
    gate: asyncio.Event | None = None  # held: the queue is slow

    async def request(self, provider: str, provider_user_id: str, *, reason: str) -> int:
        self.calls.append(SyncCall(provider, provider_user_id, reason))
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        self.queued.add((provider, provider_user_id))
        return 1

    def users(self, provider: str) -> list[str]:
        """The provider users asked for, in order (repeats included)."""
        return [call.provider_user_id for call in self.calls if call.provider == provider]
