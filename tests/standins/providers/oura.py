"""Stand-in for the Oura API v2 (OAuth 2.0, personal_info, daily_activity, sleep).

Oura rules kept: refresh tokens are single-use and rotate (a spent one gets 400
`invalid_grant`); codes are single-use; revoke is `GET|POST /oauth/revoke?access_token=…`;
data is paged with `next_token`. The date filters reproduce what users report of the real
API: `daily_activity` keeps `start_date <= day < end_date`, `sleep` keeps
`start_date < day <= end_date` (so a client must widen its range). Sleep periods of type
`rest` are served too, and are not sleep.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, ClassVar

from aiohttp import web

from bot.domain import Metric

from .base import USER_KEY, Grant, StandinBase, daterange

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

    def __init__(self, *, page_size: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self._next_tokens: dict[str, int] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(self.token_path, self._token, name="token")
        router.add_route("*", self.revoke_path or "/oauth/revoke", self._revoke, name="revoke")
        base = "/v2/usercollection"
        router.add_get(base + "/personal_info", self._personal_info, name="personal_info")
        router.add_get(base + "/daily_activity", self._daily_activity, name="daily_activity")
        router.add_get(base + "/sleep", self._sleep, name="sleep")

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
        if not self.client_credentials(form, request):
            return web.json_response({"error": "invalid_client"}, status=401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            issued = self.redeem_code(
                form.get("code", ""),
                client_id=form.get("client_id") or self.client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier"),
            )
            if isinstance(issued, str):
                return web.json_response({"error": "invalid_grant"}, status=400)
            request[USER_KEY] = issued.user_id
            return self._token_answer(Grant(issued.user_id, issued.scopes))
        if grant_type == "refresh_token":
            token = self.refresh_tokens.get(form.get("refresh_token", ""))
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

    def _token_answer(self, grant: Grant) -> web.Response:
        access_value, _, refresh_value = self.issue_tokens(grant)
        return web.json_response(
            {
                "token_type": "bearer",
                "access_token": access_value,
                "expires_in": int(self.access_lifetime.total_seconds()),
                "refresh_token": refresh_value,
                "scope": " ".join(grant.scopes),
            }
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        value = request.query.get("access_token", "")
        user_id = self.access_user(request, value)
        if user_id is None:
            return self.unauthorized()
        self.access_tokens[value].grant.revoked = True
        return web.json_response({})

    def _caller(self, request: web.Request) -> str | web.Response:
        user_id = self.access_user(request)
        return self.unauthorized() if user_id is None else user_id

    async def _personal_info(self, request: web.Request) -> web.Response:
        user_id = self._caller(request)
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
