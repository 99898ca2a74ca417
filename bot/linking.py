"""Linking wearable accounts, keeping their tokens fresh, and the user's data rights.

Three services, built once per app by `Services` (reach them as `services.linking`,
`services.tokens`, `services.privacy`):

- `LinkService`: `/link` → a single-use link (10 minutes, bound to one Discord user and one
  provider) → `/oauth/{provider}/start` redirects to the provider's consent page with the
  state and a PKCE S256 challenge → `/oauth/{provider}/callback` uses the state up, exchanges
  the code at once, fetches the provider's user id and stores the tokens encrypted. Also
  `/accounts` and `/unlink`.
- `TokenManager`: `call_with_token(account, fn)` is how anything (the daily run) talks to a
  provider on a user's behalf. It refreshes shortly before expiry and once on
  `AccessTokenRejected`, one refresh at a time per account, the new pair committed before it
  is used; a revoked grant marks the account `needs_relink`, DMs the user once, and re-raises.
- `PrivacyService`: export everything stored about a user, delete all of it, publish opt-out.

The OAuth `state`, codes, tokens and PKCE verifiers never appear in a log line, an exception
message or a page: log lines name the provider and the Discord user id only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import secrets
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlencode

from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.events import EventBus
from bot.notify import Attachment, LinkButton
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    Provider,
    ProviderError,
    ProviderInfo,
    TokenSet,
)
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.render.leaderboard import EmbedContent
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from bot.storage.db import Database, in_transaction
from bot.storage.links import OAuthStatesRepo, StateProblem
from bot.storage.privacy import PrivacyRepo

if TYPE_CHECKING:
    from bot.notify import Messenger

log = logging.getLogger(__name__)

T = TypeVar("T")

LINK_TTL = dt.timedelta(minutes=10)
# Refresh this long before the access token expires, so a fetch never starts with a token
# that dies half-way through a paged download.
REFRESH_MARGIN = dt.timedelta(minutes=5)
# The callback parameters are the provider's, but anyone can call the URL: cap their size.
MAX_PARAM_LENGTH = 4096
_SAFE_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")

COLOUR_OK = 0x2DA44E
COLOUR_INFO = 0x0969DA
COLOUR_WARN = 0xBF8700


# --------------------------------------------------------------------------- shared pieces


def mask_user_id(provider_user_id: str) -> str:
    """Enough of a provider's user id to recognise an account, not enough to look it up."""
    if len(provider_user_id) >= 8:
        return "•" * 4 + provider_user_id[-4:]
    if len(provider_user_id) >= 5:
        return "•" * 4 + provider_user_id[-2:]
    return "•" * 4


class NotConnected(GrantRevoked):
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


# --------------------------------------------------------------------------- log redaction

_SECRET_PARAMETER = re.compile(
    r"\b(state|code|code_verifier|access_token|refresh_token|token)=([^&\s\"'\\<>]+)"
)
# discord.py logs every request and answer body at DEBUG, and a /link DM or reply carries the
# link with its state.
DISCORD_HTTP_LOGGERS = ("discord.http", "discord.webhook.async_")


class RedactOAuthSecrets(logging.Filter):
    """Blanks `state=…`, `code=…` and token parameters in a record's message and exception.

    The exception is rendered here (as `Formatter.format` would, which then reuses it):
    aiohttp logs a malformed request with an exception that quotes the request line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redact(record.exc_text)
        try:
            message = record.getMessage()
        except Exception:
            # Arguments that do not fit the format: the handler reports that as logging
            # always does. Raising here would raise at the caller's log line instead.
            return True
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_EXCEPTION_FORMATTER = logging.Formatter()


def _redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1=[redacted]", text)


def install_log_redaction(loggers: tuple[str, ...] = DISCORD_HTTP_LOGGERS) -> None:
    """Put `RedactOAuthSecrets` on the loggers that may see a link (once; idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactOAuthSecrets) for existing in logger.filters):
            logger.addFilter(RedactOAuthSecrets())


# --------------------------------------------------------------------------- tokens


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
    ) -> None:
        self._accounts = AccountsRepo(db, cipher)
        self._providers = providers
        self._clock = clock
        self._messenger = messenger
        self._margin = refresh_margin
        # One lock per account id, alive while anyone holds or waits for it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock_for(self, account_id: int) -> asyncio.Lock:
        """The lock that serialises refreshes (and revocation) of one account."""
        lock = self._locks.get(account_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[account_id] = lock
        return lock

    async def call_with_token(self, account: LinkedAccount, fn: Callable[[str], Awaitable[T]]) -> T:
        """Await `fn(access_token)` with a valid token for `account`, and return its result.

        - The token is refreshed first when it expires within the refresh margin.
        - When `fn` raises `AccessTokenRejected`, the token is refreshed once and `fn` is
          awaited once more; a second rejection propagates.
        - Concurrent callers for one account share one refresh: the first does it and commits
          the new pair, the others wait and then use what it stored.
        - `GrantRevoked` (from the refresh or from `fn`) marks the account `needs_relink`, DMs
          the user once per breakage, and propagates; so does `NotConnected` (a subclass) for
          an account that is unlinked or already waiting for a re-link, without any request.
        - Other `ProviderError`s (`ProviderUnavailable`, `RateLimited`, …) propagate untouched.
        """
        if in_transaction():
            raise RuntimeError("call_with_token must not run inside a database transaction")
        provider = self._provider_for(account)
        tokens = await self._current_tokens(account)
        try:
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
        except GrantRevoked as exc:
            if not isinstance(exc, NotConnected):
                await self._needs_relink(account, provider, failed=tokens.access_token)
            raise

    def _provider_for(self, account: LinkedAccount) -> Provider:
        provider = self._providers.get(account.provider)
        if provider is None:
            raise NotConnected(f"{account.provider} is not enabled in this Stride")
        return provider

    async def _current_tokens(self, account: LinkedAccount) -> TokenSet:
        found = await self._accounts.status_and_tokens(account.id)
        if found is None:
            raise NotConnected(f"{account.provider}: account {account.id} is no longer linked")
        status, tokens = found
        if status is not AccountStatus.ACTIVE:
            raise NotConnected(f"{account.provider}: account {account.id} needs a re-link")
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
        async with self.lock_for(account.id):
            current = await self._current_tokens(account)
            now = self._clock.now()
            if current.access_token != stale and current.expires_at - self._margin > now:
                return current  # refreshed by a concurrent caller while we waited
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

    async def revoke(self, account: LinkedAccount) -> RevokeOutcome:
        """Revoke the grant at the provider, best effort; the caller deletes the tokens."""
        provider = self._providers.get(account.provider)
        if provider is None:
            return RevokeOutcome.PROVIDER_DISABLED
        if not provider.info.supports_revoke:
            return RevokeOutcome.NOT_OFFERED
        async with self.lock_for(account.id):  # not while a refresh is rotating the tokens
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


# --------------------------------------------------------------------------- linking


class LinkFailure(StrEnum):
    """Why a start or callback request could not link; the web layer picks the status."""

    UNKNOWN_PROVIDER = "unknown_provider"
    MISSING_PARAMETER = "missing_parameter"
    UNKNOWN_STATE = "unknown_state"
    STATE_USED = "state_used"
    STATE_EXPIRED = "state_expired"
    DENIED = "denied"
    CODE_REJECTED = "code_rejected"
    PROVIDER_FAILED = "provider_failed"
    LINKED_ELSEWHERE = "linked_elsewhere"


class LinkError(Exception):
    """A link attempt that failed; `message` is written for the user and holds no secret."""

    def __init__(self, failure: LinkFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


@dataclass(frozen=True, slots=True, repr=False)
class LinkOffer:
    """A fresh single-use link. `url` carries the state: show it to its user only."""

    provider: ProviderInfo
    url: str
    expires_at: dt.datetime

    def __repr__(self) -> str:
        return f"LinkOffer(provider={self.provider.name!r}, expires_at={self.expires_at})"

    def embed(self) -> EmbedContent:
        lines = [
            f"Open the button below to let Stride read your **{self.provider.display_name}** "
            "activity. You will sign in at the provider and can choose what to share.",
            f"The link works once and expires <t:{int(self.expires_at.timestamp())}:R>.",
        ]
        if self.provider.retiring:
            lines.append(
                "⚠️ Google is retiring Google Fit: link Fitbit / Pixel Watch (Google Health) "
                "instead if you can."
            )
        return EmbedContent(
            title=f"Link {self.provider.display_name}",
            description="\n\n".join(lines),
            fields=(),
            footer="Only you can see this link. Don't share it.",
            colour=COLOUR_INFO,
        )

    def button(self) -> LinkButton:
        return LinkButton(label=f"Link {self.provider.display_name}"[:80], url=self.url)


@dataclass(frozen=True, slots=True)
class AccountView:
    """One line of `/accounts`: nothing secret, the provider's user id masked."""

    provider: str
    display_name: str
    status: AccountStatus
    masked_user_id: str
    last_sync_at: dt.datetime | None
    linked_at: dt.datetime


class UnlinkResult(StrEnum):
    REVOKED = "revoked"
    NOT_OFFERED = "not_offered"
    REVOKE_FAILED = "revoke_failed"


class LinkService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        providers: Mapping[str, Provider],
        clock: Clock,
        public_base_url: str,
        messenger: Messenger,
        tokens: TokenManager,
        link_ttl: dt.timedelta = LINK_TTL,
    ) -> None:
        self._db = db
        self._users = UsersRepo(db)
        self._accounts = AccountsRepo(db, cipher)
        self._states = OAuthStatesRepo(db, cipher)
        self._providers = providers
        self._clock = clock
        self._base_url = public_base_url.rstrip("/")
        self._messenger = messenger
        self._tokens = tokens
        self._ttl = link_ttl

    # -- which providers ---------------------------------------------------------------

    def enabled(self) -> list[ProviderInfo]:
        """The providers users can link, in a stable order (registry order)."""
        return [provider.info for provider in self._providers.values()]

    def info(self, provider: str) -> ProviderInfo:
        """The enabled provider of that key; `UserError` for anything else (free text)."""
        found = self._providers.get(provider)
        if found is None:
            names = ", ".join(info.display_name for info in self.enabled()) or "none"
            raise UserError(f"I don't know that provider. Pick one from the list ({names}).")
        return found.info

    def display_name(self, provider: str) -> str:
        found = self._providers.get(provider)
        return found.info.display_name if found is not None else provider

    def redirect_uri(self, provider: str) -> str:
        return f"{self._base_url}/oauth/{provider}/callback"

    # -- /link -------------------------------------------------------------------------

    async def start_link(self, discord_id: int, provider: str) -> LinkOffer:
        """Issue a single-use link for this user and provider, valid for `LINK_TTL`."""
        info = self.info(provider)
        now = self._clock.now()
        state = secrets.token_urlsafe(32)
        verifier = new_code_verifier() if info.supports_pkce else None
        expires_at = now + self._ttl
        await self._states.create(
            state=state,
            discord_id=discord_id,
            provider=info.name,
            code_verifier=verifier,
            expires_at=expires_at,
            now=now,
        )
        log.info("issued a %s link for user %d", info.name, discord_id)
        url = f"{self._base_url}/oauth/{info.name}/start?{urlencode({'state': state})}"
        return LinkOffer(provider=info, url=url, expires_at=expires_at)

    async def send_link_dm(self, discord_id: int, offer: LinkOffer) -> bool:
        """DM the link; False when the user's DMs are closed (show it ephemerally instead)."""
        return await self._messenger.send_dm(
            discord_id, embed=offer.embed(), buttons=[offer.button()]
        )

    async def authorization_redirect(self, provider: str, params: Mapping[str, str]) -> str:
        """Where `/oauth/{provider}/start` sends the browser: the provider's consent page.

        Checks the link without using it up, so a user can see a clear "expired" or
        "already used" page here instead of at the provider.
        """
        found = self._provider(provider)
        state = _param(params, "state")
        lookup = await self._states.peek(state, found.info.name, self._clock.now())
        if lookup.link is None:
            raise _state_error(lookup.problem)
        challenge = (
            code_challenge_s256(lookup.link.code_verifier)
            if lookup.link.code_verifier is not None
            else None
        )
        return found.authorization_url(
            state=state, redirect_uri=self.redirect_uri(found.info.name), code_challenge=challenge
        )

    async def complete_link(self, provider: str, params: Mapping[str, str]) -> LinkedAccount:
        """Handle the provider's redirect back: use the state up, exchange, store, DM.

        Raises `LinkError` for every way it can fail; nothing is stored then.
        """
        found = self._provider(provider)
        info = found.info
        state = _param(params, "state")
        error = params.get("error")
        code = params.get("code")
        if error is None and not code:
            raise LinkError(
                LinkFailure.MISSING_PARAMETER,
                "This address is missing the sign-in code. Please use /link again.",
            )
        if code is not None and len(code) > MAX_PARAM_LENGTH:
            raise LinkError(LinkFailure.MISSING_PARAMETER, "This sign-in code is not valid.")
        lookup = await self._states.consume(state, info.name, self._clock.now())
        if lookup.link is None:
            raise _state_error(lookup.problem)
        pending = lookup.link
        if error is not None:
            if error == "access_denied":
                log.info("%s: user %d declined consent", info.name, pending.discord_id)
                raise LinkError(
                    LinkFailure.DENIED,
                    f"You chose not to give Stride access to {info.display_name}, so nothing "
                    "was linked. You can use /link again any time.",
                )
            safe = error if _SAFE_ERROR_CODE.match(error) else "unreadable"
            log.warning("%s: consent for user %d failed (%s)", info.name, pending.discord_id, safe)
            raise LinkError(
                LinkFailure.PROVIDER_FAILED,
                f"{info.display_name} reported a problem and nothing was linked. "
                "Please try /link again later.",
            )
        if code is None:  # pragma: no cover - checked before the state was used
            raise LinkError(LinkFailure.MISSING_PARAMETER, "The sign-in code is missing.")
        tokens = await self._exchange(found, pending.discord_id, code, pending.code_verifier)
        try:
            provider_user_id = await found.fetch_user_id(tokens)
        except ProviderError as exc:
            log.warning("%s: could not read the account id: %s", info.name, exc)
            raise LinkError(
                LinkFailure.PROVIDER_FAILED,
                f"{info.display_name} did not tell Stride which account this is. "
                "Nothing was linked; please try /link again later.",
            ) from None
        account = await self._store(found, pending.discord_id, provider_user_id, tokens)
        await self._dm_linked(account, info)
        return account

    def _provider(self, provider: str) -> Provider:
        found = self._providers.get(provider)
        if found is None:
            raise LinkError(LinkFailure.UNKNOWN_PROVIDER, "Stride does not link this provider.")
        return found

    async def _exchange(
        self, provider: Provider, discord_id: int, code: str, verifier: str | None
    ) -> TokenSet:
        info = provider.info
        try:
            return await provider.exchange_code(
                code=code, redirect_uri=self.redirect_uri(info.name), code_verifier=verifier
            )
        except GrantRevoked:
            # invalid_grant at the exchange: the code expired (Withings' live 30 s) or was used.
            log.info("%s: the code for user %d was refused", info.name, discord_id)
            raise LinkError(
                LinkFailure.CODE_REJECTED,
                f"{info.display_name} did not accept this sign-in; it may have taken too long. "
                "Nothing was linked; please use /link again.",
            ) from None
        except ProviderError as exc:
            log.warning("%s: code exchange for user %d failed: %s", info.name, discord_id, exc)
            raise LinkError(
                LinkFailure.PROVIDER_FAILED,
                f"{info.display_name} did not complete the sign-in. Nothing was linked; "
                "please try /link again later.",
            ) from None

    async def _store(
        self, provider: Provider, discord_id: int, provider_user_id: str, tokens: TokenSet
    ) -> LinkedAccount:
        info = provider.info
        previous = await self._accounts.get(discord_id, info.name)
        # A refresh of the previous grant still at the provider would store its pair over
        # the one stored here: wait for it, as the token manager serialises its refreshes.
        refreshing: contextlib.AbstractAsyncContextManager[object] = (
            self._tokens.lock_for(previous.id) if previous is not None else contextlib.nullcontext()
        )
        async with refreshing:
            replaced: TokenSet | None = None
            if previous is not None and previous.provider_user_id != provider_user_id:
                # The user switched to another account of this provider: end the old grant
                # once the new one is stored. (The same account is never revoked here: at
                # Google that would end the grant just given.)
                replaced = await self._accounts.tokens(previous.id)
            now = self._clock.now()
            async with self._db.transaction():
                owner = await self._accounts.owner_of(info.name, provider_user_id)
                if owner is not None and owner != discord_id:
                    # Not revoked either: at Google that would end the other user's grant too.
                    log.info(
                        "%s: user %d tried to link an account already linked by another user",
                        info.name,
                        discord_id,
                    )
                    raise LinkError(
                        LinkFailure.LINKED_ELSEWHERE,
                        f"This {info.display_name} account is already linked to another "
                        "Discord user, so nothing was changed. If it is yours, use /unlink "
                        "from that Discord account first, then /link again.",
                    )
                await self._users.ensure(discord_id, now)
                account = await self._accounts.save_link(
                    discord_id, info.name, provider_user_id, tokens, now
                )
        log.info("%s: linked account %d for user %d", info.name, account.id, discord_id)
        if replaced is not None and info.supports_revoke:
            try:
                await provider.revoke(replaced)
            except ProviderError as exc:
                log.warning("%s: could not revoke a replaced grant: %s", info.name, exc)
        return account

    async def _dm_linked(self, account: LinkedAccount, info: ProviderInfo) -> None:
        notes = [
            f"Stride can now read your {info.display_name} activity and will fetch it every "
            "day for the challenges you join.",
            "See your links with /accounts; /unlink removes one.",
        ]
        if not info.can_exclude_manual:
            notes.append(
                f"{info.display_name} does not tell manual entries apart, so its daily "
                "totals count as they are."
            )
        await self._messenger.send_dm(
            account.discord_id,
            embed=EmbedContent(
                title="Linked ✓",
                description="\n\n".join(notes),
                fields=(),
                footer="",
                colour=COLOUR_OK,
            ),
        )

    # -- /accounts, /unlink ------------------------------------------------------------

    async def accounts(self, discord_id: int) -> list[AccountView]:
        return [
            AccountView(
                provider=account.provider,
                display_name=self.display_name(account.provider),
                status=account.status,
                masked_user_id=mask_user_id(account.provider_user_id),
                last_sync_at=account.last_sync_at,
                linked_at=account.created_at,
            )
            for account in await self._accounts.for_user(discord_id)
        ]

    async def linked_providers(self, discord_id: int) -> list[str]:
        return [account.provider for account in await self._accounts.for_user(discord_id)]

    async def unlink(self, discord_id: int, provider: str) -> UnlinkResult:
        """Revoke the grant where offered and delete the tokens; collected values stay."""
        account = await self._accounts.get(discord_id, provider)
        if account is None:
            raise UserError(f"You have no {self.display_name(provider)} account linked.")
        outcome = await self._tokens.revoke(account)
        await self._accounts.delete(account.id)
        log.info("%s: user %d unlinked account %d (%s)", provider, discord_id, account.id, outcome)
        if outcome is RevokeOutcome.REVOKED:
            return UnlinkResult.REVOKED
        if outcome is RevokeOutcome.FAILED:
            return UnlinkResult.REVOKE_FAILED
        return UnlinkResult.NOT_OFFERED


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise LinkError(
            LinkFailure.MISSING_PARAMETER,
            "This address is incomplete. Please open the link from Stride's message again, "
            "or use /link for a new one.",
        )
    if len(value) > MAX_PARAM_LENGTH:
        raise LinkError(LinkFailure.UNKNOWN_STATE, "This link is not valid.")
    return value


def _state_error(problem: StateProblem | None) -> LinkError:
    if problem is StateProblem.USED:
        return LinkError(
            LinkFailure.STATE_USED,
            "This link was already used. If linking did not work, use /link for a new one.",
        )
    if problem is StateProblem.EXPIRED:
        return LinkError(
            LinkFailure.STATE_EXPIRED,
            "This link expired (links work for 10 minutes). Use /link for a new one.",
        )
    return LinkError(
        LinkFailure.UNKNOWN_STATE,
        "This link is not valid. Use /link in Discord for a new one.",
    )


# --------------------------------------------------------------------------- privacy


@dataclass(frozen=True, slots=True)
class DeletionReport:
    revoked: tuple[str, ...]  # display names revoked at the provider
    revoke_not_offered: tuple[str, ...]  # the user should remove Stride there themselves
    revoke_failed: tuple[str, ...]


class PrivacyService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        providers: Mapping[str, Provider],
        clock: Clock,
        events: EventBus,
        tokens: TokenManager,
    ) -> None:
        self._db = db
        self._repo = PrivacyRepo(db)
        self._users = UsersRepo(db)
        self._accounts = AccountsRepo(db, cipher)
        self._providers = providers
        self._clock = clock
        self._events = events
        self._tokens = tokens

    async def export(self, discord_id: int) -> Attachment:
        """Everything Stride stores about the user as a JSON file; no token, state or verifier."""
        data = {
            "discord_id": str(discord_id),
            "exported_at": self._clock.now().isoformat(),
            "note": (
                "Everything Stride stores about you. Provider tokens are stored encrypted "
                "and are not included."
            ),
            "tables": await self._repo.export(discord_id),
        }
        body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        return Attachment(filename=f"stride-data-{discord_id}.json", data=body.encode("utf-8"))

    async def delete_everything(self, discord_id: int) -> DeletionReport:
        """Revoke every grant, then delete every row about the user in one transaction.

        Emits `user_deleted(discord_id=…)` inside that transaction, so handlers that remove
        their own rows commit or roll back together with the deletion.
        """
        revoked: list[str] = []
        not_offered: list[str] = []
        failed: list[str] = []
        for account in await self._accounts.for_user(discord_id):
            outcome = await self._tokens.revoke(account)
            name = (
                self._providers[account.provider].info.display_name
                if account.provider in self._providers
                else account.provider
            )
            if outcome is RevokeOutcome.REVOKED:
                revoked.append(name)
            elif outcome is RevokeOutcome.FAILED:
                failed.append(name)
            else:
                not_offered.append(name)
        async with self._db.transaction():
            removed = await self._repo.delete_user(discord_id)
            await self._events.emit("user_deleted", discord_id=discord_id)
        log.info("deleted the data of user %d (%d rows)", discord_id, removed)
        return DeletionReport(tuple(revoked), tuple(not_offered), tuple(failed))

    async def set_publish(self, discord_id: int, *, publish: bool) -> None:
        """Whether the user's values may go into the anonymised aggregates (publish cog)."""
        await self._users.ensure(discord_id, self._clock.now())
        await self._users.set_publish_opt_out(discord_id, opt_out=not publish)
