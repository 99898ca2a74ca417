"""The aiohttp application factory and the server that runs it inside the bot's event loop."""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from bot.metrics import Metrics
from bot.storage import Database
from bot.storage.accounts import count_by_status

log = logging.getLogger(__name__)

DB_KEY = web.AppKey("db", Database)
METRICS_KEY = web.AppKey("metrics", Metrics)

MAX_REQUEST_BYTES = 64 * 1024

RouteInstaller = Callable[[web.Application], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def html_page(title: str, message: str, *, status: int = 200) -> web.Response:
    """A small self-contained page (no external assets). Both texts are escaped."""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Stride</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem;
       color: #1f2328; background: #f6f8fa; }}
main {{ background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 3px #0002; }}
h1 {{ font-size: 1.4rem; margin-top: 0; }}
</style></head>
<body><main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></main></body></html>
"""
    return web.Response(text=body, status=status, content_type="text/html")


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Plain pages for HTTP errors; an unexpected exception gets a code, never a traceback."""
    metrics = request.app[METRICS_KEY]
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        metrics.http_requests.labels(_route_name(request), str(exc.status)).inc()
        if exc.status >= 400 and exc.content_type != "text/html":
            return html_page(exc.reason, exc.text or exc.reason, status=exc.status)
        raise
    except Exception:
        code = secrets.token_hex(2).upper()
        log.exception(
            "unhandled error in %s %s (code %s)", request.method, _route_name(request), code
        )
        metrics.http_requests.labels(_route_name(request), "500").inc()
        return html_page(
            "Something went wrong",
            f"Stride hit an unexpected error (code {code}). Please try again later.",
            status=500,
        )
    metrics.http_requests.labels(_route_name(request), str(response.status)).inc()
    return response


async def healthz(request: web.Request) -> web.Response:
    if await request.app[DB_KEY].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unreachable"}, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    metrics = request.app[METRICS_KEY]
    # Gauges of stored state are read at scrape time, so they are never stale.
    for status, count in (await count_by_status(request.app[DB_KEY])).items():
        metrics.linked_accounts.labels(status.value).set(count)
    body = metrics.render()
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def create_app(
    *, db: Database, metrics: Metrics, installers: Iterable[RouteInstaller] = ()
) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_REQUEST_BYTES)
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    for install in installers:
        install(app)
    return app


class WebServer:
    """Runs an app on host:port inside the current event loop; `port` is the bound port."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host = host
        self._port = port
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server  # aiohttp keeps the bound socket here; needed for port 0
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("web server listening on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
