"""The aiohttp application factory: the app's keys, `/healthz`, and the route installers.

`create_app` builds an app with the error middleware (`bot.web.errors`) and `/healthz`, then
runs each installer (OAuth, webhooks, share pages, the sandbox, `/metrics`). The server that
runs an app is `bot.web.server.WebServer`; which apps listen where is `bot.web.listeners`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from bot.metrics import Metrics
from bot.storage import Database
from bot.web.errors import error_middleware
from bot.web.pages import html_page
from bot.web.server import WebServer

__all__ = [
    "DB_KEY",
    "MAX_REQUEST_BYTES",
    "METRICS_KEY",
    "RouteInstaller",
    "WebServer",
    "create_app",
    "html_page",
]

DB_KEY = web.AppKey("db", Database)
METRICS_KEY = web.AppKey("metrics", Metrics)

MAX_REQUEST_BYTES = 64 * 1024

RouteInstaller = Callable[[web.Application], None]


async def healthz(request: web.Request) -> web.Response:
    if await request.app[DB_KEY].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unreachable"}, status=503)


def create_app(
    *, db: Database, metrics: Metrics, installers: Iterable[RouteInstaller] = ()
) -> web.Application:
    """An app with `/healthz` and the installers' routes. `/metrics` is one of them
    (`bot.web.metrics_routes`), on this app or on one of its own."""
    app = web.Application(
        middlewares=[error_middleware(metrics)], client_max_size=MAX_REQUEST_BYTES
    )
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", healthz)
    for install in installers:
        install(app)
    return app
