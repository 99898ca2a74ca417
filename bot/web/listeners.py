"""Which servers Stride opens, from the settings: the public one and the metrics one.

The public server (`WEB_HOST:WEB_PORT`) carries what browsers and providers must reach: the
OAuth callbacks, the webhooks, the share pages and `/healthz`. `/metrics` is not among them:
by default it has a listener of its own on loopback (`METRICS_HOST:METRICS_PORT`,
127.0.0.1:9108); with `METRICS_PORT` empty it moves to the public server. Either way
`METRICS_TOKEN` puts it behind a bearer token. `WebListeners` starts and stops them together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage import Database
from bot.web.app import RouteInstaller, create_app
from bot.web.metrics_routes import metrics_routes
from bot.web.server import WebLimits, WebServer

log = logging.getLogger(__name__)


def web_limits(settings: Settings) -> WebLimits:
    return WebLimits(
        header_timeout=settings.web_header_timeout_seconds,
        body_timeout=settings.web_body_timeout_seconds,
        keepalive_timeout=settings.web_keepalive_timeout_seconds,
        max_connections=settings.web_max_connections,
        backlog=settings.web_backlog,
    )


class WebListeners:
    """The public server and, when it has its own port, the metrics server."""

    def __init__(self, public: WebServer, metrics: WebServer | None) -> None:
        self.public = public
        self.metrics = metrics

    @property
    def port(self) -> int | None:
        """The public server's bound port."""
        return self.public.port

    async def start(self) -> None:
        """Start both; on a failure `stop()` (which is always safe) closes what started.

        The public server must start. The metrics one may not (its port taken by another
        Stride process on the host): then one warning, and Stride runs without `/metrics`.
        """
        await self.public.start()
        if self.metrics is None:
            return
        try:
            await self.metrics.start()
        except OSError as exc:
            log.warning(
                "/metrics is not served: cannot listen on %s (%s); set METRICS_PORT to a "
                "free port, one per Stride process",
                self.metrics.address,
                exc.strerror or type(exc).__name__,
            )

    async def stop(self) -> None:
        try:
            if self.metrics is not None:
                await self.metrics.stop()
        finally:
            await self.public.stop()


def web_listeners(
    settings: Settings,
    *,
    db: Database,
    metrics: Metrics,
    installers: Iterable[RouteInstaller],
) -> WebListeners:
    """The servers the settings ask for, serving `installers` (and `/metrics`)."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    scrape = metrics_routes(token)
    limits = web_limits(settings)
    routes = list(installers)
    if settings.metrics_port is None:
        if token is None:
            log.warning("/metrics is served on the public port without METRICS_TOKEN")
        routes.append(scrape)
    public = WebServer(
        create_app(db=db, metrics=metrics, installers=routes),
        settings.web_host,
        settings.web_port,
        limits=limits,
    )
    if settings.metrics_port is None:
        return WebListeners(public, None)
    own = WebServer(
        create_app(db=db, metrics=metrics, installers=[scrape]),
        settings.metrics_host,
        settings.metrics_port,
        limits=limits,
    )
    return WebListeners(public, own)
