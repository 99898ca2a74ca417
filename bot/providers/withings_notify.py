"""Withings Notify: subscribing one member's account to notifications, and revoking them.

`POST {notify_url}` with the member's bearer token and a form: `action=subscribe` with
`callbackurl`, `appli` and a `comment`; `action=revoke` with `callbackurl` and `appli`;
`action=list` for what is subscribed. Like every Withings answer these are HTTP 200 with the
outcome in the body's `status` (`bot.providers.withings.envelope_body` maps it). Before it
accepts a subscription Withings sends a HEAD request to the callback URL, which must answer 2xx
(`bot.web.webhooks.withings`); in production the URL must be HTTPS on port 443, or the app
stays limited to 10 users.

Withings does not sign its notifications, so the callback URL carries an unguessable secret
of this installation (`callback_secret`): `WITHINGS__NOTIFY_SECRET`, or generated once into
`withings-notify.key` beside the database. The URL is never logged.

Its requests count against the same per-application limit as the provider's fetches: the
client is given the Withings limiter of this process's share (`bot.providers.registry`),
never a full-rate one of its own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bot.clock import Clock
from bot.keyfiles import read_or_create
from bot.providers.http import ProviderHttp, RetryPolicy, Sleep, parse_model
from bot.providers.push import WITHINGS_APPLIS
from bot.providers.ratelimit import ProviderRateLimiter
from bot.providers.withings import (
    LABEL,
    envelope_body,
    transient_status,
)
from bot.settings import WithingsSettings

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "withings-notify.key"  # noqa: S105 (a file name, not a secret)
COMMENT = "Stride"
# The link and unlink pages wait for these calls: fail fast, the keeper retries later.
NOTIFY_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=2.0, timeout=10.0)


class _Profile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    appli: int
    callbackurl: str


class _ProfileList(BaseModel):
    model_config = ConfigDict(extra="ignore")

    profiles: list[_Profile] = Field(default_factory=list)


def callback_secret(settings: WithingsSettings, database_path: Path) -> SecretStr:
    """`WITHINGS__NOTIFY_SECRET`, or the secret generated once beside the database."""
    if settings.notify_secret is not None:
        return settings.notify_secret
    return SecretStr(_load_or_create_secret(secret_file(database_path)))


def secret_file(database_path: Path) -> Path:
    """Where `callback_secret` keeps the generated secret."""
    return database_path.resolve().parent / SECRET_FILE_NAME


def _load_or_create_secret(path: Path) -> str:
    return read_or_create(
        path,
        lambda: secrets.token_urlsafe(32),
        warning="WITHINGS__NOTIFY_SECRET is not set: generated one in %s. Back it up with the "
        "database; a new one changes the notification URL of every account.",
    )


class WithingsNotifyClient:
    """Subscribe, revoke and list one account's notifications, with its access token."""

    def __init__(
        self,
        settings: WithingsSettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        callback_url: str,
        limiter: ProviderRateLimiter,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._url = settings.notify_url
        self.callback_url = callback_url  # carries the secret: never log it
        self._http = ProviderHttp(
            session,
            provider=LABEL,
            clock=clock,
            sleep=sleep,
            policy=retry or NOTIFY_RETRY,
            limiter=limiter,  # the provider's: one application, one limit
        )

    @property
    def limiter(self) -> ProviderRateLimiter:
        return self._http.limiter

    async def _call(self, access_token: str, form: dict[str, str], *, endpoint: str) -> object:
        resp = await self._http.send(
            "POST",
            self._url,
            endpoint=endpoint,
            access_token=access_token,
            form=form,
            transient=transient_status,
        )
        return envelope_body(resp, token_endpoint=False)

    async def subscribe(self, access_token: str, appli: int) -> None:
        """Subscribe the account to one notification category (`WITHINGS_APPLIS`)."""
        if appli not in WITHINGS_APPLIS:
            raise ValueError(f"Stride does not subscribe to Withings appli {appli}")
        form = {
            "action": "subscribe",
            "callbackurl": self.callback_url,
            "appli": str(appli),
            "comment": COMMENT,
        }
        await self._call(access_token, form, endpoint=f"notify subscribe {appli}")

    async def revoke(self, access_token: str, appli: int) -> None:
        """End the account's subscription of one category to our callback URL."""
        form = {"action": "revoke", "callbackurl": self.callback_url, "appli": str(appli)}
        await self._call(access_token, form, endpoint=f"notify revoke {appli}")

    async def subscribed_applis(self, access_token: str) -> set[int]:
        """The categories the account is subscribed to at our callback URL."""
        body = await self._call(access_token, {"action": "list"}, endpoint="notify list")
        listed = parse_model(_ProfileList, body, provider=LABEL, endpoint="notify list")
        return {
            profile.appli for profile in listed.profiles if profile.callbackurl == self.callback_url
        }
