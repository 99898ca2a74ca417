"""Stand-in for the Oura API v2 (OAuth 2.0, personal_info, daily_activity, sleep).

Oura rules kept: refresh tokens are single-use and rotate (a spent one gets 400
`invalid_grant`); codes are single-use; revoke is `GET|POST /oauth/revoke?access_token=…`;
data is paged with `next_token`. The date filters reproduce what users report of the real
API: `daily_activity` keeps `start_date <= day < end_date`, `sleep` keeps
`start_date < day <= end_date` (so a client must widen its range). Sleep periods of type
`rest` are served too, and are not sleep.

Webhooks: `/v2/webhook/subscription` (GET list, POST create) with `x-client-id` and
`x-client-secret`; a create first GETs the callback with `verification_token` and `challenge`
and needs the challenge echoed; `PUT …/renew/{id}` renews, `DELETE …/{id}` deletes; a
subscription expires after `subscription_lifetime` by the stand-in's clock and then delivers
nothing. `announce` (and `sync_watch`) posts the signed notification to each live one.

OAuth as checked against RFC 6749: a reused refresh token is counted in `reused_refresh_tokens`
(and answered `invalid_grant`, as Oura does); `code_answers_refresh_token = False` leaves the
refresh token out of a code answer. Scopes: `daily` is needed for `daily_activity` and `sleep`,
`personal` for `personal_info` (403 without). `lapse_membership` makes the data endpoints
answer 403 for that member, as Oura does when a membership has lapsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from bot.domain import Metric

from .base import BODY_KEY, USER_KEY, Grant, StandinBase, daterange
from .push import Delivery

WEBHOOK_PATH = "/v2/webhook/subscription"
SUBSCRIPTION_LIFETIME = dt.timedelta(days=30)  # Oura documents none: a stand-in choice
EVENT_TYPES = frozenset({"create", "update", "delete"})
DATA_TYPES = frozenset(
    {
        "tag",
        "enhanced_tag",
        "workout",
        "session",
        "sleep",
        "daily_sleep",
        "daily_readiness",
        "daily_activity",
        "daily_spo2",
        "sleep_time",
        "rest_mode_period",
        "ring_configuration",
        "daily_stress",
        "daily_resilience",
        "daily_cardiovascular_age",
        "vO2_max",
        "heartrate",
    }
)
ACTIVITY_METRICS = (Metric.STEPS, Metric.DISTANCE, Metric.ACTIVE_MINUTES, Metric.ACTIVE_CALORIES)
REST_SECONDS = 1200


class OuraStandin(StandinBase):
    name = "oura"
    env_prefix = "OURA"
    user_prefix = "oura-user"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"
    revoke_path = "/oauth/revoke"
    access_lifetime = dt.timedelta(days=1)
    required_scopes: ClassVar[tuple[str, ...]] = ("daily", "personal")
    default_token_type: ClassVar[str | None] = "bearer"  # Oura's answers say it in lower case

    def __init__(
        self,
        *,
        page_size: int = 50,
        subscription_lifetime: dt.timedelta = SUBSCRIPTION_LIFETIME,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self._next_tokens: dict[str, int] = {}
        self.subscription_lifetime = subscription_lifetime
        self.webhook_subscriptions: dict[str, WebhookSubscription] = {}
        self.code_answers_refresh_token = True
        self.reused_refresh_tokens = 0
        self.lapsed_members: set[str] = set()

    def lapse_membership(self, user_id: str, lapsed: bool = True) -> None:
        """The member's Oura membership lapses (or is renewed): data endpoints answer 403."""
        if lapsed:
            self.lapsed_members.add(user_id)
        else:
            self.lapsed_members.discard(user_id)

    def settings_values(self) -> dict[str, str | None]:
        return {**super().settings_values(), "webhook_url": self.base_url + WEBHOOK_PATH}

    def live_subscriptions(self) -> list[WebhookSubscription]:
        """The subscriptions that have not expired by the stand-in's clock."""
        now = self.clock.now()
        return [sub for sub in self.webhook_subscriptions.values() if sub.expires_at > now]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(self.token_path, self._token, name="token")
        router.add_route("*", self.revoke_path or "/oauth/revoke", self._revoke, name="revoke")
        base = "/v2/usercollection"
        router.add_get(base + "/personal_info", self._personal_info, name="personal_info")
        router.add_get(base + "/daily_activity", self._daily_activity, name="daily_activity")
        router.add_get(base + "/sleep", self._sleep, name="sleep")
        router.add_route("*", WEBHOOK_PATH, self._webhooks, name="webhook_subscriptions")
        router.add_put(WEBHOOK_PATH + "/renew/{id}", self._renew, name="webhook_renew")
        router.add_delete(WEBHOOK_PATH + "/{id}", self._delete, name="webhook_delete")

    def is_data_endpoint(self, endpoint: str) -> bool:
        return super().is_data_endpoint(endpoint) and not endpoint.startswith("webhook")

    def error_response(self, status: int, retry_after: str | None) -> web.Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return web.json_response(
            {"detail": f"injected HTTP {status}"}, status=status, headers=headers
        )

    @staticmethod
    def unauthorized() -> web.Response:
        return web.json_response({"detail": "Unauthorized: invalid or expired token"}, status=401)

    async def _token(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        await self.at_token_door()
        client_id = self.authenticated_client(form, request)
        if client_id is None:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            issued = self.redeem_code(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier"),
            )
            if isinstance(issued, str):
                return web.json_response({"error": "invalid_grant"}, status=400)
            request[USER_KEY] = issued.user_id
            return self._token_answer(
                Grant(issued.user_id, issued.scopes), refresh=self.code_answers_refresh_token
            )
        if grant_type == "refresh_token":
            token = self.refresh_tokens.get(form.get("refresh_token", ""))
            if token is not None and token.used:
                self.reused_refresh_tokens += 1
            if (
                token is None
                or token.used
                or token.revoked
                or token.grant.revoked
                or self.users[token.grant.user_id].revoked
            ):
                return web.json_response({"error": "invalid_grant"}, status=400)
            token.used = True  # single-use: the answer carries its successor
            request[USER_KEY] = token.grant.user_id
            return self._token_answer(token.grant)
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    def _token_answer(self, grant: Grant, *, refresh: bool = True) -> web.Response:
        access_value, _, refresh_value = self.issue_tokens(grant, refresh=refresh)
        answer: dict[str, Any] = {
            **self.token_type_field(),
            "access_token": access_value,
            "expires_in": int(self.access_lifetime.total_seconds()),
            "scope": " ".join(grant.scopes),
        }
        if refresh_value is not None:
            answer["refresh_token"] = refresh_value
        return web.json_response(answer)

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        if self.revoke_client_refused(form, request):
            return web.json_response({"error": "invalid_client"}, status=401)
        value = request.query.get("access_token", "")
        user_id = self.access_user(request, value)
        if user_id is None:
            return self.unauthorized()
        self.access_tokens[value].grant.revoked = True
        return web.json_response({})

    def _caller(self, request: web.Request, scope: str = "daily") -> str | web.Response:
        """The member calling with a valid token whose grant has `scope`, or the answer."""
        user_id = self.access_user(request)
        if user_id is None:
            return self.unauthorized()
        if scope not in self.granted_scopes(request):
            return web.json_response({"detail": f"Missing scope: {scope}"}, status=403)
        if scope == "daily" and user_id in self.lapsed_members:
            return web.json_response(
                {"detail": "Oura membership required: the user's membership has expired"},
                status=403,
            )
        return user_id

    async def _personal_info(self, request: web.Request) -> web.Response:
        user_id = self._caller(request, "personal")
        if isinstance(user_id, web.Response):
            return user_id
        return web.json_response(
            {"id": user_id, "age": 34, "weight": 68.5, "height": 1.72, "biological_sex": "female"}
        )

    def _range(self, request: web.Request) -> tuple[dt.date, dt.date] | web.Response:
        try:
            return (
                dt.date.fromisoformat(request.query["start_date"]),
                dt.date.fromisoformat(request.query["end_date"]),
            )
        except (KeyError, ValueError):
            return web.json_response({"detail": "start_date and end_date are required"}, status=400)

    def _paged(self, request: web.Request, documents: list[Any]) -> web.Response:
        offset = 0
        token = request.query.get("next_token")
        if token:
            if token not in self._next_tokens:
                return web.json_response({"detail": "invalid next_token"}, status=400)
            offset = self._next_tokens.pop(token)
        page = documents[offset : offset + self.page_size]
        next_token = None
        if offset + self.page_size < len(documents):
            next_token = secrets.token_urlsafe(12)
            self._next_tokens[next_token] = offset + self.page_size
        return web.json_response({"data": page, "next_token": next_token})

    async def _daily_activity(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        span = self._range(request)
        if isinstance(span, web.Response):
            return span
        start, end = span
        user = self.users[user_id]
        documents = []
        # As reported of the real API: a date-only end_date means its midnight, so the end
        # day itself is left out.
        for day in daterange(start, end - dt.timedelta(days=1)):
            values = {metric: user.value(day, metric, manual=True) for metric in ACTIVITY_METRICS}
            if all(value is None for value in values.values()):
                continue
            minutes = values[Metric.ACTIVE_MINUTES] or 0
            calories = values[Metric.ACTIVE_CALORIES] or 0
            documents.append(
                {
                    "id": f"{user_id}-{day.isoformat()}",
                    "class_5_min": None,
                    "score": 82,
                    "active_calories": round(calories),
                    "average_met_minutes": 1.6,
                    "contributors": {"meet_daily_targets": 60, "move_every_hour": 95},
                    "equivalent_walking_distance": round((values[Metric.DISTANCE] or 0) * 1000),
                    "high_activity_met_minutes": 30,
                    "high_activity_time": round(minutes * 60 * 0.3),
                    "inactivity_alerts": 0,
                    "low_activity_met_minutes": 200,
                    "low_activity_time": 3 * 3600,
                    "medium_activity_met_minutes": 120,
                    "medium_activity_time": round(minutes * 60) - round(minutes * 60 * 0.3),
                    "met": {"interval": 60.0, "items": [], "timestamp": f"{day}T04:00:00+00:00"},
                    "meters_to_target": 1500,
                    "non_wear_time": 0,
                    "resting_time": 7 * 3600,
                    "sedentary_met_minutes": 10,
                    "sedentary_time": 8 * 3600,
                    "steps": round(values[Metric.STEPS] or 0),
                    "target_calories": 500,
                    "target_meters": 10000,
                    "total_calories": round(calories) + 1700,
                    "day": day.isoformat(),
                    "timestamp": f"{day}T04:00:00+00:00",
                }
            )
        return self._paged(request, documents)

    async def _sleep(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
        if isinstance(user_id, web.Response):
            return user_id
        span = self._range(request)
        if isinstance(span, web.Response):
            return span
        start, end = span
        user = self.users[user_id]
        documents = []
        # As reported of the real API: the start day itself is left out.
        for day in daterange(start + dt.timedelta(days=1), end):
            minutes = user.value(day, Metric.SLEEP_MINUTES, manual=True)
            if minutes is None:
                continue
            wake = dt.datetime.combine(day, dt.time(7), tzinfo=user.tz)
            bed = wake - dt.timedelta(minutes=minutes + 35)
            for kind, seconds, period_start, period_end in (
                ("long_sleep", round(minutes * 60), bed, wake),
                ("rest", REST_SECONDS, wake + dt.timedelta(hours=7), wake + dt.timedelta(hours=8)),
            ):
                documents.append(
                    {
                        "id": f"{user_id}-{day.isoformat()}-{kind}",
                        "average_breath": 14.2,
                        "average_heart_rate": 55.0,
                        "average_hrv": 48,
                        "awake_time": 35 * 60,
                        "bedtime_end": period_end.isoformat(),
                        "bedtime_start": period_start.isoformat(),
                        "day": day.isoformat(),
                        "deep_sleep_duration": seconds // 5,
                        "efficiency": 90,
                        "latency": 600,
                        "light_sleep_duration": seconds // 2,
                        "low_battery_alert": False,
                        "lowest_heart_rate": 48,
                        "period": 0,
                        "rem_sleep_duration": seconds - seconds // 5 - seconds // 2,
                        "restless_periods": 120,
                        "time_in_bed": seconds + 35 * 60,
                        "total_sleep_duration": seconds,
                        "type": kind,
                    }
                )
        return self._paged(request, documents)

    # -- webhook subscriptions --------------------------------------------------------------

    def _app_authorised(self, request: web.Request) -> bool:
        return (
            request.headers.get("x-client-id") == self.client_id
            and request.headers.get("x-client-secret") == self.client_secret
        )

    async def _webhooks(self, request: web.Request) -> web.Response:
        if not self._app_authorised(request):
            return web.json_response({"detail": "invalid client credentials"}, status=401)
        if request.method == "GET":
            subs = sorted(self.webhook_subscriptions.values(), key=lambda sub: sub.id)
            return web.json_response([sub.model() for sub in subs])
        if request.method != "POST":
            return web.json_response({"detail": "Method Not Allowed"}, status=405)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": "invalid JSON"}, status=422)
        request[BODY_KEY] = {
            key: value for key, value in body.items() if key != "verification_token"
        }
        problem = _subscription_problem(body)
        if problem is not None:
            return web.json_response({"detail": problem}, status=422)
        if not await self._verify_callback(body["callback_url"], body["verification_token"]):
            return web.json_response({"detail": "callback URL verification failed"}, status=400)
        sub = WebhookSubscription(
            id=str(uuid.uuid4()),
            callback_url=body["callback_url"],
            event_type=body["event_type"],
            data_type=body["data_type"],
            expires_at=self.clock.now() + self.subscription_lifetime,
        )
        self.webhook_subscriptions[sub.id] = sub
        return web.json_response(sub.model(), status=201)

    async def _verify_callback(self, url: str, token: str) -> bool:
        """Oura's check while the create request is open: GET with the token and a challenge,
        which must be echoed."""
        challenge = secrets.token_urlsafe(16)
        try:
            delivery, answer = await self.deliver(
                "GET", url, params={"verification_token": token, "challenge": challenge}
            )
        except aiohttp.ClientError:
            return False
        return delivery.status == 200 and answer == {"challenge": challenge}

    async def _renew(self, request: web.Request) -> web.Response:
        if not self._app_authorised(request):
            return web.json_response({"detail": "invalid client credentials"}, status=401)
        sub = self.webhook_subscriptions.get(request.match_info["id"])
        if sub is None:
            return web.json_response({"detail": "Not Found"}, status=404)
        sub.expires_at = self.clock.now() + self.subscription_lifetime
        return web.json_response(sub.model())

    async def _delete(self, request: web.Request) -> web.Response:
        if not self._app_authorised(request):
            return web.json_response({"detail": "invalid client credentials"}, status=401)
        if self.webhook_subscriptions.pop(request.match_info["id"], None) is None:
            return web.json_response({"detail": "Not Found"}, status=404)
        return web.Response(status=204)

    async def announce(
        self, provider_user_id: str, date: dt.date, metric: Metric
    ) -> list[Delivery]:
        """Oura's signed notification to each live subscription of the data type."""
        data_type = "sleep" if metric is Metric.SLEEP_MINUTES else "daily_activity"
        deliveries = []
        for sub in self.live_subscriptions():
            if sub.data_type != data_type or sub.event_type != "update":
                continue
            event = {
                "event_type": "update",
                "data_type": data_type,
                "object_id": f"{provider_user_id}-{date.isoformat()}",
                "event_time": self.clock.now().isoformat(),
                "user_id": provider_user_id,
            }
            body = json.dumps(event).encode()
            delivery, _ = await self.deliver(
                "POST", sub.callback_url, headers=self.signed_headers(body), body=body
            )
            deliveries.append(delivery)
        return deliveries

    def signed_headers(self, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
        """The headers Oura signs a notification with: `x-oura-signature` is the uppercase hex
        HMAC-SHA256 of `x-oura-timestamp` + body, keyed with the app's client secret."""
        timestamp = timestamp or str(int(self.clock.now().timestamp()))
        mac = hmac.new(self.client_secret.encode(), timestamp.encode() + body, hashlib.sha256)
        return {
            "Content-Type": "application/json",
            "x-oura-timestamp": timestamp,
            "x-oura-signature": mac.hexdigest().upper(),
        }


@dataclass
class WebhookSubscription:
    id: str
    callback_url: str
    event_type: str
    data_type: str
    expires_at: dt.datetime

    def model(self) -> dict[str, str]:
        """As Oura answers it (`WebhookSubscriptionModel`; the token is never returned)."""
        return {
            "id": self.id,
            "callback_url": self.callback_url,
            "event_type": self.event_type,
            "data_type": self.data_type,
            "expiration_time": self.expires_at.isoformat(),
        }


def _subscription_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be an object"
    for field in ("callback_url", "verification_token", "event_type", "data_type"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"{field} is required"
    if body["event_type"] not in EVENT_TYPES:
        return "event_type must be create, update or delete"
    if body["data_type"] not in DATA_TYPES:
        return "unknown data_type"
    return None
