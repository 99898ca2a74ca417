"""`TokenManager`: valid access tokens for linked accounts, and revoking their grants.

`call_with_token(account, fn)` is how anything (the daily run) talks to a provider on a user's
behalf. It refreshes shortly before expiry and once on `AccessTokenRejected`, one refresh at a
time per account (an `asyncio.Lock` within the process, a lease in the database across
processes: `bot.linking.lease`), the new pair committed before it is used; a revoked grant
marks the account `needs_relink`, DMs the user once, and re-raises. A lapsed membership
(`MembershipLapsed`) is recorded and told once, the link kept; the next call that works clears
it. `revoke` ends a grant at the provider, best effort, and says how that went
(`RevokeOutcome`). `AccountUnusable` is the `GrantRevoked` raised for an account there is
nothing to call with.

Tokens never appear in a log line or an exception message: log lines name the provider and the
account id only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.linking.colours import COLOUR_WARN
from bot.linking.lease import REFRESH_LEASE, AccountGone, RefreshLeases, Sleep
from bot.linking.reads import TokenReads
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    MembershipLapsed,
    Provider,
    ProviderError,
    TokenSet,
)
from bot.providers.oauth import missing_scopes
from bot.render.leaderboard import EmbedContent
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.storage.db import Database, in_transaction

if TYPE_CHECKING:
    from bot.notify import Messenger

log = logging.getLogger(__name__)

T = TypeVar("T")

# Refresh this long before the access token expires, so a fetch never starts with a token
# that dies half-way through a paged download.
REFRESH_MARGIN = dt.timedelta(minutes=5)
# How long an unlink waits for another process's refresh (seconds, unless the holder crashed).
REVOKE_PATIENCE = dt.timedelta(seconds=30)


class AccountUnusable(GrantRevoked):
    """The account is unlinked, deleted or waiting for a re-link: nothing to call with.

    A `GrantRevoked`, so the daily run skips the player with the same `except` clause.
    """


class RevokeOutcome(StrEnum):
    REVOKED = "revoked"  # the provider confirmed (or the grant was already gone)
    NOT_OFFERED = "not_offered"  # the provider has no revocation (Withings): the user does it
    FAILED = "failed"  # the provider did not answer; tokens are deleted on our side anyway
    PROVIDER_DISABLED = "provider_disabled"  # configured off since the link was made


def _relink_hint(display_name: str) -> str:
    return f"Use `/link` in your server and choose **{display_name}** to link it again."


class TokenManager:
    """Valid access tokens for linked accounts, refreshed as needed, one refresh at a time.

    `call_with_token` is the only way to use an account's tokens. Never call it inside
    `Database.transaction()`: a rotated refresh token must be committed before the new access
    token is used (Oura's and Withings' old refresh token stop working then), and inside a
    transaction a later rollback would lose it. It raises `RuntimeError` there.
    """

    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        providers: Mapping[str, Provider],
        clock: Clock,
        messenger: Messenger,
        refresh_margin: dt.timedelta = REFRESH_MARGIN,
        lease_owner: str | None = None,
        refresh_lease: dt.timedelta = REFRESH_LEASE,
        lease_sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._accounts = AccountsRepo(db, cipher)
        self._reads = TokenReads(self._accounts)
        self._providers = providers
        self._clock = clock
        self._messenger = messenger
        self._margin = refresh_margin
        # One lock per account id, alive while anyone holds or waits for it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._leases = RefreshLeases(
            self._accounts, clock, owner=lease_owner, duration=refresh_lease, sleep=lease_sleep
        )

    def lock_for(self, account_id: int) -> asyncio.Lock:
        """The lock that serialises refreshes (and revocation) of one account in this process."""
        lock = self._locks.get(account_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[account_id] = lock
        return lock

    @contextlib.asynccontextmanager
    async def exclusive(
        self, account_id: int, *, patience: dt.timedelta | None = None
    ) -> AsyncIterator[None]:
        """No refresh of the account runs meanwhile, in this process (its lock) or in another
        one sharing the database (its lease, waited for at most `patience` when given).
        Without `patience`, `AccountUnusable` when the account was unlinked meanwhile."""
        async with self.lock_for(account_id):
            try:
                async with self._leases.hold(account_id, patience=patience):
                    yield
            except AccountGone:
                raise AccountUnusable(f"account {account_id} is no longer linked") from None

    async def call_with_token(self, account: LinkedAccount, fn: Callable[[str], Awaitable[T]]) -> T:
        """Await `fn(access_token)` with a valid token for `account`, and return its result.

        - The token is refreshed first when it expires within the refresh margin.
        - When `fn` raises `AccessTokenRejected`, the token is refreshed once and `fn` is
          awaited once more; a second rejection propagates.
        - Concurrent callers for one account share one refresh: the first does it and commits
          the new pair, the others wait and then use what it stored.
        - `GrantRevoked` (from the refresh or from `fn`) marks the account `needs_relink`, DMs
          the user once per breakage, and propagates; so does `AccountUnusable` (a subclass) for
          an account that is unlinked or already waiting for a re-link, without any request.
        - `MembershipLapsed` (the provider refuses the member's data) is recorded, DMed once
          per lapse (across restarts) and propagates; the account stays active, and the next
          call that works for it clears the record.
        - Other `ProviderError`s (`ProviderUnavailable`, `RateLimited`, …) propagate untouched.
        - Concurrent callers in other processes on the same database wait for the account's
          refresh lease, then use the tokens its holder stored.
        """
        if in_transaction():
            raise RuntimeError("call_with_token must not run inside a database transaction")
        provider = self._provider_for(account)
        tokens = await self._current_tokens(account)
        try:
            result = await self._call_refreshing(account, provider, tokens, fn)
        except GrantRevoked as exc:
            if not isinstance(exc, AccountUnusable):
                await self._needs_relink(account, provider, failed=tokens.access_token)
            raise
        except MembershipLapsed:
            await self._membership_lapsed(account, provider, tokens)
            raise
        if account.membership_lapsed_at is not None:
            log.info("%s: data of account %d flows again", account.provider, account.id)
            await self._accounts.clear_membership_lapsed(account.id)
        return result

    async def _call_refreshing(
        self,
        account: LinkedAccount,
        provider: Provider,
        tokens: TokenSet,
        fn: Callable[[str], Awaitable[T]],
    ) -> T:
        """`fn` with a fresh token: refreshed first near expiry, and once after a 401."""
        if tokens.expires_at - self._margin <= self._clock.now():
            tokens = await self._refresh(account, provider, stale=tokens.access_token)
        try:
            return await fn(tokens.access_token)
        except AccessTokenRejected:
            log.info(
                "%s: access token of account %d rejected; refreshing once",
                account.provider,
                account.id,
            )
            tokens = await self._refresh(account, provider, stale=tokens.access_token)
            return await fn(tokens.access_token)

    def _provider_for(self, account: LinkedAccount) -> Provider:
        provider = self._providers.get(account.provider)
        if provider is None:
            raise AccountUnusable(f"{account.provider} is not enabled in this Stride")
        return provider

    async def _current_tokens(self, account: LinkedAccount) -> TokenSet:
        # Read together with the other calls' reads (`bot.linking.reads`), as fresh as alone.
        found = await self._reads.status_and_tokens(account.id)
        if found is None:
            raise AccountUnusable(f"{account.provider}: account {account.id} is no longer linked")
        status, tokens = found
        if status is not AccountStatus.ACTIVE:
            raise AccountUnusable(f"{account.provider}: account {account.id} needs a re-link")
        return tokens

    async def _refresh(self, account: LinkedAccount, provider: Provider, *, stale: str) -> TokenSet:
        """A token newer than `stale`: someone else's fresh refresh, or our own.

        Shielded: a caller cancelled mid-refresh (a shutdown) must not drop a pair the
        provider may already have rotated to; the refresh finishes and commits on its own,
        still holding the lock, so nobody refreshes with the spent token meanwhile.
        """
        return await asyncio.shield(self._refresh_locked(account, provider, stale=stale))

    async def _refresh_locked(
        self, account: LinkedAccount, provider: Provider, *, stale: str
    ) -> TokenSet:
        async with self.exclusive(account.id):
            current = await self._current_tokens(account)
            now = self._clock.now()
            if current.access_token != stale and current.expires_at - self._margin > now:
                # Refreshed while we waited, here or by another process: never spend the old
                # refresh token (a single-use one is gone).
                return current
            if current.refresh_token is None:
                raise GrantRevoked(f"{account.provider}: no refresh token to renew access with")
            fresh = await provider.refresh(current.refresh_token)
            # Committed before anyone uses it: the old refresh token may be dead from now on.
            await self._accounts.update_tokens(account.id, fresh, self._clock.now())
            log.info("%s: refreshed the tokens of account %d", account.provider, account.id)
            stored = await self._accounts.tokens(account.id)
            return stored if stored is not None else fresh

    async def _needs_relink(
        self, account: LinkedAccount, provider: Provider, *, failed: str
    ) -> None:
        async with self.lock_for(account.id):
            stored = await self._accounts.tokens(account.id)
            if stored is None or stored.access_token != failed:
                # Re-linked (or unlinked) while this call ran: the new grant is not broken.
                return
            now = self._clock.now()
            await self._accounts.set_status(account.id, AccountStatus.NEEDS_RELINK, now)
        log.info(
            "%s: grant of account %d is no longer valid; marked needs_relink",
            account.provider,
            account.id,
        )
        messenger = self._messenger
        if not messenger.connected:
            return  # no Discord client (a CLI tool, a test): nobody to tell
        if not await self._accounts.mark_relink_notified(account.id, now):
            return  # already told about this breakage
        display = provider.info.display_name
        delivered = await messenger.send_dm(
            account.discord_id,
            embed=EmbedContent(
                title=f"{display}: please link again",
                description=(
                    f"Stride can no longer read your {display} data: the access was revoked "
                    f"or has expired. {_relink_hint(display)} "
                    "Your challenge results so far are kept."
                ),
                fields=(),
                footer="",
                colour=COLOUR_WARN,
            ),
        )
        if not delivered:
            log.info("re-link notice for account %d not delivered (DMs closed)", account.id)

    async def _membership_lapsed(
        self, account: LinkedAccount, provider: Provider, tokens: TokenSet
    ) -> None:
        """Record a lapsed membership and tell the member once (across restarts)."""
        if missing_scopes(provider.info, tokens.scopes):
            # A 403 for data the member did not grant: told at link time and in /accounts.
            return
        now = self._clock.now()
        await self._accounts.mark_membership_lapsed(account.id, now)
        log.info("%s: account %d: the membership has lapsed", account.provider, account.id)
        if not self._messenger.connected:
            return  # no Discord client (a CLI tool, a test): told by the next run that has one
        if not await self._accounts.mark_lapsed_notified(account.id, now):
            return  # already told about this lapse
        display = provider.info.display_name
        delivered = await self._messenger.send_dm(
            account.discord_id,
            embed=EmbedContent(
                title=f"{display}: your membership has lapsed",
                description=(
                    f"{display} no longer shares your data with Stride because your "
                    f"{display} membership has lapsed. Your link is kept: once you renew the "
                    "membership, Stride picks your data up again by itself, with nothing to "
                    "link again. Your challenge results so far are kept."
                ),
                fields=(),
                footer="",
                colour=COLOUR_WARN,
            ),
        )
        if not delivered:
            log.info("lapsed-membership notice for account %d not delivered", account.id)

    async def revoke(self, account: LinkedAccount) -> RevokeOutcome:
        """Revoke the grant at the provider, best effort; the caller deletes the tokens."""
        provider = self._providers.get(account.provider)
        if provider is None:
            return RevokeOutcome.PROVIDER_DISABLED
        if not provider.info.supports_revoke:
            return RevokeOutcome.NOT_OFFERED
        try:
            # Not while a refresh rotates the tokens; a crashed holder is not waited out.
            async with self.exclusive(account.id, patience=REVOKE_PATIENCE):
                return await self._revoke_stored(account, provider)
        except AccountUnusable:
            return RevokeOutcome.REVOKED  # unlinked meanwhile: nothing left to revoke

    async def _revoke_stored(self, account: LinkedAccount, provider: Provider) -> RevokeOutcome:
        tokens = await self._accounts.tokens(account.id)
        if tokens is None:
            return RevokeOutcome.REVOKED
        try:
            await provider.revoke(tokens)
        except ProviderError as exc:
            log.warning(
                "%s: could not revoke the grant of account %d: %s",
                account.provider,
                account.id,
                exc,
            )
            return RevokeOutcome.FAILED
        return RevokeOutcome.REVOKED
