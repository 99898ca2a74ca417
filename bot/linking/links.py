"""`LinkService`: linking a wearable account from Discord, and `/accounts`, `/unlink`.

`/link` → a single-use link (10 minutes, bound to one Discord user and one provider) →
`/oauth/{provider}/start` redirects to the provider's consent page with the state and a PKCE
S256 challenge → `/oauth/{provider}/callback` uses the state up, exchanges the code at once,
fetches the provider's user id and stores the tokens encrypted. Every way a start or callback
request can fail is a `LinkError` (see `bot.linking.failures`). The granted scopes are checked
right after the exchange (`bot.linking.grants`): a partial grant links, and the success page
(`missing_access`), the "Linked" DM and `/accounts` say what is missing and how to fix it.

The OAuth `state`, codes, tokens and PKCE verifiers never appear in a log line, an exception
message or a page: log lines name the provider and the Discord user id only.

Events (when built with an `EventBus`): `account_linked(account)` after a link is stored,
`account_unlinking(account)` before an unlink deletes the tokens; their handlers (the push
subscriptions of `bot.providers.withings_subscriptions`) must not raise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.events import EventBus
from bot.linking.colours import COLOUR_INFO, COLOUR_OK, COLOUR_WARN
from bot.linking.failures import (
    MAX_PARAM_LENGTH,
    LinkError,
    LinkFailure,
    loggable_error_code,
    required_param,
    state_error,
)
from bot.linking.grants import check_grant, missing_access_text
from bot.linking.tokens import RevokeOutcome, TokenManager
from bot.notify import LinkButton
from bot.providers.base import (
    GrantRevoked,
    Provider,
    ProviderError,
    ProviderInfo,
    ScopeNeed,
    TokenSet,
)
from bot.providers.oauth import (
    UnsupportedTokenType,
    code_challenge_s256,
    missing_scopes,
    new_code_verifier,
)
from bot.render.leaderboard import EmbedContent
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from bot.storage.db import Database
from bot.storage.links import OAuthStatesRepo

if TYPE_CHECKING:
    from bot.notify import Messenger

log = logging.getLogger(__name__)

LINK_TTL = dt.timedelta(minutes=10)
# How long a re-link waits for another process's refresh of the old grant: a refresh takes
# seconds; a lease held longer belongs to a crashed process, and the member is waiting.
STORE_PATIENCE = dt.timedelta(seconds=30)


def redirect_uri(public_base_url: str, provider: str) -> str:
    """The OAuth redirect URI of a provider: what `/link` sends and `stride check` prints."""
    return f"{public_base_url.rstrip('/')}/oauth/{provider}/callback"


def mask_user_id(provider_user_id: str) -> str:
    """Enough of a provider's user id to recognise an account, not enough to look it up."""
    if len(provider_user_id) >= 8:
        return "•" * 4 + provider_user_id[-4:]
    if len(provider_user_id) >= 5:
        return "•" * 4 + provider_user_id[-2:]
    return "•" * 4


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
    # What the grant does not let Stride read and how to fix it (None: everything granted).
    missing_access: str | None = None
    # Since when the provider refuses the data because the membership lapsed (Oura).
    membership_lapsed_at: dt.datetime | None = None


class UnlinkResult(StrEnum):
    REVOKED = "revoked"
    NOT_OFFERED = "not_offered"
    REVOKE_FAILED = "revoke_failed"


class LinkService:
    """The `/link` flow from a single-use link to stored tokens, and `/accounts`, `/unlink`."""

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
        events: EventBus | None = None,
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
        # `account_linked` and `account_unlinking` (push subscriptions follow them); without a
        # bus nobody listens.
        self._events = events if events is not None else EventBus()
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
        return redirect_uri(self._base_url, provider)

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
        state = required_param(params, "state")
        lookup = await self._states.peek(state, found.info.name, self._clock.now())
        if lookup.link is None:
            raise state_error(lookup.problem)
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
        state = required_param(params, "state")
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
            raise state_error(lookup.problem)
        pending = lookup.link
        if error is not None:
            if error == "access_denied":
                log.info("%s: user %d declined consent", info.name, pending.discord_id)
                raise LinkError(
                    LinkFailure.DENIED,
                    f"You chose not to give Stride access to {info.display_name}, so nothing "
                    "was linked. You can use /link again any time.",
                )
            safe = loggable_error_code(error)
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
            missing = check_grant(info, tokens)
        except LinkError:
            log.info("%s: user %d granted too little to link", info.name, pending.discord_id)
            raise
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
        # Handlers never fail the link (a push subscription that fails is retried later).
        await self._events.emit("account_linked", account=account)
        await self._dm_linked(account, info, missing)
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
        except UnsupportedTokenType as exc:
            log.warning("%s: code exchange for user %d: %s", info.name, discord_id, exc)
            raise LinkError(
                LinkFailure.PROVIDER_FAILED,
                f"{info.display_name} issued a kind of access token Stride cannot use "
                f"(token type {exc.token_type!r}, where Stride needs Bearer), so nothing was "
                "linked. Please tell whoever runs this Stride.",
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
            self._tokens.exclusive(previous.id, patience=STORE_PATIENCE)
            if previous is not None
            else contextlib.nullcontext()
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

    async def _dm_linked(
        self, account: LinkedAccount, info: ProviderInfo, missing: tuple[ScopeNeed, ...]
    ) -> None:
        notes = [
            f"Stride can now read your {info.display_name} activity and will fetch it every "
            "day for the challenges you join.",
            "See your links with /accounts; /unlink removes one.",
        ]
        if missing:
            notes.insert(1, "⚠️ " + missing_access_text(info, missing))
        if not info.can_exclude_manual:
            notes.append(
                f"{info.display_name} does not tell manual entries apart, so its daily "
                "totals count as they are."
            )
        await self._messenger.send_dm(
            account.discord_id,
            embed=EmbedContent(
                title="Linked, with some data missing" if missing else "Linked ✓",
                description="\n\n".join(notes),
                fields=(),
                footer="",
                colour=COLOUR_WARN if missing else COLOUR_OK,
            ),
        )

    def missing_access(self, account: LinkedAccount) -> str | None:
        """What the account's grant does not let Stride read and how to fix it; None when
        it lets Stride read everything (or the provider is no longer enabled)."""
        found = self._providers.get(account.provider)
        if found is None:
            return None
        missing = missing_scopes(found.info, account.scopes)
        return missing_access_text(found.info, missing) if missing else None

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
                missing_access=self.missing_access(account),
                membership_lapsed_at=account.membership_lapsed_at,
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
        # While the tokens exist: handlers end what the account is subscribed to, best effort.
        await self._events.emit("account_unlinking", account=account)
        outcome = await self._tokens.revoke(account)
        await self._accounts.delete(account.id)
        log.info("%s: user %d unlinked account %d (%s)", provider, discord_id, account.id, outcome)
        if outcome is RevokeOutcome.REVOKED:
            return UnlinkResult.REVOKED
        if outcome is RevokeOutcome.FAILED:
            return UnlinkResult.REVOKE_FAILED
        return UnlinkResult.NOT_OFFERED
