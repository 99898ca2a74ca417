"""`WithingsSubscriptions`: every active Withings account subscribed to notifications.

- On link (the `account_linked` event) the account is subscribed to activity (appli 16) and
  sleep (appli 44) at once; on unlink and on `/privacy delete` (the `account_unlinking`
  event, emitted while the tokens still exist) both are revoked.
- Neither may fail the link or the unlink: a provider failure or a slow answer (more than
  `attempt_seconds`) is logged; a failed subscription is remembered (`bot.storage.push`) and
  retried by `reconcile()`, the scheduler's job, at most `MAX_ATTEMPTS` times. A failed revoke
  is only logged: the tokens are gone afterwards, and a notification for an account Stride no
  longer has queues nothing.
- `reconcile()` also queues every active account once per callback URL, so accounts linked
  before notifications were enabled, or before the URL changed, are subscribed too.

Calls go through the token manager (`call_with_token`), so an expired access token is
refreshed first. Log lines name account ids only, never a token or the callback URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from bot.domain import AccountStatus
from bot.events import EventBus
from bot.providers.base import ProviderError
from bot.providers.push import WITHINGS_APPLIS
from bot.providers.withings_notify import WithingsNotifyClient
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.storage.push import PushStateRepo

log = logging.getLogger(__name__)

T = TypeVar("T")

PROVIDER = "withings"
JOB_ID = "withings-notify-subscriptions"
JOB_INTERVAL_SECONDS = 15 * 60
MAX_ATTEMPTS = 5
BATCH = 30  # accounts per run: two requests each, well inside 120 a minute
ATTEMPT_SECONDS = 10.0


class TokenCaller(Protocol):
    """What `bot.linking.TokenManager` offers: a call with a valid access token."""

    async def call_with_token(
        self, account: LinkedAccount, fn: Callable[[str], Awaitable[T]]
    ) -> T: ...


def _fingerprint(callback_url: str) -> str:
    return hashlib.sha256(callback_url.encode("utf-8")).hexdigest()


class WithingsSubscriptions:
    """Subscribes accounts on link, revokes on unlink, and retries what failed."""

    def __init__(
        self,
        *,
        client: WithingsNotifyClient,
        tokens: TokenCaller,
        accounts: AccountsRepo,
        state: PushStateRepo,
        attempt_seconds: float = ATTEMPT_SECONDS,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._accounts = accounts
        self._state = state
        self._attempt_seconds = attempt_seconds
        self._lock = asyncio.Lock()  # one read-modify-write of the pending set at a time

    def subscribe(self, events: EventBus) -> None:
        """React to links and unlinks (`account_linked`, `account_unlinking`)."""
        events.on("account_linked", self._on_linked)
        events.on("account_unlinking", self._on_unlinking)

    # -- events -------------------------------------------------------------------------

    async def _on_linked(self, account: LinkedAccount) -> None:
        if account.provider != PROVIDER:
            return
        await self._update_pending(account.id, done=await self._subscribe(account))

    async def _on_unlinking(self, account: LinkedAccount) -> None:
        if account.provider != PROVIDER:
            return
        await self._update_pending(account.id, done=True)
        try:
            async with asyncio.timeout(self._attempt_seconds):
                await self._tokens.call_with_token(account, self._revoke_all)
        except (ProviderError, TimeoutError) as exc:
            log.warning(
                "withings: could not end the notifications of account %d (%s); Withings may "
                "keep sending them, and they will queue nothing",
                account.id,
                _why(exc),
            )
            return
        log.info("withings: ended the notifications of account %d", account.id)

    # -- the job ------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Subscribe the accounts still waiting (and, once per callback URL, every one)."""
        await self._queue_everyone_once()
        pending = await self._state.pending()
        for account_id in sorted(pending)[:BATCH]:
            account = await self._account(account_id)
            if account is None or account.status is not AccountStatus.ACTIVE:
                await self._update_pending(account_id, done=True)
                continue
            await self._update_pending(account_id, done=await self._subscribe(account))

    async def _queue_everyone_once(self) -> None:
        fingerprint = _fingerprint(self._client.callback_url)
        async with self._lock:
            if await self._state.callback_fingerprint() == fingerprint:
                return
            pending = await self._state.pending()
            for account_id in await self._state.active_account_ids():
                pending.setdefault(account_id, 0)
            await self._state.save_pending(pending)
            await self._state.set_callback_fingerprint(fingerprint)
        log.info("withings: %d account(s) queued for notification subscriptions", len(pending))

    async def _account(self, account_id: int) -> LinkedAccount | None:
        owner = await self._state.owner_of_account(account_id)
        return None if owner is None else await self._accounts.get(owner, PROVIDER)

    # -- one account --------------------------------------------------------------------

    async def _subscribe(self, account: LinkedAccount) -> bool:
        try:
            async with asyncio.timeout(self._attempt_seconds):
                await self._tokens.call_with_token(account, self._subscribe_all)
        except (ProviderError, TimeoutError) as exc:
            log.warning(
                "withings: could not subscribe account %d to notifications (%s); will retry",
                account.id,
                _why(exc),
            )
            return False
        log.info("withings: subscribed account %d to notifications", account.id)
        return True

    async def _subscribe_all(self, access_token: str) -> None:
        for appli in WITHINGS_APPLIS:
            await self._client.subscribe(access_token, appli)

    async def _revoke_all(self, access_token: str) -> None:
        for appli in WITHINGS_APPLIS:
            await self._client.revoke(access_token, appli)

    async def _update_pending(self, account_id: int, *, done: bool) -> None:
        """Forget the account (`done`), or count one more failed attempt (giving up at
        `MAX_ATTEMPTS`)."""
        async with self._lock:
            pending = await self._state.pending()
            if done:
                if pending.pop(account_id, None) is None:
                    return
            else:
                attempts = pending.get(account_id, 0) + 1
                if attempts >= MAX_ATTEMPTS:
                    pending.pop(account_id, None)
                    log.warning(
                        "withings: gave up subscribing account %d to notifications after %d "
                        "attempts; its data is still fetched on schedule",
                        account_id,
                        attempts,
                    )
                else:
                    pending[account_id] = attempts
            await self._state.save_pending(pending)


def _why(exc: BaseException) -> str:
    return "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
