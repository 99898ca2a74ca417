"""Withings Public API (OAuth 2.0): activity trackers, watches and sleep analysers.

Every Withings answer is HTTP 200, errors included: the outcome is the integer `status` in the
body (0 success, 401 invalid token, 601 too many requests, 503 invalid parameters such as an
expired code or refresh token). Those statuses are mapped onto our error types here; only the
number is ever quoted, never Withings' `error` text.

Tokens: the code lives 30 seconds; the token answer carries the user id; the refresh token
rotates on every refresh, and the old one stays valid until the new access token is first used
(or 8 hours), so repeating a refresh after a lost answer is safe.

Data: one `getactivity` call (paged with `more`/`offset`) carries every activity metric: steps,
distance (m -> km), `elevation` (floors climbed), active calories, and active minutes as
(moderate + intense seconds) / 60. Sleep comes from `getsummary`; a night is attributed to the
civil date of its end (`enddate` in the night's own time zone), like every other provider here,
so the request is widened by a day on each side and filtered.

Manual entries: the API cannot leave them out, so values are the provider's totals, flagged
`includes_manual=False`, and `ProviderInfo.can_exclude_manual` is False.

Revocation: Withings documents no way for a partner to revoke a user's grant (the user unlinks
in their Withings account), so `revoke` is a no-op and `supports_revoke` is False.

Scope: `user.activity` covers getactivity and the sleep summary. Withings says `user.info` is
reserved for SDK partners with a contract, so it is not requested.

Client authentication follows the `client_auth` setting (Withings documents the form body); a
code exchange, which is never repeated, waits `token_timeout_seconds` for its answer. A token
type other than Bearer is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Collection
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    ProviderInfo,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
    ScopeNeed,
    TokenSet,
)
from bot.providers.daterange import ONE_DAY
from bot.providers.http import (
    HttpResponse,
    ProviderHttp,
    RetryPolicy,
    Sleep,
    TransientKind,
    parse_model,
    raise_for_api_status,
)
from bot.providers.oauth import (
    ClientCredentials,
    require_bearer,
    token_call_http,
    token_set,
    with_query,
)
from bot.providers.push import PUSH_METRICS
from bot.providers.ratelimit import ProviderRateLimiter
from bot.settings import WithingsSettings

log = logging.getLogger(__name__)

LABEL = "Withings"
SCOPES = ("user.activity",)
SCOPE_NEEDS = (
    ScopeNeed(
        "user.activity",
        "Your activity and sleep data",
        frozenset(
            {
                Metric.STEPS,
                Metric.DISTANCE,
                Metric.FLOORS,
                Metric.ACTIVE_MINUTES,
                Metric.ACTIVE_CALORIES,
                Metric.SLEEP_MINUTES,
            }
        ),
    ),
)
APP_LIMIT_PER_MINUTE = 120
MAX_PAGES = 50

STATUS_OK = 0
STATUS_INVALID_TOKEN = frozenset({100, 101, 102, 200, 401})
STATUS_INVALID_PARAMS = 503  # what Withings answers for an expired code or refresh token
STATUS_TOO_MANY_REQUESTS = 601
STATUS_TRANSIENT = frozenset({522, 2555})  # timeout, "an unknown error occurred"

ACTIVITY_FIELDS: dict[Metric, tuple[str, ...]] = {
    Metric.STEPS: ("steps",),
    Metric.DISTANCE: ("distance",),
    Metric.FLOORS: ("elevation",),
    Metric.ACTIVE_MINUTES: ("moderate", "intense"),
    Metric.ACTIVE_CALORIES: ("calories",),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Envelope(_Model):
    status: int
    body: Any = None
    error: str | None = None  # free text: used to classify, never quoted


class _TokenBody(_Model):
    userid: int | str
    access_token: str
    refresh_token: str
    expires_in: int | None = None
    scope: str | None = None
    token_type: str | None = None


class _Activity(_Model):
    date: dt.date
    deviceid: str | None = None
    steps: float | None = None
    distance: float | None = None
    elevation: float | None = None
    moderate: float | None = None
    intense: float | None = None
    calories: float | None = None


class _ActivityPage(_Model):
    activities: list[_Activity] = Field(default_factory=list)
    more: bool = False
    offset: int = 0


class _SleepData(_Model):
    total_sleep_time: float | None = None


class _SleepSeries(_Model):
    date: dt.date | None = None
    enddate: int | None = None
    timezone: str | None = None
    data: _SleepData = Field(default_factory=_SleepData)


class _SleepPage(_Model):
    series: list[_SleepSeries] = Field(default_factory=list)
    more: bool = False
    offset: int = 0


def _body_status(resp: HttpResponse) -> int | None:
    data = resp.json_or_none()
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, int) else None


def transient_status(resp: HttpResponse) -> TransientKind | None:
    """Whether a Withings answer (HTTP 200 whatever happened) is worth retrying."""
    status = _body_status(resp)
    if status == STATUS_TOO_MANY_REQUESTS:
        return "rate_limited"
    if status in STATUS_TRANSIENT:
        return "unavailable"
    return None


def _grant_is_gone(status: int, error: str | None) -> bool:
    """Whether a token endpoint error means the code or refresh token is no longer valid.

    Withings answers 503 "Invalid Params: invalid code" or "... invalid refresh_token" for
    those; other 503s (a bad client id, say) are our configuration's fault, not the user's.
    """
    if status in STATUS_INVALID_TOKEN:
        return True
    text = (error or "").lower()
    return status == STATUS_INVALID_PARAMS and ("code" in text or "refresh" in text)


def envelope_body(resp: HttpResponse, *, token_endpoint: bool) -> Any:
    """The `body` of a Withings answer, or the error its `status` stands for."""
    raise_for_api_status(resp)  # real HTTP errors (gateway 5xx, 410) still happen
    envelope = parse_model(_Envelope, resp.json(), provider=LABEL, endpoint=resp.endpoint)
    status, who = envelope.status, f"{LABEL}: {resp.endpoint}"
    if status == STATUS_OK:
        return envelope.body
    if token_endpoint and _grant_is_gone(status, envelope.error):
        # For a refresh, the only parameter that can go bad is the refresh token; for an
        # exchange, the code. Either way the user has to go through consent again.
        raise GrantRevoked(f"{who} rejected the code or refresh token (status {status})")
    if status in STATUS_INVALID_TOKEN:
        raise AccessTokenRejected(f"{who} refused the access token (status {status})")
    if status == STATUS_TOO_MANY_REQUESTS:
        raise RateLimited(f"{who} is rate limiting (status {status})")
    if status in STATUS_TRANSIENT:
        raise ProviderUnavailable(f"{who} failed (status {status})")
    raise ProviderResponseError(f"{who} refused the request (status {status})")


def _zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _day_of(timestamp: int, zone: ZoneInfo) -> dt.date | None:
    """The civil date of a Unix timestamp in `zone`; None for one no calendar can hold."""
    try:
        return dt.datetime.fromtimestamp(timestamp, zone).date()
    except (OverflowError, OSError, ValueError):
        return None


class WithingsProvider:
    """The `Provider` for the Withings Public API."""

    def __init__(
        self,
        settings: WithingsSettings,
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
        self._http = ProviderHttp(
            session,
            provider=LABEL,
            clock=clock,
            sleep=sleep,
            policy=retry,
            limiter=limiter or ProviderRateLimiter(app_limit=APP_LIMIT_PER_MINUTE, sleep=sleep),
        )
        self._once_http = token_call_http(self._http, settings)
        self.info = ProviderInfo(
            name="withings",
            display_name="Withings",
            metrics=frozenset(ACTIVITY_FIELDS) | {Metric.SLEEP_MINUTES},
            supports_pkce=False,
            supports_revoke=False,
            scopes=SCOPES,
            can_exclude_manual=False,
            push_metrics=PUSH_METRICS["withings"] if settings.push_enabled else frozenset(),
            scope_needs=SCOPE_NEEDS,
        )

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        # Withings documents no PKCE; the challenge is ignored (supports_pkce=False).
        return with_query(
            self._settings.authorize_url,
            {
                "response_type": "code",
                "client_id": self._client.client_id,
                "scope": ",".join(SCOPES),
                "redirect_uri": redirect_uri,
                "state": state,
            },
        )

    async def _token(
        self,
        form: dict[str, str],
        *,
        endpoint: str,
        idempotent: bool,
        requested: tuple[str, ...] = (),
    ) -> TokenSet:
        body, headers = self._client.authenticate({"action": "requesttoken", **form})
        http = self._http if idempotent else self._once_http
        resp = await http.send(
            "POST",
            self._settings.token_url,
            endpoint=endpoint,
            form=body,
            headers=headers,
            idempotent=idempotent,
            transient=transient_status,
        )
        answer = parse_model(
            _TokenBody, envelope_body(resp, token_endpoint=True), provider=LABEL, endpoint=endpoint
        )
        require_bearer(answer.token_type, provider=LABEL)
        return token_set(
            access_token=answer.access_token,
            refresh_token=answer.refresh_token,
            expires_in=answer.expires_in,
            scope=answer.scope,
            scope_separator=",",
            clock=self._clock,
            provider_user_id=str(answer.userid),
            requested=requested,
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            endpoint="requesttoken (code)",
            idempotent=False,  # the code is single-use (and lives 30 seconds)
            requested=SCOPES,
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            endpoint="requesttoken (refresh)",
            # The old refresh token stays valid until the new access token is used.
            idempotent=True,
        )

    async def revoke(self, tokens: TokenSet) -> None:
        """No-op: Withings offers partners no revocation; the user unlinks at Withings."""
        return None

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        if tokens.provider_user_id:
            return tokens.provider_user_id
        raise ProviderResponseError(
            f"{LABEL}: the token answer carried no user id, and the API has no other source"
        )

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
        activity_metrics = sorted(wanted & set(ACTIVITY_FIELDS))
        if activity_metrics:
            values.extend(await self._activity(access_token, activity_metrics, start, end))
        if Metric.SLEEP_MINUTES in wanted:
            values.extend(await self._sleep(access_token, start, end, user_tz))
        return values

    async def _pages(
        self, path: str, endpoint: str, access_token: str, form: dict[str, str]
    ) -> AsyncIterator[Any]:
        offset: int | None = None
        for _ in range(MAX_PAGES):
            page_form = dict(form)
            if offset:
                page_form["offset"] = str(offset)
            resp = await self._http.send(
                "POST",
                f"{self._settings.api_base_url}{path}",
                endpoint=endpoint,
                access_token=access_token,
                form=page_form,
                transient=transient_status,
            )
            body = envelope_body(resp, token_endpoint=False)
            yield body
            more = isinstance(body, dict) and bool(body.get("more"))
            next_offset = body.get("offset") if isinstance(body, dict) else None
            if not more:
                return
            if not isinstance(next_offset, int) or next_offset == offset:
                raise ProviderResponseError(f"{LABEL}: {endpoint} paged without a new offset")
            offset = next_offset
        raise ProviderResponseError(f"{LABEL}: {endpoint} kept paging beyond {MAX_PAGES} pages")

    async def _activity(
        self, access_token: str, metrics: list[Metric], start: dt.date, end: dt.date
    ) -> list[DailyValue]:
        fields = sorted({name for metric in metrics for name in ACTIVITY_FIELDS[metric]})
        form = {
            "action": "getactivity",
            "startdateymd": start.isoformat(),
            "enddateymd": end.isoformat(),
            "data_fields": ",".join(fields),
        }
        chosen: dict[dt.date, _Activity] = {}
        async for body in self._pages("/v2/measure", "getactivity", access_token, form):
            page = parse_model(_ActivityPage, body, provider=LABEL, endpoint="getactivity")
            for activity in page.activities:
                if start <= activity.date <= end:
                    chosen[activity.date] = _prefer(chosen.get(activity.date), activity)
        values: list[DailyValue] = []
        for metric in metrics:
            for day, activity in sorted(chosen.items()):
                value = _activity_value(metric, activity)
                if value is not None:
                    values.append(DailyValue(metric=metric, day=day, value=value))
        return values

    async def _sleep(
        self, access_token: str, start: dt.date, end: dt.date, user_tz: ZoneInfo
    ) -> list[DailyValue]:
        form = {
            "action": "getsummary",
            "startdateymd": (start - ONE_DAY).isoformat(),
            "enddateymd": (end + ONE_DAY).isoformat(),
            "data_fields": "total_sleep_time",
        }
        minutes: dict[dt.date, float] = defaultdict(float)
        async for body in self._pages("/v2/sleep", "getsummary", access_token, form):
            page = parse_model(_SleepPage, body, provider=LABEL, endpoint="getsummary")
            for night in page.series:
                seconds = night.data.total_sleep_time
                if night.enddate is not None:
                    day = _day_of(night.enddate, _zone(night.timezone, user_tz))
                else:
                    day = night.date
                if seconds is not None and day is not None and start <= day <= end:
                    minutes[day] += seconds / 60
        return [
            DailyValue(metric=Metric.SLEEP_MINUTES, day=day, value=round(value))
            for day, value in sorted(minutes.items())
        ]


def _prefer(current: _Activity | None, candidate: _Activity) -> _Activity:
    """One entry per day is expected; should several come, prefer the account-wide aggregate
    (no device id) and otherwise the busiest device, rather than adding devices up twice."""
    if current is None:
        return candidate
    if (current.deviceid is None) != (candidate.deviceid is None):
        return current if current.deviceid is None else candidate
    return candidate if (candidate.steps or 0) > (current.steps or 0) else current


def _activity_value(metric: Metric, activity: _Activity) -> float | None:
    match metric:
        case Metric.STEPS:
            return activity.steps
        case Metric.DISTANCE:
            return None if activity.distance is None else activity.distance / 1000
        case Metric.FLOORS:
            return activity.elevation
        case Metric.ACTIVE_CALORIES:
            return activity.calories
        case Metric.ACTIVE_MINUTES:
            if activity.moderate is None and activity.intense is None:
                return None
            return ((activity.moderate or 0) + (activity.intense or 0)) / 60
    return None
