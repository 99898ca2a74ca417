"""`OuraWebhooks`: the app's Oura webhook subscriptions, kept as the settings say.

Oura's webhook subscription API (`OURA__WEBHOOK_URL`, by default
`https://api.ouraring.com/v2/webhook/subscription`) authenticates the *application* with the
`x-client-id` and `x-client-secret` headers, not a member's token: `GET` lists the app's
subscriptions, `POST` creates one (`callback_url`, `verification_token`, `event_type`,
`data_type`; while that request is open Oura sends the verification GET to the callback URL,
so the web server must already be serving), `PUT …/renew/{id}` renews one, `DELETE …/{id}`
deletes one. Each subscription has an `expiration_time`.

`reconcile()` (at start, then as a scheduled job) makes the subscriptions to our callback URL
exactly the wanted ones: with `OURA__WEBHOOK_VERIFICATION_TOKEN` set, one per event type
(`OURA_EVENT_TYPES`) and data type (`OURA_DATA_TYPES`), created when missing and renewed when
they expire within `OURA__WEBHOOK_RENEW_MARGIN_HOURS`; without it (webhooks disabled) none,
so ours are deleted. Subscriptions to other callback URLs (another installation sharing the
app) are never touched. A failure is logged and tried again at the next run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.clock import Clock
from bot.providers.base import ProviderError, ProviderResponseError
from bot.providers.http import HttpResponse, ProviderHttp, RetryPolicy, Sleep, raise_for_api_status
from bot.providers.oauth import ClientCredentials
from bot.providers.oura import LABEL
from bot.providers.push import OURA_DATA_TYPES, OURA_EVENT_TYPES
from bot.settings import OuraSettings

log = logging.getLogger(__name__)

JOB_ID = "oura-webhook-subscriptions"
JOB_INTERVAL_SECONDS = 6 * 3600


class OuraSubscription(BaseModel):
    """One subscription as Oura lists it (`WebhookSubscriptionModel`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    callback_url: str
    event_type: str
    data_type: str
    expiration_time: dt.datetime

    @field_validator("expiration_time")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        # A time without an offset is taken as UTC (Oura's examples carry +00:00).
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

    @property
    def key(self) -> tuple[str, str]:
        return (self.event_type, self.data_type)


def _same_url(first: str, second: str) -> bool:
    return first.rstrip("/") == second.rstrip("/")


class OuraWebhooks:
    """Lists, creates, renews and deletes the app's subscriptions to our callback URL."""

    def __init__(
        self,
        settings: OuraSettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        callback_url: str,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._settings = settings
        self._client = ClientCredentials.of(settings, LABEL)
        self._clock = clock
        self.callback_url = callback_url
        self._url = settings.webhook_url
        self._margin = dt.timedelta(hours=settings.webhook_renew_margin_hours)
        self._http = ProviderHttp(session, provider=LABEL, clock=clock, sleep=sleep, policy=retry)

    def wanted(self) -> set[tuple[str, str]]:
        """The (event type, data type) pairs there should be a subscription for."""
        if not self._settings.push_enabled:
            return set()
        return set(itertools.product(OURA_EVENT_TYPES, OURA_DATA_TYPES))

    async def reconcile(self) -> None:
        """Create, renew and delete until our subscriptions are the wanted ones."""
        try:
            ours = [
                sub for sub in await self.list() if _same_url(sub.callback_url, self.callback_url)
            ]
        except ProviderError as exc:
            log.warning("oura: could not list the webhook subscriptions: %s", exc)
            return
        wanted = self.wanted()
        kept: set[tuple[str, str]] = set()
        counts = {"created": 0, "renewed": 0, "deleted": 0}
        for sub in ours:
            if sub.key not in wanted or sub.key in kept:
                counts["deleted"] += await self._attempt("delete", self.delete(sub.id))
                continue
            kept.add(sub.key)
            if sub.expiration_time - self._margin <= self._clock.now():
                counts["renewed"] += await self._attempt("renew", self.renew(sub.id))
        for event_type, data_type in sorted(wanted - kept):
            counts["created"] += await self._attempt("create", self.create(event_type, data_type))
        if any(counts.values()):
            log.info(
                "oura: webhook subscriptions: %(created)d created, %(renewed)d renewed, "
                "%(deleted)d deleted",
                counts,
            )

    @staticmethod
    async def _attempt(action: str, call: Awaitable[None]) -> int:
        """1 when the call succeeded, 0 (logged) when the provider failed."""
        try:
            await call
        except ProviderError as exc:
            log.warning("oura: could not %s a webhook subscription: %s", action, exc)
            return 0
        return 1

    # -- the subscription API -----------------------------------------------------------

    async def list(self) -> list[OuraSubscription]:
        resp = await self._send("GET", self._url, endpoint="webhook list")
        data = resp.json()
        if not isinstance(data, list):
            raise ProviderResponseError(f"{LABEL}: webhook list answered something not a list")
        subscriptions = []
        for item in data:
            try:
                subscriptions.append(OuraSubscription.model_validate(item))
            except ValidationError:
                log.info("oura: skipped a listed webhook subscription of an unknown shape")
        return subscriptions

    async def create(self, event_type: str, data_type: str) -> None:
        token = self._settings.webhook_verification_token
        if token is None:
            raise ValueError("creating an Oura webhook subscription needs a verification token")
        body = {
            "callback_url": self.callback_url,
            "verification_token": token.get_secret_value(),
            "event_type": event_type,
            "data_type": data_type,
        }
        await self._send("POST", self._url, endpoint="webhook create", json_body=body)

    async def renew(self, subscription_id: str) -> None:
        url = f"{self._url}/renew/{subscription_id}"
        await self._send("PUT", url, endpoint="webhook renew")

    async def delete(self, subscription_id: str) -> None:
        url = f"{self._url}/{subscription_id}"
        await self._send("DELETE", url, endpoint="webhook delete", missing_ok=True)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        json_body: Any = None,
        missing_ok: bool = False,
    ) -> HttpResponse:
        resp = await self._http.send(
            method,
            url,
            endpoint=endpoint,
            headers={
                "x-client-id": self._client.client_id,
                "x-client-secret": self._client.client_secret.get_secret_value(),
            },
            json_body=json_body,
            # A create repeated after a lost answer would make a second subscription; the
            # next reconcile deletes the duplicate.
            idempotent=method != "POST",
        )
        if missing_ok and resp.status == 404:
            return resp
        if resp.status in (401, 403):
            raise ProviderResponseError(
                f"{LABEL}: {endpoint} refused the client id and secret (HTTP {resp.status})"
            )
        raise_for_api_status(resp)
        return resp
