"""The Google Health API's subscriber API and its notifications, for the Google Health stand-in.

What the discovery document says, kept: `projects.subscribers.create` takes a
`CreateSubscriberPayload` (validated against the discovery document) and, before it succeeds,
posts `{"type": "verification"}` to the endpoint twice: with the subscriber's secret as the
whole `Authorization` header (201 expected) and without it (401 or 403 expected); otherwise
the create fails with FAILED_PRECONDITION. `list` and `delete` manage them. The project's own
OAuth token (cloud-platform scope) is only required to be present.

Notifications: every request is signed with an ECDSA P-256 key of the stand-in
(`public_key_pem` is what `GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY` takes), base64 DER in
`GOOGLE-HEALTH-API-SIGNATURE`. The body of a notification is not documented; the stand-in
sends Google's resource-name style: `{"user": "users/{id}", "dataType":
"users/{id}/dataTypes/{type}", "operation": "UPSERT", "civilDate": {...}}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.domain import Metric

from .discovery import google_health_checker
from .push import Delivery

if TYPE_CHECKING:
    from .base import StandinBase

CREATE_METHOD = "health.projects.subscribers.create"
SIGNATURE_HEADER = "GOOGLE-HEALTH-API-SIGNATURE"
DATA_TYPES: dict[Metric, str] = {
    Metric.STEPS: "steps",
    Metric.DISTANCE: "distance",
    Metric.FLOORS: "floors",
    Metric.SLEEP_MINUTES: "sleep",
}


def _status_error(code: int, status: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "status": status}}, status=code
    )


@dataclass
class Subscriber:
    name: str
    endpoint_uri: str
    secret: str
    data_types: set[str] = field(default_factory=set)
    state: str = "ACTIVE"

    def resource(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "endpointUri": self.endpoint_uri,
            "endpointAuthorization": {"secretSet": True},
            "subscriberConfigs": [
                {"dataTypes": sorted(self.data_types), "subscriptionCreatePolicy": "AUTOMATIC"}
            ],
            "state": self.state,
        }


class GoogleSubscribers:
    """The subscribers of one stand-in project, and the notifications sent to them."""

    def __init__(self, standin: StandinBase) -> None:
        self._standin = standin
        self.subscribers: dict[str, Subscriber] = {}
        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        self.verification_failures: list[str] = []

    def public_key_pem(self) -> str:
        return (
            self.signing_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def sign(self, body: bytes) -> str:
        der = self.signing_key.sign(body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode("ascii")

    def add_routes(self, router: web.UrlDispatcher) -> None:
        base = "/v4/projects/{project}/subscribers"
        router.add_route("*", base, self._collection, name="subscribers")
        router.add_delete(base + "/{subscriber}", self._delete, name="subscriber_delete")

    async def _collection(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return _status_error(401, "UNAUTHENTICATED", "Request is missing credentials.")
        project = request.match_info["project"]
        if request.method == "GET":
            found = [
                sub.resource()
                for name, sub in sorted(self.subscribers.items())
                if name.startswith(f"projects/{project}/")
            ]
            return web.json_response({"subscribers": found, "totalSize": len(found)})
        if request.method != "POST":
            return _status_error(405, "UNIMPLEMENTED", "Method not allowed.")
        try:
            payload = await request.json()
        except ValueError:
            return _status_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        errors = google_health_checker().request_errors(CREATE_METHOD, payload)
        if errors:
            return _status_error(400, "INVALID_ARGUMENT", "; ".join(errors))
        subscriber_id = request.query.get("subscriberId") or secrets.token_hex(8)
        name = f"projects/{project}/subscribers/{subscriber_id}"
        if name in self.subscribers:
            return _status_error(409, "ALREADY_EXISTS", "The subscriber already exists.")
        subscriber = Subscriber(
            name=name,
            endpoint_uri=payload["endpointUri"],
            secret=payload["endpointAuthorization"]["secret"],
            data_types={
                data_type
                for config in payload.get("subscriberConfigs", [])
                for data_type in config.get("dataTypes", [])
            },
        )
        problem = await self._verify(subscriber)
        if problem is not None:
            self.verification_failures.append(problem)
            return _status_error(
                400, "FAILED_PRECONDITION", f"Endpoint verification failed: {problem}"
            )
        self.subscribers[name] = subscriber
        return web.json_response(
            {"name": f"{name}/operations/create", "done": True, "response": subscriber.resource()}
        )

    async def _verify(self, subscriber: Subscriber) -> str | None:
        """The two verification posts; why they failed, or None."""
        body = json.dumps({"type": "verification"}).encode()
        base_headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)}
        try:
            with_secret, _ = await self._standin.deliver(
                "POST",
                subscriber.endpoint_uri,
                headers={**base_headers, "Authorization": subscriber.secret},
                body=body,
            )
            without, _ = await self._standin.deliver(
                "POST", subscriber.endpoint_uri, headers=base_headers, body=body
            )
        except aiohttp.ClientError:
            return "endpoint unreachable"
        if with_secret.status != 201:
            return f"with the secret the endpoint answered {with_secret.status}, not 201"
        if without.status not in (401, 403):
            return f"without the secret the endpoint answered {without.status}, not 401 or 403"
        return None

    async def _delete(self, request: web.Request) -> web.Response:
        project, subscriber = request.match_info["project"], request.match_info["subscriber"]
        name = f"projects/{project}/subscribers/{subscriber}"
        if self.subscribers.pop(name, None) is None:
            return _status_error(404, "NOT_FOUND", "No such subscriber.")
        return web.json_response({"name": f"{name}/operations/delete", "done": True})

    def notification(self, user_id: str, date: dt.date, data_type: str) -> dict[str, Any]:
        return {
            "user": f"users/{user_id}",
            "dataType": f"users/{user_id}/dataTypes/{data_type}",
            "operation": "UPSERT",
            "civilDate": {"year": date.year, "month": date.month, "day": date.day},
        }

    async def announce(self, user_id: str, date: dt.date, metric: Metric) -> list[Delivery]:
        """A signed notification to every active subscriber of the metric's data type."""
        data_type = DATA_TYPES.get(metric)
        if data_type is None:
            return []  # active minutes, calories: Google pushes nothing for these
        body = json.dumps(self.notification(user_id, date, data_type)).encode()
        deliveries = []
        for subscriber in self.subscribers.values():
            if subscriber.state != "ACTIVE" or data_type not in subscriber.data_types:
                continue
            delivery, _ = await self._standin.deliver(
                "POST",
                subscriber.endpoint_uri,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": subscriber.secret,
                    SIGNATURE_HEADER: self.sign(body),
                },
                body=body,
            )
            deliveries.append(delivery)
        return deliveries
