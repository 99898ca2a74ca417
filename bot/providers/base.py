"""The one small protocol every provider implements, and the errors they raise.

Providers speak HTTP to one vendor and translate its answers into `DailyValue`s. They hold no
state about users: token storage, refresh locking and re-link DMs live in `bot.linking`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain import DailyValue, Metric


@dataclass(frozen=True, slots=True, repr=False)
class TokenSet:
    """What a token endpoint handed back. `repr` hides the secrets, so no log line leaks them."""

    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime  # timezone-aware
    scopes: tuple[str, ...] = ()
    provider_user_id: str | None = None  # some providers (Withings) return it with the token

    def __repr__(self) -> str:
        return (
            f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r}, "
            f"has_refresh_token={self.refresh_token is not None})"
        )


@dataclass(frozen=True, slots=True)
class ScopeNeed:
    """An OAuth scope Stride asks for, the metrics that need it (none: linking itself needs
    it) and its wording on the provider's consent screen, so a member knows what to tick."""

    scope: str
    consent_label: str
    metrics: frozenset[Metric] = frozenset()


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str  # stable key stored in the database, e.g. "google_health"
    display_name: str  # shown in /link, e.g. "Fitbit / Pixel Watch (Google Health)"
    metrics: frozenset[Metric]  # what the provider's data can give, fetched or sent
    supports_pkce: bool
    supports_revoke: bool
    retiring: bool = False
    scopes: tuple[str, ...] = field(default_factory=tuple)
    # False where the API offers no way to leave manually entered data out (Withings, Oura):
    # their values are then device totals as the provider reports them, flagged
    # includes_manual=False, and the UI can say that manual entries cannot be told apart.
    can_exclude_manual: bool = True
    # The metrics whose new data this installation hears of by push (webhooks configured);
    # the rest must be polled. See `bot.providers.push`.
    push_metrics: frozenset[Metric] = frozenset()
    # What each requested scope is for; a grant that lacks one is told at link time and in
    # /accounts (`bot.providers.oauth.missing_scopes`). Empty: the provider has no scopes.
    scope_needs: tuple[ScopeNeed, ...] = ()
    # False for a provider Stride never fetches from: the member's device sends its values
    # itself (Apple Health's uploads), so the daily run, the poller and /sync plan no fetch
    # for it, while `metrics` still says what its data gives (`fetches_metric`).
    fetches: bool = True

    def fetches_metric(self, metric: Metric) -> bool:
        """Whether a fetch can bring values of `metric` from this provider."""
        return self.fetches and metric in self.metrics


class ProviderError(Exception):
    """Base of every provider failure. Messages never contain tokens, codes or secrets."""


class GrantRevoked(ProviderError):
    """The refresh token or grant is no longer valid (invalid_grant): the user must re-link."""


class AccessTokenRejected(ProviderError):
    """The access token was refused (HTTP 401 or equivalent): refresh and try once more."""


class ProviderUnavailable(ProviderError):
    """5xx, timeouts or 429 that outlasted the retries: try again at the next run."""


class RateLimited(ProviderUnavailable):
    """HTTP 429 (or the provider's equivalent) that outlasted the retries.

    A `ProviderUnavailable`, so callers that only care about "try again later" need one clause;
    `retry_after` is the provider's last hint in seconds, when it gave one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderResponseError(ProviderError):
    """The provider answered something we cannot understand, or refused the request (4xx)."""


class AccessForbidden(ProviderResponseError):
    """HTTP 403 from a data endpoint: the grant lacks the scope for that data, or the
    provider refuses this member's data; the token itself is fine (no refresh, no re-link)."""


class MembershipLapsed(AccessForbidden):
    """The provider refuses the member's data because their paid membership lapsed (Oura's
    403). The link stays; data flows again once the membership is renewed."""


class ProviderGone(ProviderError):
    """The API was switched off (HTTP 410), as the legacy Fitbit Web API was in 2026-11."""


class Provider(Protocol):
    info: ProviderInfo

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        """The consent URL the user opens. `code_challenge` is S256 PKCE when supported."""
        ...

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet: ...

    async def refresh(self, refresh_token: str) -> TokenSet: ...

    async def revoke(self, tokens: TokenSet) -> None:
        """Revoke the grant at the provider; a no-op where the provider offers none."""
        ...

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        """The provider's stable id for the account these tokens belong to."""
        ...

    async def fetch_daily(
        self,
        access_token: str,
        metrics: Collection[Metric],
        start: dt.date,
        end: dt.date,
        *,
        include_manual: bool,
        user_tz: ZoneInfo,
    ) -> list[DailyValue]:
        """Daily values for `start`..`end` inclusive (civil dates in the user's own zone).

        Uses the fewest requests the API allows, chunked to its range limits. Raises
        `AccessTokenRejected` on a 401 so the caller can refresh and retry once.
        """
        ...
