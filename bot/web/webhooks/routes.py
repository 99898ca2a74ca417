"""`webhook_routes`: the installer of the configured webhook routes for `create_app`.

`build_webhooks` builds a route object per provider whose push is configured
(`bot.providers.push.push_configured`); `WebhookRoutes.install` adds their paths. All share
one `SyncDispatch`, whose queueing still in flight is awaited when the app shuts down.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aiohttp import web

from bot.clock import Clock
from bot.providers.push import GOOGLE_HEALTH_PATH, OURA_PATH, WITHINGS_PATH, push_configured
from bot.providers.withings_notify import callback_secret
from bot.settings import Settings
from bot.sync.requests import SyncRequests
from bot.web.app import RouteInstaller
from bot.web.webhooks.common import SyncDispatch
from bot.web.webhooks.google_health import GoogleHealthWebhook
from bot.web.webhooks.oura import OuraWebhook
from bot.web.webhooks.signatures import EcdsaVerifier, load_p256_public_key
from bot.web.webhooks.withings import WithingsWebhook


@dataclass(frozen=True, slots=True)
class WebhookRoutes:
    """The configured routes; any of them may be absent."""

    google_health: GoogleHealthWebhook | None
    withings: WithingsWebhook | None
    oura: OuraWebhook | None

    def install(self, app: web.Application) -> None:
        if self.google_health is not None:
            app.router.add_post(GOOGLE_HEALTH_PATH, self.google_health.handle)
        if self.withings is not None:
            app.router.add_route("HEAD", WITHINGS_PATH, self.withings.head)
            app.router.add_post(WITHINGS_PATH, self.withings.notify)
        if self.oura is not None:
            app.router.add_get(OURA_PATH, self.oura.verify, allow_head=False)
            app.router.add_post(OURA_PATH, self.oura.notify)


def build_webhooks(settings: Settings, dispatch: SyncDispatch, *, clock: Clock) -> WebhookRoutes:
    """The routes the settings configure. Raises `ConfigError` for an unusable public key."""
    google: GoogleHealthWebhook | None = None
    health = settings.google_health
    if push_configured(settings, "google_health") and health.webhook_secret is not None:
        key = health.webhook_public_key
        google = GoogleHealthWebhook(
            authorization=health.webhook_secret.get_secret_value(),
            verifier=EcdsaVerifier(load_p256_public_key(key)) if key else None,
            signature_header=health.webhook_signature_header,
            dispatch=dispatch,
        )
    withings: WithingsWebhook | None = None
    if push_configured(settings, "withings"):
        secret = callback_secret(settings.withings, settings.database_path)
        withings = WithingsWebhook(secret=secret.get_secret_value(), dispatch=dispatch)
    oura: OuraWebhook | None = None
    token, client_secret = settings.oura.webhook_verification_token, settings.oura.client_secret
    if push_configured(settings, "oura") and token is not None and client_secret is not None:
        oura = OuraWebhook(
            verification_token=token.get_secret_value(),
            client_secret=client_secret.get_secret_value(),
            replay_window=dt.timedelta(seconds=settings.oura.webhook_replay_window_seconds),
            clock=clock,
            dispatch=dispatch,
        )
    return WebhookRoutes(google_health=google, withings=withings, oura=oura)


def webhook_routes(settings: Settings, sync: SyncRequests, *, clock: Clock) -> RouteInstaller:
    """The installer for `create_app(installers=…)`: the configured webhook routes, feeding
    `sync`; queueing still in flight is awaited when the app shuts down."""
    dispatch = SyncDispatch(sync)
    routes = build_webhooks(settings, dispatch, clock=clock)

    async def wait_for_queueing(app: web.Application) -> None:
        await dispatch.aclose()

    def install(app: web.Application) -> None:
        routes.install(app)
        app.on_cleanup.append(wait_for_queueing)

    return install
