"""Build the enabled providers from the settings, in the order `/link` shows them.

A provider is enabled when its client id and secret are set; the sandbox when
`SANDBOX__ENABLED=true`, Apple Health when `APPLE_HEALTH__ENABLED=true`. The order is Google
Health, Withings, Oura, Google Fit, Apple Health, Sandbox.

Per-application rate limits (Google's project quota, Withings' 120 a minute) are shared by
every Stride process of the application: each process keeps to its share
(`Settings.quota_share`: 1 / FETCH_PROCESSES, or its part of the shards), so together they
stay within the limit without talking to each other. A process's share is one limiter per
application (`AppRateLimits`), used by every client of that application: the Withings
provider's fetches and token calls, and the Withings Notify client's subscriptions
(`bot.providers.withings_notify`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class AppRateLimits:
    """This process's share of each per-application limit, one limiter per application."""

    google_health: ProviderRateLimiter
    withings: ProviderRateLimiter


def app_rate_limits(settings: Settings, *, sleep: Sleep = asyncio.sleep) -> AppRateLimits:
    """The limiters of this process's share (`Settings.quota_share`)."""
    share = settings.quota_share
    return AppRateLimits(
        google_health=ProviderRateLimiter(
            app_limit=app_share(google_health.APP_LIMIT_PER_MINUTE, share),
            user_limit=google_health.USER_LIMIT_PER_MINUTE,  # one process fetches a user
            sleep=sleep,
        ),
        withings=ProviderRateLimiter(
            app_limit=app_share(withings.APP_LIMIT_PER_MINUTE, share), sleep=sleep
        ),
    )


def build_providers(
    settings: Settings,
    session: aiohttp.ClientSession,
    clock: Clock,
    *,
    sleep: Sleep = asyncio.sleep,
    retry: RetryPolicy | None = None,
    limits: AppRateLimits | None = None,
) -> dict[str, Provider]:
    """The enabled providers by name, in display order. `session` stays the caller's;
    `limits` are shared with the application's other clients (default: their own)."""
    providers: dict[str, Provider] = {}
    limits = limits or app_rate_limits(settings, sleep=sleep)
    if settings.google_health.enabled:
        providers["google_health"] = GoogleHealthProvider(
            settings.google_health,
            session,
            clock,
            sleep=sleep,
            retry=retry,
            limiter=limits.google_health,
        )
    if settings.withings.enabled:
        providers["withings"] = WithingsProvider(
            settings.withings,
            session,
            clock,
            sleep=sleep,
            retry=retry,
            limiter=limits.withings,
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
