"""Start every provider stand-in at once and point Stride's settings at them."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.settings import Settings

from .base import StandinBase
from .google import GoogleFitStandin, GoogleHealthStandin
from .oura import OuraStandin
from .withings import WithingsStandin


@dataclass
class ProviderStandins:
    """The four running stand-ins, and the configuration that points Stride at them."""

    google_health: GoogleHealthStandin
    withings: WithingsStandin
    oura: OuraStandin
    google_fit: GoogleFitStandin

    @property
    def by_name(self) -> dict[str, StandinBase]:
        """Keyed by Stride's provider names, in display order."""
        return {
            "google_health": self.google_health,
            "withings": self.withings,
            "oura": self.oura,
            "google_fit": self.google_fit,
        }

    def env(self, *, sandbox: bool = True) -> dict[str, str]:
        """Environment variables for every provider, e.g. `GOOGLE_HEALTH__TOKEN_URL`."""
        values: dict[str, str] = {}
        for standin in self.by_name.values():
            values.update(standin.env())
        if sandbox:
            values["SANDBOX__ENABLED"] = "true"
        return values

    def settings_values(self) -> dict[str, Any]:
        """Keyword arguments for `Settings(...)` with every provider group filled in."""
        return {name: standin.settings_values() for name, standin in self.by_name.items()}

    def settings(self, *, sandbox: bool = True, **overrides: Any) -> Settings:
        """A `Settings` pointing at the stand-ins (no `.env` file); `overrides` win."""
        values: dict[str, Any] = {**self.settings_values(), "sandbox": {"enabled": sandbox}}
        values.update(overrides)
        return Settings(_env_file=None, **values)

    def requests_by_user(self) -> Counter[str]:
        """Requests per provider user id, over every stand-in."""
        total: Counter[str] = Counter()
        for standin in self.by_name.values():
            total.update(standin.requests_by_user)
        return total

    def total_requests(self) -> int:
        return sum(sum(standin.requests.values()) for standin in self.by_name.values())

    def reset_counts(self) -> None:
        for standin in self.by_name.values():
            standin.reset_counts()

    async def close(self) -> None:
        for standin in self.by_name.values():
            await standin.close()


async def start_provider_standins(
    *,
    clock: Clock | None = None,
    client_id: str = "test-client",
    client_secret: str = "test-secret",
) -> ProviderStandins:
    """Start all four stand-ins on 127.0.0.1 ephemeral ports. Close them with `close()`."""
    options: dict[str, Any] = {
        "clock": clock,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    standins = ProviderStandins(
        google_health=GoogleHealthStandin(**options),
        withings=WithingsStandin(**options),
        oura=OuraStandin(**options),
        google_fit=GoogleFitStandin(**options),
    )
    try:
        for standin in standins.by_name.values():
            await standin.start()
    except BaseException:
        await standins.close()
        raise
    return standins


@contextlib.asynccontextmanager
async def provider_standins(
    *,
    clock: Clock | None = None,
    client_id: str = "test-client",
    client_secret: str = "test-secret",
) -> AsyncIterator[ProviderStandins]:
    """`async with provider_standins() as standins:` — started, and closed afterwards."""
    standins = await start_provider_standins(
        clock=clock, client_id=client_id, client_secret=client_secret
    )
    try:
        yield standins
    finally:
        await standins.close()
