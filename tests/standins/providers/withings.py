"""Stand-in for the Withings Public API (OAuth 2.0, measure v2 getactivity, sleep v2 getsummary).

Withings rules kept: every answer is HTTP 200 with `status` in the body (0 ok, 401 invalid
token, 503 "Invalid Params: invalid code" / "invalid refresh_token", 601 too many requests);
codes live 30 seconds by the stand-in's clock and are single-use; the token answer carries
`userid`; the refresh token rotates on every refresh and the old one stays valid until the new
access token is first used, or for 8 hours. Scopes are comma-separated. There is no revoke.
Data is paged with `more` and `offset` (`page_size` entries per page).

Notify: `POST /notify` with the member's token, `action=subscribe|revoke|list`, `callbackurl`
and `appli`. Before a subscription is accepted the callback URL gets a HEAD request that must
answer 2xx (status 293 otherwise); revoking what is not subscribed is status 294. `announce`
(and `sync_watch`) sends the unsigned form notification (`userid`, `appli`, `startdate`,
`enddate`) to each subscribed callback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web

from bot.domain import Metric

from .base import USER_KEY, Fault, Grant, StandinBase, daterange
from .push import Delivery

OLD_REFRESH_GRACE = dt.timedelta(hours=8)
# The notification categories Withings documents (weight, temperature, pressure, activity,
# sleep, user actions, ECG, …).
NOTIFY_APPLIS = frozenset({1, 2, 4, 16, 44, 46, 50, 51, 52, 53, 54, 55, 58})
ACTIVITY_METRICS = (
    Metric.STEPS,
    Metric.DISTANCE,
    Metric.FLOORS,
    Metric.ACTIVE_MINUTES,
    Metric.ACTIVE_CALORIES,
)
SOFT_SECONDS = 5400  # light activity, never counted as active


def withings_answer(status: int, body: Any = None, error: str | None = None) -> web.Response:
    answer: dict[str, Any] = {"status": status, "body": body if body is not None else {}}
    if error is not None:
        answer["error"] = error
    return web.json_response(answer)


class WithingsStandin(StandinBase):
    name = "withings"
    env_prefix = "WITHINGS"
    user_prefix = "1000"
    authorize_path = "/oauth2_user/authorize2"
    token_path = "/v2/oauth2"
    revoke_path = "/v2/oauth2"  # the same endpoint; Withings has no partner revoke
    code_lifetime = dt.timedelta(seconds=30)
    access_lifetime = dt.timedelta(hours=3)
    required_scopes: ClassVar[tuple[str, ...]] = ("user.activity",)
    # Withings documents the client id and secret in the form only.
    default_client_auth: ClassVar[frozenset[str]] = frozenset({"client_secret_post"})

    def __init__(
        self, *, page_size: int = 30, verify_callbacks: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        # Withings sends HEAD to a callback URL before it accepts a subscription.
        self.verify_callbacks = verify_callbacks
        # user id -> {(callback URL, appli)}
        self.notify_subscriptions: dict[str, set[tuple[str, int]]] = {}

    def settings_values(self) -> dict[str, str | None]:
        return {**super().settings_values(), "notify_url": self.base_url + "/notify"}

    def subscriptions_of(self, user_id: str) -> set[int]:
        """The categories (appli) `user_id` is subscribed to, at any callback URL."""
        return {appli for _url, appli in self.notify_subscriptions.get(user_id, set())}

    def add_user(self, user_id: str | None = None, *, tz: Any = "UTC") -> str:
        # Withings user ids are numbers.
        if user_id is None:
            user_id = str(1_000_000 + next(self._user_numbers))
        return super().add_user(user_id, tz=tz)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v2/oauth2", self._oauth2, name="oauth2")
        router.add_post("/v2/measure", self._measure, name="measure")
        router.add_post("/v2/sleep", self._sleep, name="sleep")
        router.add_post("/notify", self._notify, name="notify")

    def requested_scopes(self, query: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(part for part in query.get("scope", "").split(",") if part)

    async def endpoint_of(self, request: web.Request) -> str:
        """The `action` names the endpoint: requesttoken, getactivity, getsummary..."""
        if request.method == "POST":
            action = (await self.read_form(request)).get("action")
            if action:
                return action
        return await super().endpoint_of(request)

    def is_data_endpoint(self, endpoint: str) -> bool:
        return endpoint in {"getactivity", "getsummary"}

    def body_status_next(
        self, n: int = 1, *, status: int = 601, endpoint: str | None = None
    ) -> None:
        """The next `n` matching requests get HTTP 200 with this `status` in the body."""
        self._faults.append(Fault("body_status", n, endpoint, status))

    async def _apply_fault(self, fault: Fault) -> web.StreamResponse:
        if fault.kind == "body_status":
            errors = {601: "Too many requests", 2555: "An unknown error occurred"}
            return withings_answer(fault.status, error=errors.get(fault.status, "Error"))
        return await super()._apply_fault(fault)

    # -- OAuth ------------------------------------------------------------------------------

    def _refresh_valid(self, value: str) -> bool:
        token = self.refresh_tokens.get(value)
        if token is None or token.revoked or token.grant.revoked:
            return False
        if self.users[token.grant.user_id].revoked:
            return False
        if token.superseded_by is not None:
            successor = self.access_tokens[token.superseded_by]
            assert token.superseded_at is not None
            if successor.used or self.clock.now() >= token.superseded_at + OLD_REFRESH_GRACE:
                return False
        return True

    def _token_body(self, grant: Grant) -> tuple[str, dict[str, Any]]:
        access_value, _, refresh_value = self.issue_tokens(grant)
        assert refresh_value is not None
        return access_value, {
            "userid": grant.user_id,
            "access_token": access_value,
            "refresh_token": refresh_value,
            "expires_in": int(self.access_lifetime.total_seconds()),
            "scope": ",".join(grant.scopes),
            "csrf_token": "standin",
            **self.token_type_field(),
        }

    async def _oauth2(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        await self.at_token_door()
        if form.get("action") != "requesttoken":
            return withings_answer(503, error="Invalid Params: unknown action")
        client_id = self.authenticated_client(form, request)
        if client_id is None:
            return withings_answer(503, error="Invalid Params: invalid client_id")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            issued = self.redeem_code(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=None,
            )
            if isinstance(issued, str):
                return withings_answer(503, error="Invalid Params: invalid code")
            request[USER_KEY] = issued.user_id
            _, body = self._token_body(Grant(issued.user_id, issued.scopes))
            return withings_answer(0, body)
        if grant_type == "refresh_token":
            value = form.get("refresh_token", "")
            if not self._refresh_valid(value):
                return withings_answer(503, error="Invalid Params: invalid refresh_token")
            old = self.refresh_tokens[value]
            request[USER_KEY] = old.grant.user_id
            access_value, body = self._token_body(old.grant)
            old.superseded_by = access_value
            old.superseded_at = self.clock.now()
            return withings_answer(0, body)
        return withings_answer(503, error="Invalid Params: invalid grant_type")

    # -- data -------------------------------------------------------------------------------

    def _data_user(self, request: web.Request, form: Mapping[str, str]) -> str | None:
        return self.access_user(request, form.get("access_token"))

    def _page(self, items: list[Any], form: Mapping[str, str]) -> tuple[list[Any], bool, int]:
        offset = int(form.get("offset") or 0)
        page = items[offset : offset + self.page_size]
        more = offset + self.page_size < len(items)
        return page, more, offset + self.page_size if more else 0

    async def _measure(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        if form.get("action") != "getactivity":
            return withings_answer(2555, error="The stand-in serves only getactivity")
        user_id = self._data_user(request, form)
        if user_id is None:
            return withings_answer(401, error="XRequestID: invalid_token")
        try:
            start = dt.date.fromisoformat(form["startdateymd"])
            end = dt.date.fromisoformat(form["enddateymd"])
        except (KeyError, ValueError):
            return withings_answer(503, error="Invalid Params: startdateymd/enddateymd")
        fields = set((form.get("data_fields") or "steps,distance,elevation").split(","))
        user = self.users[user_id]
        activities = []
        for day in daterange(start, end):
            values = {metric: user.value(day, metric, manual=True) for metric in ACTIVITY_METRICS}
            if all(value is None for value in values.values()):
                continue
            activity: dict[str, Any] = {
                "date": day.isoformat(),
                "timezone": user.tz.key,
                "deviceid": None,
                "hash_deviceid": None,
                "brand": 18,
                "is_tracker": True,
            }
            minutes = values[Metric.ACTIVE_MINUTES] or 0
            candidates: dict[str, Any] = {
                "steps": round(values[Metric.STEPS] or 0),
                "distance": (values[Metric.DISTANCE] or 0) * 1000,
                "elevation": values[Metric.FLOORS] or 0,
                "soft": SOFT_SECONDS,
                "moderate": round(minutes * 60 * 0.6),
                "intense": round(minutes * 60) - round(minutes * 60 * 0.6),
                "active": round(minutes * 60),
                "calories": values[Metric.ACTIVE_CALORIES] or 0,
                "totalcalories": (values[Metric.ACTIVE_CALORIES] or 0) + 1650,
            }
            activity.update({key: value for key, value in candidates.items() if key in fields})
            activities.append(activity)
        page, more, offset = self._page(activities, form)
        return withings_answer(0, {"activities": page, "more": more, "offset": offset})

    async def _sleep(self, request: web.Request) -> web.Response:
        form = await self.read_form(request)
        if form.get("action") != "getsummary":
            return withings_answer(2555, error="The stand-in serves only getsummary")
        user_id = self._data_user(request, form)
        if user_id is None:
            return withings_answer(401, error="XRequestID: invalid_token")
        try:
            start = dt.date.fromisoformat(form["startdateymd"])
            end = dt.date.fromisoformat(form["enddateymd"])
        except (KeyError, ValueError):
            return withings_answer(503, error="Invalid Params: startdateymd/enddateymd")
        fields = set((form.get("data_fields") or "total_sleep_time").split(","))
        user = self.users[user_id]
        series = []
        for number, day in enumerate(daterange(start, end), start=1):
            minutes = user.value(day, Metric.SLEEP_MINUTES, manual=True)
            if minutes is None:
                continue
            # The night that ends on `day` at 07:00 local time; Withings dates it `day`.
            end_at = dt.datetime.combine(day, dt.time(7), tzinfo=user.tz)
            start_at = end_at - dt.timedelta(minutes=minutes + 25)
            data = {"total_sleep_time": round(minutes * 60), "wakeupcount": 2, "sleep_score": 80}
            series.append(
                {
                    "id": number,
                    "timezone": user.tz.key,
                    "model": 32,
                    "model_id": 63,
                    "startdate": int(start_at.timestamp()),
                    "enddate": int(end_at.timestamp()),
                    "date": day.isoformat(),
                    "created": int(end_at.timestamp()) + 600,
                    "modified": int(end_at.timestamp()) + 600,
                    "data": {key: value for key, value in data.items() if key in fields},
                }
            )
        page, more, offset = self._page(series, form)
        return withings_answer(0, {"series": page, "more": more, "offset": offset})

    # -- notifications ----------------------------------------------------------------------

    async def _notify(self, request: web.Request) -> web.Response:
        """`action=subscribe|revoke|list` with the member's access token (Withings Notify)."""
        form = await self.read_form(request)
        user_id = self._data_user(request, form)
        if user_id is None:
            return withings_answer(401, error="XRequestID: invalid_token")
        action = form.get("action")
        subscribed = self.notify_subscriptions.setdefault(user_id, set())
        if action == "list":
            profiles = [
                {"appli": appli, "callbackurl": url, "comment": "", "expires": 2147483647}
                for url, appli in sorted(subscribed)
            ]
            return withings_answer(0, {"profiles": profiles})
        url = form.get("callbackurl", "")
        try:
            appli = int(form.get("appli", ""))
        except ValueError:
            return withings_answer(503, error="Invalid Params: appli")
        if appli not in NOTIFY_APPLIS:
            return withings_answer(503, error="Invalid Params: appli")
        if action == "subscribe":
            if not await self._callback_answers(url):
                return withings_answer(293, error="The callback URL is either absent or incorrect")
            subscribed.add((url, appli))
            return withings_answer(0)
        if action == "revoke":
            if (url, appli) not in subscribed:
                return withings_answer(294, error="No such subscription could be deleted")
            subscribed.discard((url, appli))
            return withings_answer(0)
        return withings_answer(2555, error="The stand-in serves only subscribe, revoke and list")

    async def _callback_answers(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 255:
            return False
        if not self.verify_callbacks:
            return True
        try:
            delivery, _ = await self.deliver("HEAD", url)
        except aiohttp.ClientError:
            return False
        return 200 <= delivery.status < 300

    async def announce(
        self, provider_user_id: str, date: dt.date, metric: Metric
    ) -> list[Delivery]:
        """Withings' notification: an unsigned form POST to each subscribed callback."""
        appli = 44 if metric is Metric.SLEEP_MINUTES else 16
        zone = self.user(provider_user_id).tz
        start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
        form = {
            "userid": provider_user_id,
            "appli": str(appli),
            "startdate": str(int(start.timestamp())),
            "enddate": str(int((start + dt.timedelta(days=1)).timestamp())),
        }
        if appli == 16:
            form["date"] = date.isoformat()
        deliveries = []
        for url, subscribed in sorted(self.notify_subscriptions.get(provider_user_id, set())):
            if subscribed == appli:
                delivery, _ = await self.deliver(
                    "POST",
                    url,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    body=urlencode(form).encode(),
                )
                deliveries.append(delivery)
        return deliveries
