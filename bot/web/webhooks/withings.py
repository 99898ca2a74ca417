"""`HEAD` and `POST /webhooks/withings/{secret}`: Withings Notify callbacks.

Withings does not sign notifications, so the only authentication is the unguessable secret
in the path (compared in constant time; a wrong one is 403). Withings checks the URL with a
HEAD request before it accepts a subscription (answered 200 for the right secret). A
notification is a form POST with `userid`, `appli`, `startdate` and `enddate`; Stride needs
`userid` (a number) and `appli` (a number), and queues a sync for the categories it
subscribes to (`WITHINGS_APPLIS`); others are acknowledged and ignored.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from aiohttp import web

from bot.providers.push import WITHINGS_APPLIS
from bot.web.webhooks.common import (
    SyncDispatch,
    accepted,
    read_capped,
    refuse,
    same_secret,
    too_large,
)

PROVIDER = "withings"
_NUMBER = re.compile(r"^[0-9]{1,20}$")


def _form(body: bytes) -> dict[str, str] | None:
    """The first value of each field of a urlencoded form; None when it is not one."""
    try:
        text = body.decode("utf-8")
        fields = parse_qs(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=50
        )
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in fields.items()}


class WithingsWebhook:
    """Answers Withings' HEAD check and queues a sync for each notification."""

    def __init__(self, *, secret: str, dispatch: SyncDispatch) -> None:
        self._secret = secret  # never logged
        self._dispatch = dispatch

    def _authentic(self, request: web.Request) -> bool:
        return same_secret(request.match_info.get("secret"), self._secret)

    async def head(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            return refuse(PROVIDER, 403, "unknown callback")
        return web.Response(status=200)

    async def notify(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            return refuse(PROVIDER, 403, "unknown callback")
        body = await read_capped(request)
        if body is None:
            return too_large(PROVIDER)
        form = _form(body)
        if form is None:
            return refuse(PROVIDER, 400, "body is not a form")
        user_id, appli = form.get("userid", ""), form.get("appli", "")
        if not _NUMBER.match(user_id) or not _NUMBER.match(appli):
            return refuse(PROVIDER, 400, "userid and appli must be numbers")
        if int(appli) in WITHINGS_APPLIS:
            await self._dispatch.request(PROVIDER, user_id, reason=f"withings push (appli {appli})")
        return accepted()
