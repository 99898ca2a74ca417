"""Oura API v2: the Oura ring.

Activity comes from `daily_activity` in one request for every activity metric (paged with
`next_token`): steps, active calories, `equivalent_walking_distance` (m -> km) and active
minutes as (medium + high activity time, in seconds) / 60. Oura has no floors.

Sleep comes from `sleep` (one document per sleep period): a day's value is the sum of
`total_sleep_duration` (seconds) over the periods Oura files under that `day`, which is the day
the sleep ends (the morning you wake up), matching the other providers. Periods of type `rest`
(rest mode, not sleep) and `deleted` are skipped.

Date ranges: users report that Oura filters `start_date`/`end_date` inconsistently (the end is
exclusive for `daily_activity`, the start for `sleep`). Every request therefore asks for one
more day on each side and keeps only the documents whose `day` lies in the range. Oura
documents no maximum range, so a range is fetched in one request and paged.

Tokens: refresh tokens are single-use and rotate, so a refresh is never repeated after a lost
answer (it would spend a token that is already gone), and a token request waits
`token_timeout_seconds` for its answer rather than the usual 30 seconds: Oura rotates even when
the answer is late, and a give-up would leave only a spent refresh token. A code answer
without a refresh token is refused (the link would break at the first expiry), and so is a
token type other than Bearer.

Scopes: `daily` (activity and sleep) and `personal` (the user id, needed to link), worded as
on Oura's consent page in `SCOPE_NEEDS`. A data endpoint answering 403 means the member's
membership has lapsed (`MembershipLapsed`): the link stays, and data flows again on renewal.

Revocation (verify: documented by Oura as `POST https://api.ouraring.com/oauth/revoke?
access_token=...`, confirmed only through client code using it) takes the access token in the
query; that URL is never logged. An access token that is already invalid is refreshed once to
revoke the grant behind it.

Manual entries: activities the user adds by hand count toward Oura's daily totals and the API
cannot leave them out, so values are flagged `includes_manual=False` and
`ProviderInfo.can_exclude_manual` is False.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import (
    AccessForbidden,
    GrantRevoked,
    MembershipLapsed,
    ProviderInfo,
    ProviderResponseError,
    ScopeNeed,
    TokenSet,
)
from bot.providers.daterange import ONE_DAY
from bot.providers.http import (
    ProviderHttp,
    RetryPolicy,
    Sleep,
    parse_model,
    raise_for_oauth_status,
)
from bot.providers.oauth import (
    ClientCredentials,
    OAuthTokenAnswer,
    require_bearer,
    token_call_http,
    token_request,
    token_set,
    with_query,
)
from bot.providers.push import PUSH_METRICS
from bot.providers.ratelimit import ProviderRateLimiter
from bot.settings import OuraSettings

log = logging.getLogger(__name__)

LABEL = "Oura"
SCOPES = ("daily", "personal")  # daily: activity and sleep; personal: the user id
ACTIVITY_METRICS = frozenset(
    {Metric.STEPS, Metric.DISTANCE, Metric.ACTIVE_MINUTES, Metric.ACTIVE_CALORIES}
)
SCOPE_NEEDS = (
    ScopeNeed(
        "daily",
        "Daily summaries (activity, sleep and readiness)",
        ACTIVITY_METRICS | {Metric.SLEEP_MINUTES},
    ),
    ScopeNeed("personal", "Personal information"),  # the account id: linking needs it
)
MAX_PAGES = 50
SKIPPED_SLEEP_TYPES = frozenset({"rest", "deleted"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _DailyActivity(_Model):
    day: dt.date
    steps: float | None = None
    active_calories: float | None = None
    equivalent_walking_distance: float | None = None
    medium_activity_time: float | None = None
    high_activity_time: float | None = None


class _ActivityPage(_Model):
    data: list[_DailyActivity] = Field(default_factory=list)
    next_token: str | None = None


class _SleepPeriod(_Model):
    day: dt.date
    type: str | None = None
    total_sleep_duration: float | None = None


class _SleepPage(_Model):
    data: list[_SleepPeriod] = Field(default_factory=list)
    next_token: str | None = None


class _PersonalInfo(_Model):
    id: str = Field(min_length=1)


def _activity_value(metric: Metric, item: _DailyActivity) -> float | None:
    match metric:
        case Metric.STEPS:
            return item.steps
        case Metric.ACTIVE_CALORIES:
            return item.active_calories
        case Metric.DISTANCE:
            distance = item.equivalent_walking_distance
            return None if distance is None else distance / 1000
        case Metric.ACTIVE_MINUTES:
            if item.medium_activity_time is None and item.high_activity_time is None:
                return None
            return ((item.medium_activity_time or 0) + (item.high_activity_time or 0)) / 60
    return None


class OuraProvider:
    """The `Provider` for the Oura API v2."""

    def __init__(
        self,
        settings: OuraSettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        limiter: ProviderRateLimiter | None = None,
    ) -> None:
        self._settings = settings
        self._client = ClientCredentials.of(settings, LABEL)
        self._clock = clock
        # Oura publishes no per-application limit we could honour ahead of time; 429s are
        # retried with their Retry-After.
        self._http = ProviderHttp(
            session, provider=LABEL, clock=clock, sleep=sleep, policy=retry, limiter=limiter
        )
        # Codes and refresh tokens are both single-use: token requests are never repeated.
        self._token_http = token_call_http(self._http, settings)
        self.info = ProviderInfo(
            name="oura",
            display_name="Oura",
            metrics=ACTIVITY_METRICS | {Metric.SLEEP_MINUTES},
            supports_pkce=False,
            supports_revoke=settings.revoke_url is not None,
            scopes=SCOPES,
            can_exclude_manual=False,
            push_metrics=PUSH_METRICS["oura"] if settings.push_enabled else frozenset(),
            scope_needs=SCOPE_NEEDS,
        )

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        # Oura documents no PKCE; the challenge is ignored (supports_pkce=False).
        return with_query(
            self._settings.authorize_url,
            {
                "response_type": "code",
                "client_id": self._client.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
            },
        )

    async def _token(
        self, form: dict[str, str], *, endpoint: str, requested: tuple[str, ...] = ()
    ) -> TokenSet:
        data = await token_request(
            self._token_http,
            self._settings.token_url,
            client=self._client,
            endpoint=endpoint,
            form=form,
            idempotent=False,  # codes and refresh tokens are both single-use here
        )
        answer = parse_model(OAuthTokenAnswer, data, provider=LABEL, endpoint=endpoint)
        require_bearer(answer.token_type, provider=LABEL)
        if answer.refresh_token is None:
            # A code answer without one breaks the link at the first expiry; after a refresh
            # the old one is spent, so the next refresh would fail. Better to say so now.
            raise ProviderResponseError(f"{LABEL}: {endpoint} answered without a refresh token")
        return token_set(
            access_token=answer.access_token,
            refresh_token=answer.refresh_token,
            expires_in=answer.expires_in,
            scope=answer.scope,
            clock=self._clock,
            requested=requested,
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            endpoint="token (code)",
            requested=SCOPES,
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            endpoint="token (refresh)",
        )

    async def revoke(self, tokens: TokenSet) -> None:
        revoke_url = self._settings.revoke_url
        if revoke_url is None:
            return
        if await self._revoke_access_token(revoke_url, tokens.access_token):
            return
        # The access token had expired: a fresh one (spending the refresh token, which is
        # being given up anyway) reaches the grant.
        if tokens.refresh_token is None:
            return  # nothing left that could reach the grant
        try:
            fresh = await self.refresh(tokens.refresh_token)
        except GrantRevoked:
            return  # the grant is already gone
        if not await self._revoke_access_token(revoke_url, fresh.access_token):
            raise ProviderResponseError(f"{LABEL}: revoke refused a freshly issued access token")

    async def _revoke_access_token(self, revoke_url: str, access_token: str) -> bool:
        """True when revoked; False when Oura refused the access token itself."""
        form, headers = self._client.authenticate({})  # RFC 7009 §2.1
        resp = await self._http.send(
            "POST",
            revoke_url,
            endpoint="revoke",
            params={"access_token": access_token},
            form=form or None,
            headers=headers,
        )
        if resp.status in (400, 401):
            return False
        raise_for_oauth_status(resp)
        return True

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        data = await self._http.api_json(
            "GET",
            f"{self._settings.api_base_url}/v2/usercollection/personal_info",
            endpoint="personal_info",
            access_token=tokens.access_token,
        )
        return parse_model(_PersonalInfo, data, provider=LABEL, endpoint="personal_info").id

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
        wanted = set(metrics) & self.info.metrics
        values: list[DailyValue] = []
        if end < start:
            return values
        activity_metrics = sorted(wanted & ACTIVITY_METRICS)
        if activity_metrics:
            values.extend(await self._activity(access_token, activity_metrics, start, end))
        if Metric.SLEEP_MINUTES in wanted:
            values.extend(await self._sleep(access_token, start, end))
        return values

    async def _pages(
        self, collection: str, access_token: str, start: dt.date, end: dt.date
    ) -> AsyncIterator[Any]:
        url = f"{self._settings.api_base_url}/v2/usercollection/{collection}"
        params = {
            # One day of margin on each side; see the module docstring.
            "start_date": (start - ONE_DAY).isoformat(),
            "end_date": (end + ONE_DAY).isoformat(),
        }
        next_token: str | None = None
        for _ in range(MAX_PAGES):
            page_params = dict(params)
            if next_token:
                page_params["next_token"] = next_token
            try:
                data = await self._http.api_json(
                    "GET", url, endpoint=collection, access_token=access_token, params=page_params
                )
            except AccessForbidden:
                raise MembershipLapsed(
                    f"{LABEL}: {collection} answered 403: the member's membership has lapsed"
                ) from None
            yield data
            token = data.get("next_token") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                return
            next_token = token
        raise ProviderResponseError(f"{LABEL}: {collection} kept paging beyond {MAX_PAGES} pages")

    async def _activity(
        self, access_token: str, metrics: list[Metric], start: dt.date, end: dt.date
    ) -> list[DailyValue]:
        days: dict[dt.date, _DailyActivity] = {}
        async for data in self._pages("daily_activity", access_token, start, end):
            page = parse_model(_ActivityPage, data, provider=LABEL, endpoint="daily_activity")
            days.update((item.day, item) for item in page.data if start <= item.day <= end)
        values: list[DailyValue] = []
        for metric in metrics:
            for day, item in sorted(days.items()):
                value = _activity_value(metric, item)
                if value is not None:
                    values.append(DailyValue(metric=metric, day=day, value=value))
        return values

    async def _sleep(self, access_token: str, start: dt.date, end: dt.date) -> list[DailyValue]:
        seconds: dict[dt.date, float] = defaultdict(float)
        async for data in self._pages("sleep", access_token, start, end):
            page = parse_model(_SleepPage, data, provider=LABEL, endpoint="sleep")
            for period in page.data:
                if (
                    period.type not in SKIPPED_SLEEP_TYPES
                    and period.total_sleep_duration is not None
                    and start <= period.day <= end
                ):
                    seconds[period.day] += period.total_sleep_duration
        return [
            DailyValue(metric=Metric.SLEEP_MINUTES, day=day, value=round(total / 60))
            for day, total in sorted(seconds.items())
        ]
