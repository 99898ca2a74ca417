"""What a provider notification asks of Stride: fetch this member's data again, soon.

Webhook routes (`bot.web.webhooks`) call `SyncRequests.request(...)` after they have
authenticated and parsed a notification; the durable sync queue (`bot.sync.queue`) implements
it. A notification is a hint to fetch, never data: the queue fetches the member's non-final
days itself.
"""

from __future__ import annotations

from typing import Protocol


class SyncRequests(Protocol):
    async def request(self, provider: str, provider_user_id: str, *, reason: str) -> int:
        """Queue a fetch for every linked account of `provider` with that provider-side user
        id (coalesced: an account already queued is not queued twice); returns how many
        accounts were queued or already waiting (0 for an unknown user). Must return fast:
        it only writes the queue, it never calls the provider."""
        ...
