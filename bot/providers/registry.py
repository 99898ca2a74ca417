"""Build the enabled providers from the settings, in the order `/link` shows them.

A provider is enabled when its client id and secret are set; the sandbox when
`SANDBOX__ENABLED=true`, Apple Health when `APPLE_HEALTH__ENABLED=true`. The order is Google
Health, Withings, Oura, Google Fit, Apple Health, Sandbox.

Per-application rate limits (Google's project quota, Withings' 120 a minute) are shared by
every Stride process of the application: each process keeps to its share
(`Settings.quota_share`: 1 / FETCH_PROCESSES, or its part of the shards), so together they
stay within the limit without talking to each other.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.clock import Clock
from bot.providers import google_health, withings
from bot.providers.apple_health.provider import AppleHealthProvider
from bot.providers.base import Provider
from bot.providers.google_fit import GoogleFitProvider
from bot.providers.google_health import GoogleHealthProvider
from bot.providers.http import RetryPolicy, Sleep
from bot.providers.oura import OuraProvider
from bot.providers.ratelimit import ProviderRateLimiter
from bot.providers.sandbox import SandboxProvider
from bot.providers.withings import WithingsProvider
from bot.settings import Settings

log = logging.getLogger(__name__)

DISPLAY_ORDER = ("google_health", "withings", "oura", "google_fit", "apple_health", "sandbox")


def app_share(app_limit: int, share: float) -> int:
    """This process's part of a per-application limit (at least one request a window)."""
    return max(1, int(app_limit * share))


def build_providers(
    settings: Settings,
    session: aiohttp.ClientSession,
    clock: Clock,
    *,
    sleep: Sleep = asyncio.sleep,
    retry: RetryPolicy | None = None,
) -> dict[str, Provider]:
    """The enabled providers by name, in display order. `session` stays the caller's."""
    providers: dict[str, Provider] = {}
    share = settings.quota_share
    if settings.google_health.enabled:
        google = ProviderRateLimiter(
            app_limit=app_share(google_health.APP_LIMIT_PER_MINUTE, share),
            user_limit=google_health.USER_LIMIT_PER_MINUTE,  # one process fetches a user
            sleep=sleep,
        )
        providers["google_health"] = GoogleHealthProvider(
            settings.google_health, session, clock, sleep=sleep, retry=retry, limiter=google
        )
    if settings.withings.enabled:
        limit = app_share(withings.APP_LIMIT_PER_MINUTE, share)
        providers["withings"] = WithingsProvider(
            settings.withings,
            session,
            clock,
            sleep=sleep,
            retry=retry,
            limiter=ProviderRateLimiter(app_limit=limit, sleep=sleep),
        )
    if settings.oura.enabled:
        providers["oura"] = OuraProvider(settings.oura, session, clock, sleep=sleep, retry=retry)
    if settings.google_fit.enabled:
        providers["google_fit"] = GoogleFitProvider(
            settings.google_fit, session, clock, sleep=sleep, retry=retry
        )
    if settings.apple_health.enabled:
        providers["apple_health"] = AppleHealthProvider()
    if settings.sandbox.enabled:
        providers["sandbox"] = SandboxProvider(
            settings.sandbox, session, clock, public_base_url=settings.public_base_url
        )
    for name, (group, prefix) in settings.oauth_providers().items():
        reason = group.disabled_reason(prefix)
        if reason is not None:
            log.info("provider %s disabled: %s", name, reason)
    return providers
