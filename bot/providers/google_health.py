"""Google Health API v4: Fitbit trackers and Pixel Watch, the successor of the Fitbit Web API.

Daily totals come from `dataPoints:dailyRollUp`, one request per data type and chunk of the
range (90 days; 14 for `active-minutes`), with `windowSizeDays: 1`. Dates are civil dates in
the user's own time zone, computed by Google, so `user_tz` is not needed here; the range end
is exclusive and int64 values arrive as JSON strings.

Manual entries: `dataSourceFamily` `google-wearables` leaves manually logged data out (values
flagged `includes_manual=False`); `all-sources` includes it (flagged True).

Active minutes: the rollup splits minutes by activity level (LIGHT, MODERATE, VIGOROUS). We
count MODERATE and VIGOROUS, as Fitbit's "active minutes" always did ("fairly" plus "very"
active) and as the WHO's activity guidelines do; LIGHT minutes are mostly pottering about.

Sleep: the discovery document says the plain list cannot filter sleep by data source family
and points to `dataPoints:reconcile`, which can. A night is attributed to the civil date on
which it ends (you slept "last night" on the morning you woke up), and a day's value is the
sum of `summary.minutesAsleep` over every sleep ending that day, naps included. When the
summary is missing (still processing), the asleep stages are summed instead.

Scopes: activity metrics need `activity_and_fitness.readonly`, sleep `sleep.readonly`
(`SCOPE_NEEDS`, worded as on Google's consent screen). A member may untick either; a data type
answered with 403 is skipped and the other metrics are still fetched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import (
    AccessForbidden,
    ProviderInfo,
    ProviderResponseError,
    ScopeNeed,
    TokenSet,
)
from bot.providers.daterange import ONE_DAY, date_chunks
from bot.providers.google_oauth import GoogleOAuthClient, GoogleOAuthMethods
from bot.providers.http import ProviderHttp, RetryPolicy, Sleep, parse_model
from bot.providers.oauth import token_call_http
from bot.providers.push import PUSH_METRICS
from bot.providers.ratelimit import ProviderRateLimiter
from bot.settings import GoogleHealthSettings

log = logging.getLogger(__name__)

LABEL = "Google Health"
SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
SCOPES = (
    SCOPE_PREFIX + "activity_and_fitness.readonly",
    SCOPE_PREFIX + "sleep.readonly",
)
SCOPE_NEEDS = (
    ScopeNeed(
        SCOPES[0],
        "See your Google Health activity and fitness data",
        frozenset(Metric) - {Metric.SLEEP_MINUTES},
    ),
    ScopeNeed(SCOPES[1], "See your Google Health sleep data", frozenset({Metric.SLEEP_MINUTES})),
)
APP_LIMIT_PER_MINUTE = 120_000  # per Google Cloud project
USER_LIMIT_PER_MINUTE = 300
MAX_PAGES = 50  # far beyond any real range; guards against a token that never ends
SLEEP_PAGE_SIZE = 25  # the maximum the API allows for sleep
ACTIVE_LEVELS = frozenset({"MODERATE", "VIGOROUS"})
ASLEEP_STAGES = frozenset({"LIGHT", "DEEP", "REM", "ASLEEP"})
MAX_UTC_OFFSET = dt.timedelta(days=1)  # real ones lie within ±14 hours


class _Model(BaseModel):
    """Field names are the API's own camelCase, so each model reads like its discovery schema.
    Pydantic's lax mode turns the int64-as-string values into ints."""

    model_config = ConfigDict(extra="ignore")


class _Date(_Model):
    year: int
    month: int
    day: int

    @model_validator(mode="after")
    def _exists(self) -> _Date:
        self.to_date()  # February 30th is a ValueError, which fails the validation
        return self

    def to_date(self) -> dt.date:
        return _civil_date(self.year, self.month, self.day)


@functools.lru_cache(maxsize=4096)
def _civil_date(year: int, month: int, day: int) -> dt.date:
    """One `date` object per day however many answers name it: a daily run keeps a value of
    every member for every day it fetched until they are stored and reviewed."""
    return dt.date(year, month, day)


class _CivilDateTime(_Model):
    date: _Date


class _CountSum(_Model):
    countSum: int | None = None


class _DistanceSum(_Model):
    millimetersSum: int | None = None


class _EnergySum(_Model):
    kcalSum: float | None = None


class _ActiveMinutesByLevel(_Model):
    activityLevel: str = "ACTIVITY_LEVEL_UNSPECIFIED"
    activeMinutesSum: int = 0


class _ActiveMinutes(_Model):
    activeMinutesRollupByActivityLevel: list[_ActiveMinutesByLevel] = Field(default_factory=list)


class _RollupPoint(_Model):
    civilStartTime: _CivilDateTime
    steps: _CountSum | None = None
    floors: _CountSum | None = None
    distance: _DistanceSum | None = None
    activeEnergyBurned: _EnergySum | None = None
    activeMinutes: _ActiveMinutes | None = None


class _RollupAnswer(_Model):
    rollupDataPoints: list[_RollupPoint] = Field(default_factory=list)
    nextPageToken: str | None = None


class _SleepStage(_Model):
    type: str = "SLEEP_STAGE_TYPE_UNSPECIFIED"
    # google-datetime is RFC 3339: always with an offset. Naive ones are refused.
    startTime: AwareDatetime
    endTime: AwareDatetime


class _SleepSummary(_Model):
    minutesAsleep: int | None = None


class _SleepInterval(_Model):
    endTime: AwareDatetime | None = None
    endUtcOffset: str | None = None
    civilEndTime: _CivilDateTime | None = None


class _Sleep(_Model):
    interval: _SleepInterval
    summary: _SleepSummary | None = None
    stages: list[_SleepStage] = Field(default_factory=list)


class _SleepPoint(_Model):
    sleep: _Sleep | None = None


class _SleepAnswer(_Model):
    dataPoints: list[_SleepPoint] = Field(default_factory=list)
    nextPageToken: str | None = None


class _Identity(_Model):
    healthUserId: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class _Rollup:
    data_type: str
    max_days: int
    value: Callable[[_RollupPoint], float | None]


def _active_minutes(point: _RollupPoint) -> float | None:
    if point.activeMinutes is None:
        return None
    return float(
        sum(
            level.activeMinutesSum
            for level in point.activeMinutes.activeMinutesRollupByActivityLevel
            if level.activityLevel in ACTIVE_LEVELS
        )
    )


def _steps(point: _RollupPoint) -> float | None:
    return None if point.steps is None or point.steps.countSum is None else point.steps.countSum


def _floors(point: _RollupPoint) -> float | None:
    floors = point.floors
    return None if floors is None or floors.countSum is None else floors.countSum


def _distance_km(point: _RollupPoint) -> float | None:
    distance = point.distance
    if distance is None or distance.millimetersSum is None:
        return None
    return distance.millimetersSum / 1_000_000


def _active_kcal(point: _RollupPoint) -> float | None:
    energy = point.activeEnergyBurned
    return None if energy is None else energy.kcalSum


ROLLUPS: dict[Metric, _Rollup] = {
    Metric.STEPS: _Rollup("steps", 90, _steps),
    Metric.FLOORS: _Rollup("floors", 90, _floors),
    Metric.DISTANCE: _Rollup("distance", 90, _distance_km),
    Metric.ACTIVE_CALORIES: _Rollup("active-energy-burned", 90, _active_kcal),
    # The discovery document limits active-minutes to 14 days per request and page.
    Metric.ACTIVE_MINUTES: _Rollup("active-minutes", 14, _active_minutes),
}


def _date_json(day: dt.date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _parse_offset(value: str | None) -> dt.timedelta | None:
    """A google-duration such as "3600s" or "-18000s"; None unless it is a UTC offset."""
    if not value or not value.endswith("s"):
        return None
    try:
        seconds = float(value[:-1])
    except ValueError:
        return None
    if not abs(seconds) < MAX_UTC_OFFSET.total_seconds():  # NaN and inf too
        return None
    return dt.timedelta(seconds=seconds)


def _sleep_end_date(sleep: _Sleep) -> dt.date | None:
    interval = sleep.interval
    if interval.civilEndTime is not None:
        return interval.civilEndTime.date.to_date()
    offset = _parse_offset(interval.endUtcOffset)
    if interval.endTime is None or offset is None:
        return None
    return (interval.endTime.astimezone(dt.UTC) + offset).date()


def _minutes_asleep(sleep: _Sleep) -> float | None:
    if sleep.summary is not None and sleep.summary.minutesAsleep is not None:
        return float(sleep.summary.minutesAsleep)
    asleep = [stage for stage in sleep.stages if stage.type in ASLEEP_STAGES]
    if not asleep:
        return None
    seconds = sum((stage.endTime - stage.startTime).total_seconds() for stage in asleep)
    return round(seconds / 60)


def user_key(access_token: str) -> str:
    """A stable, non-reversible key for the per-user rate limit."""
    return hashlib.sha256(access_token.encode()).hexdigest()[:24]


class GoogleHealthProvider(GoogleOAuthMethods):
    """The `Provider` for the Google Health API v4."""

    def __init__(
        self,
        settings: GoogleHealthSettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        limiter: ProviderRateLimiter | None = None,
    ) -> None:
        self._base = settings.api_base_url
        self._http = ProviderHttp(
            session,
            provider=LABEL,
            clock=clock,
            sleep=sleep,
            policy=retry,
            limiter=limiter
            or ProviderRateLimiter(
                app_limit=APP_LIMIT_PER_MINUTE, user_limit=USER_LIMIT_PER_MINUTE, sleep=sleep
            ),
        )
        once_http = token_call_http(self._http, settings)
        self._oauth = GoogleOAuthClient(
            settings, self._http, clock, scopes=SCOPES, once_http=once_http
        )
        self.info = ProviderInfo(
            name="google_health",
            display_name="Fitbit / Pixel Watch (Google Health)",
            metrics=frozenset(Metric),
            supports_pkce=True,
            supports_revoke=self._oauth.supports_revoke,
            scopes=SCOPES,
            push_metrics=PUSH_METRICS["google_health"] if settings.push_enabled else frozenset(),
            scope_needs=SCOPE_NEEDS,
        )

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        data = await self._http.api_json(
            "GET",
            f"{self._base}/users/me/identity",
            endpoint="identity",
            access_token=tokens.access_token,
            user_key=user_key(tokens.access_token),
        )
        return parse_model(_Identity, data, provider=LABEL, endpoint="identity").healthUserId

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
        family = "all-sources" if include_manual else "google-wearables"
        family_name = f"users/me/dataSourceFamilies/{family}"
        key = user_key(access_token)
        values: list[DailyValue] = []
        wanted = sorted(set(metrics) & self.info.metrics)
        forbidden: list[AccessForbidden] = []
        for metric in wanted:
            try:
                per_day = await self._metric(access_token, metric, start, end, family_name, key)
            except AccessForbidden as exc:
                # The member did not grant this data type's scope: the others still count.
                log.info("%s: %s not readable for this user (HTTP 403); skipped", LABEL, metric)
                forbidden.append(exc)
                continue
            values.extend(
                DailyValue(metric=metric, day=day, value=value, includes_manual=include_manual)
                for day, value in sorted(per_day.items())
            )
        if forbidden and len(forbidden) == len(wanted):
            raise forbidden[0]  # nothing readable at all: the run records why
        return values

    async def _metric(
        self,
        access_token: str,
        metric: Metric,
        start: dt.date,
        end: dt.date,
        family: str,
        key: str,
    ) -> dict[dt.date, float]:
        if metric is Metric.SLEEP_MINUTES:
            return await self._sleep_minutes(access_token, start, end, family, key)
        return await self._rollup(access_token, ROLLUPS[metric], start, end, family, key)

    async def _rollup(
        self,
        access_token: str,
        rollup: _Rollup,
        start: dt.date,
        end: dt.date,
        family: str,
        key: str,
    ) -> dict[dt.date, float]:
        url = f"{self._base}/users/me/dataTypes/{rollup.data_type}/dataPoints:dailyRollUp"
        endpoint = f"dailyRollUp {rollup.data_type}"
        per_day: dict[dt.date, float] = {}
        for first, last in date_chunks(start, end, rollup.max_days):
            body: dict[str, Any] = {
                "range": {
                    "start": {"date": _date_json(first)},
                    "end": {"date": _date_json(last + ONE_DAY)},  # exclusive
                },
                "windowSizeDays": 1,
                "pageSize": (last - first).days + 1,
                "dataSourceFamily": family,
            }
            async for data in self._pages("POST", url, endpoint, access_token, key, body=body):
                answer = parse_model(_RollupAnswer, data, provider=LABEL, endpoint=endpoint)
                for point in answer.rollupDataPoints:
                    day = point.civilStartTime.date.to_date()
                    value = rollup.value(point)
                    if value is not None and start <= day <= end:
                        per_day[day] = value
        return per_day

    async def _sleep_minutes(
        self, access_token: str, start: dt.date, end: dt.date, family: str, key: str
    ) -> dict[dt.date, float]:
        url = f"{self._base}/users/me/dataTypes/sleep/dataPoints:reconcile"
        params = {
            "dataSourceFamily": family,
            "filter": (
                f'sleep.interval.civil_end_time >= "{start.isoformat()}" AND '
                f'sleep.interval.civil_end_time < "{(end + ONE_DAY).isoformat()}"'
            ),
            "pageSize": str(SLEEP_PAGE_SIZE),
        }
        per_day: dict[dt.date, float] = defaultdict(float)
        async for data in self._pages("GET", url, "reconcile sleep", access_token, key, params):
            answer = parse_model(_SleepAnswer, data, provider=LABEL, endpoint="reconcile sleep")
            for point in answer.dataPoints:
                if point.sleep is None:
                    continue
                day = _sleep_end_date(point.sleep)
                minutes = _minutes_asleep(point.sleep)
                if day is not None and minutes is not None and start <= day <= end:
                    per_day[day] += minutes
        return dict(per_day)

    async def _pages(
        self,
        method: str,
        url: str,
        endpoint: str,
        access_token: str,
        key: str,
        params: dict[str, str] | None = None,
        *,
        body: dict[str, Any] | None = None,
    ) -> AsyncIterator[Any]:
        """Yield each page's JSON, following `nextPageToken` (in the body for POST requests,
        as a query parameter for GET)."""
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            page_params = dict(params or {})
            page_body = dict(body) if body is not None else None
            if page_token:
                if page_body is not None:
                    page_body["pageToken"] = page_token
                else:
                    page_params["pageToken"] = page_token
            data = await self._http.api_json(
                method,
                url,
                endpoint=endpoint,
                access_token=access_token,
                params=page_params or None,
                json_body=page_body,
                user_key=key,
            )
            yield data
            next_token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not isinstance(next_token, str) or not next_token:
                return
            page_token = next_token
        raise ProviderResponseError(f"{LABEL}: {endpoint} kept paging beyond {MAX_PAGES} pages")
