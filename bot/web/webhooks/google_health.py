"""`POST /webhooks/google-health`: the Google Health API subscriber endpoint.

Every request Google sends carries the subscriber's secret as the whole `Authorization`
header. When the subscriber is created (or its endpoint changed) Google posts
`{"type": "verification"}` twice: with the header, which must be answered 201, and without it,
which must be refused with 401 or 403. Notifications carry the same header and, per the
discovery document, an ECDSA signature of the body (checked when the public key is
configured, `bot.web.webhooks.signatures`).

The notification body is not documented precisely, so `notification_targets` reads it
defensively: the health user id from `healthUserId`, `userId` or a `users/{id}` resource name,
the data type from `dataType`/`dataTypes` or a `users/{id}/dataTypes/{type}` name, anywhere
in the document. An authenticated body in which no user can be found is 400. Data types Stride
does not score (weight, altitude) are acknowledged and ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from bot.providers.push import GOOGLE_HEALTH_DATA_TYPES
from bot.web.webhooks.common import (
    SyncDispatch,
    accepted,
    json_document,
    read_capped,
    refuse,
    same_secret,
    too_large,
)
from bot.web.webhooks.signatures import EcdsaVerifier

log = logging.getLogger(__name__)

PROVIDER = "google_health"
MAX_TARGETS = 100  # users one notification may name
MAX_DEPTH = 8
_ID = r"[A-Za-z0-9._~-]{1,128}"
_DATA_TYPE_NAME = re.compile(rf"^users/({_ID})/dataTypes/([a-z0-9-]{{1,64}})$")
_USER_NAME = re.compile(rf"^users/({_ID})$")
_PLAIN_ID = re.compile(rf"^{_ID}$")
_PLAIN_TYPE = re.compile(r"^(?:dataTypes/)?([a-z0-9-]{1,64})$")
USER_KEYS = ("healthUserId", "userId", "user")
TYPE_KEYS = ("dataType", "dataTypes")


def _walk(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object in the document, the outermost first, at most `MAX_DEPTH` deep."""
    if depth > MAX_DEPTH:
        return
    if isinstance(node, dict):
        yield node
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return
    for child in children:
        yield from _walk(child, depth + 1)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _user_of(key: str, value: str) -> str | None:
    """The user a string names: a `users/{id}` resource name anywhere, a plain id only under
    a user key."""
    named = _USER_NAME.match(value)
    if named is not None:
        user = named.group(1)
    elif key in USER_KEYS and _PLAIN_ID.match(value):
        user = value
    else:
        return None
    return None if user == "me" else user


def _named_in(node: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The users and data types one JSON object names directly."""
    users: set[str] = set()
    types: set[str] = set()
    for key, value in node.items():
        for text in _strings(value):
            typed = _DATA_TYPE_NAME.match(text)
            if typed is not None:
                if typed.group(1) != "me":
                    users.add(typed.group(1))
                types.add(typed.group(2))
            elif (user := _user_of(key, text)) is not None:
                users.add(user)
            elif key in TYPE_KEYS and (plain := _PLAIN_TYPE.match(text)) is not None:
                types.add(plain.group(1))
    return users, types


def notification_targets(document: Any) -> dict[str, frozenset[str]]:
    """The users a notification is about, each with the data types named beside it (empty
    when none is); empty when it names no user. Stops once `MAX_TARGETS` is exceeded."""
    found: dict[str, set[str]] = {}
    for node in _walk(document):
        users, types = _named_in(node)
        for user in users:
            found.setdefault(user, set()).update(types)
        if len(found) > MAX_TARGETS:
            break
    return {user: frozenset(types) for user, types in found.items()}


def is_verification(document: Any) -> bool:
    return isinstance(document, dict) and document.get("type") == "verification"


class GoogleHealthWebhook:
    """Answers the verification handshake and queues a sync for each notified user."""

    def __init__(
        self,
        *,
        authorization: str,
        verifier: EcdsaVerifier | None,
        signature_header: str,
        dispatch: SyncDispatch,
    ) -> None:
        self._authorization = authorization  # the whole header value; never logged
        self._verifier = verifier
        self._signature_header = signature_header
        self._dispatch = dispatch

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization")
        if given is None:
            return refuse(PROVIDER, 401, "authorization required")
        if not same_secret(given, self._authorization):
            return refuse(PROVIDER, 403, "authorization not accepted")
        body = await read_capped(request)
        if body is None:
            return too_large(PROVIDER)
        if self._verifier is not None and not self._verifier.verify(
            request.headers.get(self._signature_header), body
        ):
            return refuse(PROVIDER, 401, "signature missing or not valid")
        document = json_document(body)
        if document is None:
            return refuse(PROVIDER, 400, "body is not JSON")
        if is_verification(document):
            log.info("google_health webhook: answered the endpoint verification")
            return accepted(201)
        targets = notification_targets(document)
        if not targets:
            return refuse(PROVIDER, 400, "no user in the notification")
        if len(targets) > MAX_TARGETS:
            return refuse(PROVIDER, 400, "too many users in one notification")
        for user, types in sorted(targets.items()):
            scored = sorted(types & GOOGLE_HEALTH_DATA_TYPES.keys())
            if types and not scored:
                continue  # only weight or altitude: not scored by Stride
            reason = f"google_health push ({', '.join(scored) or 'unknown type'})"
            await self._dispatch.request(PROVIDER, user, reason=reason)
        return accepted()
