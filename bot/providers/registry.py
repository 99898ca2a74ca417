"""Build the enabled providers from the settings, in the order `/link` shows them.

A provider is enabled when its client id and secret are set; the sandbox when
`SANDBOX__ENABLED=true`. The order is Google Health, Withings, Oura, Google Fit, Sandbox.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.clock import Clock
from bot.providers.base import Provider
from bot.providers.google_fit import GoogleFitProvider
from bot.providers.google_health import GoogleHealthProvider
from bot.providers.http import RetryPolicy, Sleep
from bot.providers.oura import OuraProvider
from bot.providers.sandbox import SandboxProvider
from bot.providers.withings import WithingsProvider
from bot.settings import Settings

log = logging.getLogger(__name__)

DISPLAY_ORDER = ("google_health", "withings", "oura", "google_fit", "sandbox")


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
    if settings.google_health.enabled:
        providers["google_health"] = GoogleHealthProvider(
            settings.google_health, session, clock, sleep=sleep, retry=retry
        )
    if settings.withings.enabled:
        providers["withings"] = WithingsProvider(
            settings.withings, session, clock, sleep=sleep, retry=retry
        )
    if settings.oura.enabled:
        providers["oura"] = OuraProvider(settings.oura, session, clock, sleep=sleep, retry=retry)
    if settings.google_fit.enabled:
        providers["google_fit"] = GoogleFitProvider(
            settings.google_fit, session, clock, sleep=sleep, retry=retry
        )
    if settings.sandbox.enabled:
        providers["sandbox"] = SandboxProvider(
            settings.sandbox, session, clock, public_base_url=settings.public_base_url
        )
    for name, (group, prefix) in settings.oauth_providers().items():
        reason = group.disabled_reason(prefix)
        if reason is not None:
            log.info("provider %s disabled: %s", name, reason)
    return providers
