"""Google Fit REST v1 (legacy, being retired): only for projects that already have access.

Daily totals come from `users/me/dataset:aggregate`, one request for every metric (one
`aggregateBy` each) with `bucketByTime.durationMillis`. Bucket edges are epoch milliseconds,
so days are computed from the user's local midnight in `user_tz`.

Daylight saving time: a civil day is not always 86,400,000 ms (23 h in spring, 25 h in
autumn), and fixed-length buckets would drift an hour off midnight after a change. The range
is therefore split into runs of consecutive days of equal length; each run is one request
whose bucket duration is that length (so the transition day is a run of its own, with a
23- or 25-hour bucket). A range without a change is one request; each change adds two. Runs
are also cut to the API's 90-day limit (`endTimeMillis - startTimeMillis <= 7,776,000,000`).

Manual entries: with `include_manual`, data is aggregated by `dataTypeName`, which merges every
source, `user_input` included (values flagged True). Without it, data is aggregated from
Google's derived streams for the same types (`estimated_steps`, `merge_distance_delta`,
`merge_active_minutes`), which are built from sensor data rather than manual input (flagged
False). Google does not document these streams' inputs exactly; they are what the Fit app
itself shows. The API rejects a `dataSourceId` the user does not have, so should the combined
request fail that way, each type is asked for on its own and a missing one is skipped.

Active calories: Fit only has `calories.expended`, which includes the basal rate, so it is not
offered as active calories. Floors and sleep are not offered either.

User id: the `openid` scope makes the token endpoint return an id_token whose `sub` is the
Google account id, so no userinfo request (and no extra URL) is needed.

Scopes: steps and active minutes need `fitness.activity.read`, distance
`fitness.location.read` (`SCOPE_NEEDS`). A combined request refused with 403 (a scope the
member unticked) is asked again type by type, so the granted metrics still count.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import (
    AccessForbidden,
    ProviderInfo,
    ProviderResponseError,
    ScopeNeed,
    TokenSet,
)
from bot.providers.daterange import ONE_DAY
from bot.providers.google_oauth import GoogleOAuthClient, GoogleOAuthMethods
from bot.providers.http import ProviderHttp, RetryPolicy, Sleep, parse_model
from bot.providers.oauth import token_call_http
from bot.providers.ratelimit import ProviderRateLimiter
from bot.settings import GoogleFitSettings

log = logging.getLogger(__name__)

LABEL = "Google Fit"
SCOPES = (
    "https://www.googleapis.com/auth/fitness.activity.read",
    "https://www.googleapis.com/auth/fitness.location.read",  # distance
    "openid",  # an id_token with the account id
)
SCOPE_NEEDS = (
    ScopeNeed(
        SCOPES[0],
        "Use Google Fit to see and store your physical activity data",
        frozenset({Metric.STEPS, Metric.ACTIVE_MINUTES}),
    ),
    ScopeNeed(
        SCOPES[1], "See your Google Fit speed and distance data", frozenset({Metric.DISTANCE})
    ),
)
MAX_RANGE_MS = 7_776_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class FitType:
    data_type: str
    derived_source: str  # the stream without manual input
    scale: float = 1.0  # multiply to get our unit


FIT_TYPES: dict[Metric, FitType] = {
    Metric.STEPS: FitType(
        "com.google.step_count.delta",
        "derived:com.google.step_count.delta:com.google.android.gms:estimated_steps",
    ),
    Metric.DISTANCE: FitType(
        "com.google.distance.delta",
        "derived:com.google.distance.delta:com.google.android.gms:merge_distance_delta",
        scale=1 / 1000,  # m -> km
    ),
    Metric.ACTIVE_MINUTES: FitType(
        "com.google.active_minutes",
        "derived:com.google.active_minutes:com.google.android.gms:merge_active_minutes",
    ),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Value(_Model):
    intVal: int | None = None
    fpVal: float | None = None


class _Point(_Model):
    value: list[_Value] = Field(default_factory=list)


class _Dataset(_Model):
    point: list[_Point] = Field(default_factory=list)


class _Bucket(_Model):
    startTimeMillis: int
    dataset: list[_Dataset] = Field(default_factory=list)


class _AggregateAnswer(_Model):
    bucket: list[_Bucket] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DayRun:
    """Consecutive civil days of equal length: one aggregate request."""

    first: dt.date
    days: int
    start_ms: int
    day_ms: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * self.day_ms

    def day_at(self, bucket_start_ms: int) -> dt.date | None:
        offset = bucket_start_ms - self.start_ms
        if offset < 0 or offset % self.day_ms or offset // self.day_ms >= self.days:
            return None
        return self.first + dt.timedelta(days=offset // self.day_ms)


def local_midnight_ms(day: dt.date, tz: ZoneInfo) -> int:
    """The first instant of `day` in `tz`, in epoch milliseconds.

    Where midnight falls in a DST gap, fold=0 resolves it with the offset before the change,
    which is the instant the day actually starts.
    """
    instant = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return (instant.astimezone(dt.UTC) - _EPOCH) // _MS


def day_runs(start: dt.date, end: dt.date, tz: ZoneInfo) -> Iterator[DayRun]:
    """Split `start..end` into runs of equal-length days, each within the 90-day limit."""
    day = start
    while day <= end:
        start_ms = local_midnight_ms(day, tz)
        day_ms = local_midnight_ms(day + ONE_DAY, tz) - start_ms
        max_days = max(1, MAX_RANGE_MS // day_ms)
        count = 1
        while count < max_days and day + dt.timedelta(days=count) <= end:
            following = day + dt.timedelta(days=count)
            if local_midnight_ms(following + ONE_DAY, tz) - local_midnight_ms(following, tz) != (
                day_ms
            ):
                break
            count += 1
        yield DayRun(first=day, days=count, start_ms=start_ms, day_ms=day_ms)
        day += dt.timedelta(days=count)


def _point_sum(dataset: _Dataset) -> float | None:
    total: float | None = None
    for point in dataset.point:
        for value in point.value[:1]:  # these types have a single field
            number = value.intVal if value.intVal is not None else value.fpVal
            if number is not None:
                total = (total or 0.0) + number
    return total


class GoogleFitProvider(GoogleOAuthMethods):
    """The `Provider` for the legacy Google Fit REST API."""

    def __init__(
        self,
        settings: GoogleFitSettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        limiter: ProviderRateLimiter | None = None,
    ) -> None:
        self._base = settings.api_base_url
        self._http = ProviderHttp(
            session, provider=LABEL, clock=clock, sleep=sleep, policy=retry, limiter=limiter
        )
        once_http = token_call_http(self._http, settings)
        self._oauth = GoogleOAuthClient(
            settings, self._http, clock, scopes=SCOPES, once_http=once_http
        )
        self.info = ProviderInfo(
            name="google_fit",
            display_name="Google Fit (being retired)",
            metrics=frozenset(FIT_TYPES),
            supports_pkce=True,
            supports_revoke=self._oauth.supports_revoke,
            retiring=True,
            scopes=SCOPES,
            scope_needs=SCOPE_NEEDS,
        )

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        if tokens.provider_user_id:
            return tokens.provider_user_id
        raise ProviderResponseError(
            f"{LABEL}: the token answer carried no id_token (was the openid scope granted?)"
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
        wanted = sorted(set(metrics) & self.info.metrics)
        if not wanted:
            return []
        per_metric: dict[Metric, dict[dt.date, float]] = {metric: {} for metric in wanted}
        for run in day_runs(start, end, user_tz):
            try:
                found = await self._aggregate(access_token, wanted, run, include_manual)
            except ProviderResponseError as exc:
                scope_refused = isinstance(exc, AccessForbidden)
                if len(wanted) == 1 or (include_manual and not scope_refused):
                    raise
                found = await self._aggregate_one_by_one(access_token, wanted, run, include_manual)
            for metric, days in found.items():
                per_metric[metric].update(days)
        return [
            DailyValue(metric=metric, day=day, value=value, includes_manual=include_manual)
            for metric in wanted
            for day, value in sorted(per_metric[metric].items())
        ]

    async def _aggregate_one_by_one(
        self, access_token: str, metrics: list[Metric], run: DayRun, include_manual: bool
    ) -> dict[Metric, dict[dt.date, float]]:
        found: dict[Metric, dict[dt.date, float]] = {}
        for metric in metrics:
            try:
                found.update(await self._aggregate(access_token, [metric], run, include_manual))
            except AccessForbidden:
                # A scope the member did not grant, or (derived streams) no such data source.
                log.info("%s: %s refused for this user (HTTP 403); skipped", LABEL, metric)
            except ProviderResponseError:
                if include_manual:
                    raise
                log.warning("%s: no %s data source for this user; skipped", LABEL, metric.value)
        return found

    async def _aggregate(
        self, access_token: str, metrics: list[Metric], run: DayRun, include_manual: bool
    ) -> dict[Metric, dict[dt.date, float]]:
        aggregate_by = [
            {"dataTypeName": FIT_TYPES[metric].data_type}
            if include_manual
            else {"dataSourceId": FIT_TYPES[metric].derived_source}
            for metric in metrics
        ]
        body: dict[str, Any] = {
            "aggregateBy": aggregate_by,
            # int64 fields travel as JSON strings, as the discovery document declares them.
            "bucketByTime": {"durationMillis": str(run.day_ms)},
            "startTimeMillis": str(run.start_ms),
            "endTimeMillis": str(run.end_ms),
        }
        data = await self._http.api_json(
            "POST",
            f"{self._base}/users/me/dataset:aggregate",
            endpoint="dataset:aggregate",
            access_token=access_token,
            json_body=body,
        )
        answer = parse_model(_AggregateAnswer, data, provider=LABEL, endpoint="dataset:aggregate")
        found: dict[Metric, dict[dt.date, float]] = {metric: {} for metric in metrics}
        for bucket in answer.bucket:
            day = run.day_at(bucket.startTimeMillis)
            if day is None:
                log.debug("%s: ignored a bucket that starts off a local midnight", LABEL)
                continue
            # One dataset per aggregateBy, in request order.
            for metric, dataset in zip(metrics, bucket.dataset, strict=False):
                total = _point_sum(dataset)
                if total is not None:
                    found[metric][day] = total * FIT_TYPES[metric].scale
        return found
