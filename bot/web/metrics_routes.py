"""`GET /metrics`: Prometheus metrics, optionally behind a bearer token.

`metrics_routes(token)` installs the route on an app: the public one (when `METRICS_PORT` is
unset) or the metrics listener's own (`bot.web.listeners`). With a token, a scrape must send
`Authorization: Bearer <token>` (compared in constant time); any other gets 401 with
`WWW-Authenticate: Bearer`, and nothing about why.
"""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web

from bot.storage.accounts import count_by_status
from bot.web.app import DB_KEY, METRICS_KEY, RouteInstaller

METRICS_PATH = "/metrics"
_CHALLENGE = {hdrs.WWW_AUTHENTICATE: 'Bearer realm="Stride metrics"'}


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries exactly `Bearer <token>` (constant time)."""
    scheme, _, credential = (header or "").partition(" ")
    # Compare even when the scheme is wrong, so timing says nothing about the token.
    given = credential.strip().encode("utf-8", "surrogateescape")  # a header: maybe not UTF-8
    same = hmac.compare_digest(given, token.encode("utf-8"))
    return same and scheme.lower() == "bearer"


async def _render(request: web.Request) -> web.Response:
    metrics = request.app[METRICS_KEY]
    # Gauges of stored state are read at scrape time, so they are never stale.
    for status, count in (await count_by_status(request.app[DB_KEY])).items():
        metrics.linked_accounts.labels(status.value).set(count)
    return web.Response(
        body=metrics.render(),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def metrics_routes(token: str | None = None) -> RouteInstaller:
    """The installer of `/metrics`; with `token`, only bearers of it are answered."""

    async def metrics_endpoint(request: web.Request) -> web.Response:
        if token is not None and not bearer_matches(request.headers.get(hdrs.AUTHORIZATION), token):
            return web.Response(
                status=401,
                text="401: Unauthorized\n",
                content_type="text/plain",
                headers=_CHALLENGE,
            )
        return await _render(request)

    def install(app: web.Application) -> None:
        app.router.add_get(METRICS_PATH, metrics_endpoint)

    return install
