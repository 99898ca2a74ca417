"""What the push (webhook) subscription keepers remember between runs.

A keeper (`bot.providers.withings_subscriptions`) subscribes each linked account at its
provider. It remembers, per provider, in `bot_state`: the accounts still waiting for a
subscription (a failed attempt is retried later) with their attempt counts, and a fingerprint
of the callback URL every active account was last queued for (so accounts linked before push
was configured, or before the URL changed, are subscribed too). Both are small; nothing here
holds a secret.
"""

from __future__ import annotations

import json

from bot.domain import AccountStatus
from bot.storage.db import Database
from bot.storage.state import BotStateRepo


class PushStateRepo:
    """One provider's pending subscriptions and callback fingerprint, and its account ids."""

    def __init__(self, db: Database, provider: str) -> None:
        self._db = db
        self._state = BotStateRepo(db)
        self._provider = provider
        self._pending_key = f"push:{provider}:pending"
        self._callback_key = f"push:{provider}:callback"

    async def active_account_ids(self) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT id FROM linked_accounts WHERE provider = ? AND status = ? ORDER BY id",
            (self._provider, AccountStatus.ACTIVE.value),
        )
        return [int(row[0]) for row in rows]

    async def owner_of_account(self, account_id: int) -> int | None:
        """The Discord user of one of this provider's accounts; None when it is gone."""
        value = await self._db.fetch_value(
            "SELECT discord_id FROM linked_accounts WHERE id = ? AND provider = ?",
            (account_id, self._provider),
        )
        return None if value is None else int(value)

    async def pending(self) -> dict[int, int]:
        """Account id -> failed attempts so far, for the accounts waiting for a subscription."""
        raw = await self._state.get(self._pending_key)
        if not raw:
            return {}
        return {int(account_id): int(attempts) for account_id, attempts in json.loads(raw).items()}

    async def save_pending(self, pending: dict[int, int]) -> None:
        body = json.dumps({str(key): value for key, value in sorted(pending.items())})
        await self._state.set(self._pending_key, body)

    async def callback_fingerprint(self) -> str | None:
        return await self._state.get(self._callback_key)

    async def set_callback_fingerprint(self, fingerprint: str) -> None:
        await self._state.set(self._callback_key, fingerprint)
