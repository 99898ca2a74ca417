"""`POST /upload/apple-health/{upload_id}`: a member's iPhone uploads its Health data.

In this order, each refusal a short JSON answer `{"error", "field", "message"}` that never
repeats the secret:

1. authenticate, before anything reads the body: the `X-Stride-Secret` header against the
   address's stored fingerprint, in constant time (an unknown address or a wrong secret: 401);
2. the address's rate (429 with `Retry-After`);
3. the body, read up to `APPLE_HEALTH__MAX_UPLOAD_BYTES` (413 beyond; one that does not
   decode: 400);
4. JSON and its shape (400, naming the field), then the values: a day outside the window, an
   impossible amount, an unknown metric or unit (422, naming the field).

An accepted upload answers 200 with how many day values it carried (`days`), how many
changed, the Health Auto Export metrics Stride does not count (`ignored`), and the values it
left out because their day is final in the member's challenges (`skipped`, each
`{"date", "metric", "reason": "final"}`): a final day no longer changes.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.providers.apple_health import (
    SECRET_HEADER,
    UPLOAD_PATH,
    AppleHealthUploads,
    UploadRejected,
)
from bot.web.app import RouteInstaller
from bot.web.uploads.limits import UploadRateLimit
from bot.web.webhooks.common import json_document, read_capped

log = logging.getLogger(__name__)

MAX_UPLOAD_ID_LENGTH = 64


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return web.json_response(
        {"error": code, "field": field, "message": message},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


class AppleHealthUploadRoute:
    def __init__(
        self, uploads: AppleHealthUploads, limit: UploadRateLimit, *, max_bytes: int
    ) -> None:
        self._uploads = uploads
        self._limit = limit
        self._max_bytes = max_bytes

    async def handle(self, request: web.Request) -> web.Response:
        upload_id = request.match_info.get("upload_id", "")
        if len(upload_id) > MAX_UPLOAD_ID_LENGTH:
            upload_id = ""
        endpoint = await self._uploads.authenticate(upload_id, request.headers.get(SECRET_HEADER))
        if endpoint is None:
            log.info("apple_health upload refused: unknown address or wrong secret")
            return _error(
                401,
                "unauthorized",
                f"Unknown upload address or wrong {SECRET_HEADER} header. Run /link "
                "apple_health in Discord for a new address and secret.",
            )
        wait = self._limit.take(endpoint.account_id)
        if wait is not None:
            log.info("apple_health upload of account %d refused: rate", endpoint.account_id)
            response = _error(
                429, "rate_limited", f"Too many uploads: try again in {wait} seconds."
            )
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            body = await read_capped(request, self._max_bytes)
        except web.RequestPayloadError:  # a Content-Encoding that does not decode, a cut body
            return _error(400, "malformed", "The body could not be read (is it compressed?).")
        if body is None:
            return _error(
                413,
                "too_large",
                f"The upload is larger than {self._max_bytes:,} bytes: send fewer days "
                "(a shorter period) at a time.",
            )
        document = json_document(body)
        if document is None:
            return _error(400, "malformed", "The body is not JSON.")
        try:
            result = await self._uploads.accept(endpoint, document)
        except UploadRejected as refused:
            log.info(
                "apple_health upload of account %d refused: %s (%s)",
                endpoint.account_id,
                refused.code,
                refused.field,
            )
            return _error(refused.status, refused.code, refused.message, refused.field)
        return web.json_response(
            {
                "status": "ok",
                "days": result.days,
                "changed": result.changed,
                "ignored": list(result.ignored),
                "skipped": [
                    {"date": v.day.isoformat(), "metric": v.metric.value, "reason": "final"}
                    for v in result.final
                ],
            },
            headers={"Cache-Control": "no-store"},
        )


def upload_routes(
    uploads: AppleHealthUploads, limit: UploadRateLimit, *, max_bytes: int
) -> RouteInstaller:
    """The installer for `create_app(installers=…)`: the Apple Health upload route."""
    route = AppleHealthUploadRoute(uploads, limit, max_bytes=max_bytes)

    def install(app: web.Application) -> None:
        app.router.add_post(UPLOAD_PATH, route.handle)

    return install
