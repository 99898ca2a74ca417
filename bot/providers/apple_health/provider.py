"""`AppleHealthProvider`: Apple Health behind the one provider protocol.

Apple has no web API, so there is nothing to fetch and no OAuth: the member's iPhone posts
its data to a personal upload address (`bot.web.uploads`), and `/link apple_health` makes
that address instead of a consent link (`bot.providers.apple_health.service`). The provider
exists so that a link, `/accounts`, `/unlink` and `/privacy` treat Apple Health like every
other provider. Its `info.metrics` are the metrics uploads carry (`UPLOAD_METRICS`), and
`info.fetches` is False: the daily run, the poller and `/sync` plan no fetch for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from bot.domain import DailyValue, Metric
from bot.providers.base import GrantRevoked, ProviderInfo, ProviderResponseError, TokenSet

NAME = "apple_health"
DISPLAY_NAME = "Apple Health (iPhone)"
UPLOAD_METRICS = frozenset(
    {
        Metric.STEPS,
        Metric.DISTANCE,
        Metric.ACTIVE_CALORIES,
        Metric.ACTIVE_MINUTES,
        Metric.FLOORS,
        Metric.SLEEP_MINUTES,
    }
)
# What the linked account stores where other providers keep tokens: nothing secret, and an
# expiry that never comes, so the token manager never tries to refresh it.
NO_TOKEN = "apple-health-upload"  # noqa: S105 (a placeholder, not a secret)
NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def placeholder_tokens(upload_id: str) -> TokenSet:
    return TokenSet(
        access_token=NO_TOKEN, refresh_token=None, expires_at=NEVER, provider_user_id=upload_id
    )


class AppleHealthProvider:
    """The `Provider` of uploads: no consent page, no tokens, nothing to fetch."""

    def __init__(self) -> None:
        self.info = ProviderInfo(
            name=NAME,
            display_name=DISPLAY_NAME,
            metrics=UPLOAD_METRICS,
            fetches=False,  # the phone sends its values itself: see the module docstring
            supports_pkce=False,
            # The grant is the upload address: unlinking deletes it with the account, so a
            # revocation always succeeds (and `/privacy delete` can say access was revoked).
            supports_revoke=True,
            # A phone's totals include what the member typed into the Health app.
            can_exclude_manual=False,
        )

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        raise ValueError("Apple Health links with an upload address, not a consent page")

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        raise GrantRevoked("Apple Health has no authorization codes")

    async def refresh(self, refresh_token: str) -> TokenSet:
        raise GrantRevoked("Apple Health has no tokens to refresh: link again")

    async def revoke(self, tokens: TokenSet) -> None:
        """Nothing to call: the unlink that follows deletes the upload address (the grant)."""
        return None

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        if tokens.provider_user_id is None:
            raise ProviderResponseError("Apple Health: no upload id")
        return tokens.provider_user_id

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
        """Nothing: uploaded values are stored as they arrive."""
        return []
