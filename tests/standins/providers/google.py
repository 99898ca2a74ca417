"""Stand-ins for Google's OAuth server, the Google Health API v4 and Google Fit REST v1.

Google OAuth rules kept: a refresh token only with `access_type=offline`; it does not rotate;
a revoked or unknown one gets HTTP 400 `{"error": "invalid_grant"}`; codes are single-use,
expire after 10 minutes and are bound to the redirect URI and (when given) the S256 PKCE
challenge; `openid` adds an id_token whose `sub` is the user id; revoking any token of a
grant revokes the grant.

The Google Health stand-in also serves the subscriber API and sends signed notifications
(`google_subscribers`). Request bodies of `dailyRollUp` and `dataset:aggregate` are
validated against the discovery documents shipped with google-api-python-client; a body that
drifts from the spec gets 400 and is recorded in `schema_errors`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain import Metric

from .base import BODY_KEY, USER_KEY, Grant, IssuedCode, StandinBase, daterange
from .discovery import google_fit_checker, google_health_checker
from .google_subscribers import GoogleSubscribers
from .push import Delivery

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    410: "GONE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_error(status: int, message: str, *, retry_after: str | None = None) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }
    return web.json_response(body, status=status, headers=headers)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class GoogleOAuthStandin(StandinBase):
    """Google's authorize, token and revoke endpoints (shared by both Google APIs)."""

    authorize_path = "/o/oauth2/v2/auth"
    token_path = "/token"
    revoke_path = "/revoke"
    code_lifetime = dt.timedelta(minutes=10)
    access_lifetime = dt.timedelta(seconds=3599)
    default_access_type = "online"  # Google's default: no refresh token unless offline

    def __init__(self, *, require_pkce: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.require_pkce = require_pkce
        self.schema_errors: list[str] = []
        self._page_tokens: dict[str, tuple[str, int]] = {}

    def check_authorize(self, query: Mapping[str, str]) -> str | None:
        problem = super().check_authorize(query)
        if problem is not None:
            return problem
        if query.get("access_type") not in (None, "online", "offline"):
            return "invalid_request: access_type must be online or offline"
        method = query.get("code_challenge_method")
        if query.get("code_challenge") is not None and method not in ("S256", "plain"):
            return "invalid_request: unknown code_challenge_method"
        if self.require_pkce and query.get("code_challenge") is None:
            return "invalid_request: this stand-in requires PKCE"
        return None

    def callback_params(self, code: str, state: str, scopes: tuple[str, ...]) -> dict[str, str]:
        return {"state": state, "code": code, "scope": " ".join(scopes)}

    def error_response(self, status: int, retry_after: str | None) -> web.Response:
        return google_error(status, "injected fault", retry_after=retry_after)

    def unauthorized(self) -> web.Response:
        return google_error(401, "Request had invalid authentication credentials.")

    def id_token(self, user_id: str) -> str:
        now = int(self.clock.now().timestamp())
        header = {"alg": "RS256", "kid": "standin", "typ": "JWT"}
        claims = {
            "iss": "https://accounts.google.com",
            "aud": self.client_id,
            "sub": user_id,
            "iat": now,
            "exp": now + 3600,
        }
        return ".".join(
            (
                _b64url(json.dumps(header).encode()),
                _b64url(json.dumps(claims).encode()),
                _b64url(secrets.token_bytes(32)),  # not a real signature; Stride doesn't check
            )
        )

    def add_oauth_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(self.token_path, self._token, name="token")
        router.add_post(self.revoke_path or "/revoke", self._revoke, name="revoke")

    async def _token(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        await self.at_token_door()
        client_id = self.authenticated_client(form, request)
        if client_id is None:
            return web.json_response(
                {"error": "invalid_client", "error_description": "Unauthorized"}, status=401
            )
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            issued = self.redeem_code(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier"),
            )
            if isinstance(issued, str):
                return _invalid_grant("Bad Request")
            request[USER_KEY] = issued.user_id
            return self._token_answer(issued)
        if grant_type == "refresh_token":
            token = self.refresh_tokens.get(form.get("refresh_token", ""))
            if token is None or token.revoked or token.grant.revoked:
                return _invalid_grant("Token has been expired or revoked.")
            request[USER_KEY] = token.grant.user_id
            access_value, _, _ = self.issue_tokens(token.grant, refresh=False)
            answer: dict[str, Any] = {
                "access_token": access_value,
                "expires_in": int(self.access_lifetime.total_seconds()),
                "scope": " ".join(token.grant.scopes),
                **self.token_type_field(),
            }
            if "openid" in token.grant.scopes:
                answer["id_token"] = self.id_token(token.grant.user_id)
            return web.json_response(answer)
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    def _token_answer(self, issued: IssuedCode) -> web.Response:
        grant = Grant(issued.user_id, issued.scopes)
        access_value, _, refresh_value = self.issue_tokens(grant, refresh=issued.offline)
        answer: dict[str, Any] = {
            "access_token": access_value,
            "expires_in": int(self.access_lifetime.total_seconds()),
            "scope": " ".join(issued.scopes),
            **self.token_type_field(),
        }
        if refresh_value is not None:
            answer["refresh_token"] = refresh_value
        if "openid" in issued.scopes:
            answer["id_token"] = self.id_token(issued.user_id)
        return web.json_response(answer)

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        if self.revoke_client_refused(form, request):
            return web.json_response({"error": "invalid_client"}, status=401)
        value = form.get("token") or request.query.get("token", "")
        token = self.access_tokens.get(value) or self.refresh_tokens.get(value)
        if token is None or token.grant.revoked:
            return web.json_response(
                {"error": "invalid_token", "error_description": "Token expired or revoked"},
                status=400,
            )
        token.grant.revoked = True
        request[USER_KEY] = token.grant.user_id
        return web.json_response({})

    def check_body(self, method_id: str, body: Any) -> web.Response | None:
        errors = self.checker().request_errors(method_id, body)
        if errors:
            self.schema_errors.extend(errors)
            return google_error(400, "Invalid JSON payload received. " + "; ".join(errors))
        return None

    def checker(self) -> Any:
        raise NotImplementedError

    def paginate(
        self, items: list[Any], request_key: Any, page_token: str | None, page_size: int
    ) -> tuple[list[Any], str | None] | web.Response:
        """Slice `items` for a page; the token is bound to the other request fields."""
        fingerprint = hashlib.sha256(
            json.dumps(request_key, sort_keys=True, default=str).encode()
        ).hexdigest()
        offset = 0
        if page_token:
            saved = self._page_tokens.get(page_token)
            if saved is None or saved[0] != fingerprint:
                return google_error(400, "Invalid page token, or other request fields changed.")
            offset = saved[1]
        page = items[offset : offset + page_size]
        next_token = None
        if offset + page_size < len(items):
            next_token = secrets.token_urlsafe(12)
            self._page_tokens[next_token] = (fingerprint, offset + page_size)
        return page, next_token


def insufficient_scopes() -> web.Response:
    """Google's answer to a token without the scope a data type needs."""
    return google_error(403, "Request had insufficient authentication scopes.")


def _invalid_grant(description: str) -> web.Response:
    return web.json_response(
        {"error": "invalid_grant", "error_description": description}, status=400
    )


# -- Google Health API v4 ---------------------------------------------------------------------

HEALTH_SCOPE = "https://www.googleapis.com/auth/googlehealth."
HEALTH_ACTIVITY_SCOPE = HEALTH_SCOPE + "activity_and_fitness.readonly"
HEALTH_SLEEP_SCOPE = HEALTH_SCOPE + "sleep.readonly"
FOURTEEN_DAY_TYPES = frozenset(
    {"active-minutes", "total-calories", "heart-rate", "calories-in-heart-rate-zone"}
)
HEALTH_TYPES: dict[str, Metric] = {
    "steps": Metric.STEPS,
    "distance": Metric.DISTANCE,
    "floors": Metric.FLOORS,
    "active-energy-burned": Metric.ACTIVE_CALORIES,
    "active-minutes": Metric.ACTIVE_MINUTES,
}
FAMILIES = ("all-sources", "google-wearables", "google-sources", "self-sources")
LIGHT_MINUTES = 45  # always reported, never counted as active
_FAMILY = re.compile(r"^users/([^/]+)/dataSourceFamilies/([a-z-]+)$")
_SLEEP_FILTER = re.compile(
    r'^\s*sleep\.interval\.civil_end_time\s*>=\s*"(\d{4}-\d{2}-\d{2})"\s+AND\s+'
    r'sleep\.interval\.civil_end_time\s*<\s*"(\d{4}-\d{2}-\d{2})"\s*$'
)
ROLLUP_METHOD = "health.users.dataTypes.dataPoints.dailyRollUp"
RECONCILE_METHOD = "health.users.dataTypes.dataPoints.reconcile"


def _date_json(day: dt.date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def _civil(moment: dt.datetime) -> dict[str, Any]:
    return {
        "date": _date_json(moment.date()),
        "time": {"hours": moment.hour, "minutes": moment.minute},
    }


def _offset(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta()
    return f"{int(offset.total_seconds())}s"


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleHealthStandin(GoogleOAuthStandin):
    """The Google Health API v4 (identity, dailyRollUp, sleep via reconcile) behind Google
    OAuth. `max_page_size` forces paging in tests."""

    name = "google_health"
    env_prefix = "GOOGLE_HEALTH"
    user_prefix = "gh-user"
    api_path = "/v4"
    required_scopes: ClassVar[tuple[str, ...]] = (HEALTH_SCOPE + "activity_and_fitness.readonly",)

    def __init__(self, *, max_page_size: int | None = None, **kwargs: Any) -> None:
        # Before the base class adds the routes, which include the subscriber API.
        self.subscribers = GoogleSubscribers(self)
        super().__init__(**kwargs)
        self.max_page_size = max_page_size

    def checker(self) -> Any:
        return google_health_checker()

    async def announce(
        self, provider_user_id: str, date: dt.date, metric: Metric
    ) -> list[Delivery]:
        return await self.subscribers.announce(provider_user_id, date, metric)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        self.add_oauth_routes(router)
        self.subscribers.add_routes(router)
        base = "/v4/users/{user}"
        router.add_get(base + "/identity", self._identity, name="identity")
        router.add_post(
            base + "/dataTypes/{type}/dataPoints:dailyRollUp", self._rollup, name="dailyRollUp"
        )
        router.add_get(
            base + "/dataTypes/{type}/dataPoints:reconcile", self._reconcile, name="reconcile"
        )
        router.add_get(base + "/dataTypes/{type}/dataPoints", self._list, name="list")

    def _caller(self, request: web.Request) -> str | web.Response:
        user_id = self.access_user(request)
        if user_id is None:
            return self.unauthorized()
        if request.match_info["user"] not in ("me", user_id):
            return google_error(403, "The caller does not have permission")
        return user_id

    async def _identity(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        return web.json_response(
            {
                "name": "users/me/identity",
                "healthUserId": user_id,
                "legacyUserId": "L" + hashlib.sha256(user_id.encode()).hexdigest()[:8].upper(),
            }
        )

    def _family(self, value: str | None, user_id: str) -> str | web.Response:
        if not value:
            return "all-sources"
        match = _FAMILY.match(value)
        if match is None or match.group(1) not in ("me", user_id) or match.group(2) not in FAMILIES:
            return google_error(400, "Invalid dataSourceFamily.")
        return match.group(2)

    async def _rollup(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return google_error(400, "Invalid JSON payload received.")
        request[BODY_KEY] = body
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        problem = self.check_body(ROLLUP_METHOD, body)
        if problem is not None:
            return problem
        data_type = request.match_info["type"]
        if data_type not in HEALTH_TYPES:
            return google_error(400, f"The stand-in does not serve {data_type}.")
        if HEALTH_ACTIVITY_SCOPE not in self.granted_scopes(request):
            return insufficient_scopes()
        limit = 14 if data_type in FOURTEEN_DAY_TYPES else 90
        try:
            start = dt.date(**body["range"]["start"]["date"])
            end = dt.date(**body["range"]["end"]["date"])
        except (KeyError, TypeError, ValueError):
            return google_error(400, "range.start.date and range.end.date must be full dates.")
        if "time" in body["range"]["start"] or "time" in body["range"]["end"]:
            return google_error(400, "The stand-in only serves whole-day ranges.")
        days = (end - start).days
        if days <= 0:
            return google_error(400, "The range end must be after its start.")
        if days > limit:
            return google_error(400, f"The maximum range for {data_type} is {limit} days.")
        if body.get("windowSizeDays", 1) != 1:
            return google_error(400, "The stand-in only serves windowSizeDays 1.")
        page_size = body.get("pageSize", limit)
        if not 0 < page_size <= limit:
            return google_error(400, f"pageSize must be between 1 and {limit}.")
        if self.max_page_size is not None:
            page_size = min(page_size, self.max_page_size)
        family = self._family(body.get("dataSourceFamily"), user_id)
        if isinstance(family, web.Response):
            return family
        user = self.users[user_id]
        metric = HEALTH_TYPES[data_type]
        points = []
        for day in daterange(start, end - dt.timedelta(days=1)):
            if family == "self-sources":
                break
            value = user.value(day, metric, manual=family != "google-wearables")
            if value is None:
                continue
            point: dict[str, Any] = {
                "civilStartTime": {"date": _date_json(day)},
                "civilEndTime": {"date": _date_json(day + dt.timedelta(days=1))},
            }
            point.update(self._rollup_value(metric, value))
            points.append(point)
        key = {k: v for k, v in body.items() if k != "pageToken"} | {"type": data_type}
        paged = self.paginate(points, key, body.get("pageToken"), page_size)
        if isinstance(paged, web.Response):
            return paged
        page, next_token = paged
        answer: dict[str, Any] = {"rollupDataPoints": page}
        if next_token:
            answer["nextPageToken"] = next_token
        return web.json_response(answer)

    @staticmethod
    def _rollup_value(metric: Metric, value: float) -> dict[str, Any]:
        match metric:
            case Metric.STEPS:
                return {"steps": {"countSum": str(round(value))}}
            case Metric.FLOORS:
                return {"floors": {"countSum": str(round(value))}}
            case Metric.DISTANCE:
                return {"distance": {"millimetersSum": str(round(value * 1_000_000))}}
            case Metric.ACTIVE_CALORIES:
                return {"activeEnergyBurned": {"kcalSum": value}}
            case Metric.ACTIVE_MINUTES:
                minutes = round(value)
                levels = [
                    ("LIGHT", LIGHT_MINUTES),
                    ("MODERATE", minutes - minutes // 2),
                    ("VIGOROUS", minutes // 2),
                ]
                return {
                    "activeMinutes": {
                        "activeMinutesRollupByActivityLevel": [
                            {"activityLevel": level, "activeMinutesSum": str(amount)}
                            for level, amount in levels
                        ]
                    }
                }
        raise AssertionError(metric)

    def sleep_points(self, user_id: str, start: dt.date, end: dt.date, family: str) -> list[Any]:
        """Sleep sessions ending on `start <= day < end`: a night ending 07:00 local for the
        device value, and a manually logged 15:00 nap for the manual value."""
        user = self.users[user_id]
        zone: ZoneInfo = user.tz
        points: list[tuple[dt.datetime, Any]] = []
        for day in daterange(start, end - dt.timedelta(days=1)):
            parts = user.daily.get(day, {}).get(Metric.SLEEP_MINUTES)
            if parts is None:
                continue
            device, manual = parts
            sessions = [(device, 7, False)]
            if family != "google-wearables":
                sessions.append((manual, 15, True))
            for minutes, end_hour, is_manual in sessions:
                if minutes <= 0:
                    continue
                awake = 0 if is_manual else 30
                end_at = dt.datetime.combine(day, dt.time(end_hour), tzinfo=zone)
                start_at = end_at - dt.timedelta(minutes=minutes + awake)
                sleep = {
                    "interval": {
                        "startTime": _rfc3339(start_at),
                        "startUtcOffset": _offset(start_at),
                        "endTime": _rfc3339(end_at),
                        "endUtcOffset": _offset(end_at),
                        "civilStartTime": _civil(start_at),
                        "civilEndTime": _civil(end_at),
                    },
                    "type": "CLASSIC" if is_manual else "STAGES",
                    "summary": {
                        "minutesAsleep": str(round(minutes)),
                        "minutesAwake": str(awake),
                        "minutesInSleepPeriod": str(round(minutes) + awake),
                    },
                    "metadata": {"mainSleep": not is_manual, "nap": is_manual, "processed": True},
                }
                name = f"users/me/dataTypes/sleep/dataPoints/{secrets.token_hex(8)}"
                points.append((start_at, {"dataPointName": name, "sleep": sleep}))
        # "Data points in the response will be ordered by the interval start time in
        # descending order."
        return [point for _, point in sorted(points, key=lambda item: item[0], reverse=True)]

    async def _reconcile(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        if request.match_info["type"] != "sleep":
            return google_error(400, "The stand-in only reconciles sleep.")
        if HEALTH_SLEEP_SCOPE not in self.granted_scopes(request):
            return insufficient_scopes()
        family = self._family(request.query.get("dataSourceFamily"), user_id)
        if isinstance(family, web.Response):
            return family
        match = _SLEEP_FILTER.match(request.query.get("filter", ""))
        if match is None:
            return google_error(400, "Unsupported or malformed filter.")
        start, end = (dt.date.fromisoformat(group) for group in match.groups())
        try:
            page_size = min(25, int(request.query.get("pageSize", "25")))
        except ValueError:
            return google_error(400, "pageSize must be an integer.")
        if self.max_page_size is not None:
            page_size = min(page_size, self.max_page_size)
        points = [] if family == "self-sources" else self.sleep_points(user_id, start, end, family)
        key = {k: v for k, v in request.query.items() if k != "pageToken"}
        paged = self.paginate(points, key, request.query.get("pageToken"), page_size)
        if isinstance(paged, web.Response):
            return paged
        page, next_token = paged
        answer: dict[str, Any] = {"dataPoints": page}
        if next_token:
            answer["nextPageToken"] = next_token
        return web.json_response(answer)

    async def _list(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        if request.match_info["type"] == "sleep" and "dataSourceFamily" in request.query:
            # As the discovery document says: sleep cannot be listed by data source family.
            return google_error(400, "Filtering sleep by data source family is not supported.")
        return google_error(400, "The stand-in does not serve list; use reconcile.")


# -- Google Fit REST v1 ------------------------------------------------------------------------

FIT_TYPES: dict[str, Metric] = {
    "com.google.step_count.delta": Metric.STEPS,
    "com.google.distance.delta": Metric.DISTANCE,
    "com.google.active_minutes": Metric.ACTIVE_MINUTES,
}
FIT_DERIVED: dict[str, str] = {
    "derived:com.google.step_count.delta:com.google.android.gms:estimated_steps": (
        "com.google.step_count.delta"
    ),
    "derived:com.google.step_count.delta:com.google.android.gms:merge_step_deltas": (
        "com.google.step_count.delta"
    ),
    "derived:com.google.distance.delta:com.google.android.gms:merge_distance_delta": (
        "com.google.distance.delta"
    ),
    "derived:com.google.active_minutes:com.google.android.gms:merge_active_minutes": (
        "com.google.active_minutes"
    ),
}
FIT_SCOPE = "https://www.googleapis.com/auth/fitness."
# The scope each type is read with ("See your Google Fit speed and distance data": location).
FIT_TYPE_SCOPES: dict[str, str] = {
    "com.google.step_count.delta": FIT_SCOPE + "activity.read",
    "com.google.distance.delta": FIT_SCOPE + "location.read",
    "com.google.active_minutes": FIT_SCOPE + "activity.read",
}
FIT_MAX_RANGE_MS = 7_776_000_000
AGGREGATE_METHOD = "fitness.users.dataset.aggregate"
# Where in the local day a day's device value is recorded: near both midnights, so that a
# bucket an hour off midnight (DST handled wrongly) moves a share into the neighbouring day.
DEVICE_SLICES = ((dt.time(0, 30), 0.1), (dt.time(12, 0), 0.8), (dt.time(23, 30), 0.1))
MANUAL_TIME = dt.time(18, 0)


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class GoogleFitStandin(GoogleOAuthStandin):
    """Google Fit's `dataset:aggregate` behind Google OAuth. Each day's device value is
    recorded at 00:30, 12:00 and 23:30 local time (10/80/10 %), a manual value at 18:00 from a
    `user_input` stream. `missing_sources[user]` lists derived data sources a user lacks."""

    name = "google_fit"
    env_prefix = "GOOGLE_FIT"
    user_prefix = "fit-user"
    api_path = "/fitness/v1"
    required_scopes: ClassVar[tuple[str, ...]] = (
        "https://www.googleapis.com/auth/fitness.activity.read",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.missing_sources: dict[str, set[str]] = {}

    def checker(self) -> Any:
        return google_fit_checker()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        self.add_oauth_routes(router)
        router.add_post(
            "/fitness/v1/users/{user}/dataset:aggregate", self._aggregate, name="aggregate"
        )

    def _points(self, user_id: str, data_type: str, manual: bool) -> list[tuple[int, float]]:
        """(epoch ms, value) for every recorded point of `data_type`."""
        user = self.users[user_id]
        metric = FIT_TYPES[data_type]
        points: list[tuple[int, float]] = []
        for day, metrics in user.daily.items():
            parts = metrics.get(metric)
            if parts is None:
                continue
            device, hand = parts
            integer = metric is not Metric.DISTANCE
            scale = 1000 if metric is Metric.DISTANCE else 1  # km -> m
            shares = [device * share * scale for _, share in DEVICE_SLICES]
            if integer:
                rounded = [round(device * share) for _, share in DEVICE_SLICES[:-1]]
                shares = [*rounded, round(device) - sum(rounded)]
            for (moment, _), value in zip(DEVICE_SLICES, shares, strict=True):
                points.append((_ms(dt.datetime.combine(day, moment, tzinfo=user.tz)), value))
            if manual and hand:
                moment_ms = _ms(dt.datetime.combine(day, MANUAL_TIME, tzinfo=user.tz))
                points.append((moment_ms, round(hand) if integer else hand * scale))
        return points

    async def _aggregate(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return google_error(400, "Invalid JSON payload received.")
        request[BODY_KEY] = body
        user_id = self.access_user(request)
        if user_id is None:
            return self.unauthorized()
        if request.match_info["user"] != "me":
            return google_error(403, "Only me is supported.")
        problem = self.check_body(AGGREGATE_METHOD, body)
        if problem is not None:
            return problem
        start_ms, end_ms = int(body["startTimeMillis"]), int(body["endTimeMillis"])
        if end_ms <= start_ms or end_ms - start_ms > FIT_MAX_RANGE_MS:
            return google_error(400, "aggregate duration too large or empty")
        bucket_spec = body.get("bucketByTime")
        if not bucket_spec or "durationMillis" not in bucket_spec:
            return google_error(400, "The stand-in only serves bucketByTime.durationMillis.")
        duration = int(bucket_spec["durationMillis"])
        if duration <= 0:
            return google_error(400, "durationMillis must be positive")
        specs = []
        for spec in body["aggregateBy"]:
            if ("dataTypeName" in spec) == ("dataSourceId" in spec):
                return google_error(400, "Give either dataTypeName or dataSourceId.")
            if "dataTypeName" in spec:
                data_type = spec["dataTypeName"]
                if data_type not in FIT_TYPES:
                    return google_error(400, f"The stand-in does not serve {data_type}.")
                source = f"derived:{data_type}:com.google.android.gms:aggregated"
                specs.append((data_type, source, True))
            else:
                source = spec["dataSourceId"]
                if source not in FIT_DERIVED or source in self.missing_sources.get(user_id, ()):
                    return google_error(403, f"datasource not found: {source}")
                specs.append((FIT_DERIVED[source], source, False))
        granted = self.granted_scopes(request)
        if any(FIT_TYPE_SCOPES[data_type] not in granted for data_type, _, _ in specs):
            return insufficient_scopes()
        buckets = []
        bucket_start = start_ms
        series = [(t, s, self._points(user_id, t, manual)) for t, s, manual in specs]
        while bucket_start < end_ms:
            bucket_end = min(bucket_start + duration, end_ms)
            datasets = []
            for data_type, source, points in series:
                inside = [value for moment, value in points if bucket_start <= moment < bucket_end]
                dataset_points = []
                if inside:
                    total = sum(inside)
                    value = (
                        {"fpVal": float(total)}
                        if data_type == "com.google.distance.delta"
                        else {"intVal": int(total)}
                    )
                    dataset_points.append(
                        {
                            "startTimeNanos": str(bucket_start * 1_000_000),
                            "endTimeNanos": str(bucket_end * 1_000_000),
                            "dataTypeName": data_type,
                            "originDataSourceId": source,
                            "value": [{**value, "mapVal": []}],
                        }
                    )
                datasets.append({"dataSourceId": source, "point": dataset_points})
            buckets.append(
                {
                    "startTimeMillis": str(bucket_start),
                    "endTimeMillis": str(bucket_end),
                    "dataset": datasets,
                }
            )
            bucket_start = bucket_end
        return web.json_response({"bucket": buckets})
