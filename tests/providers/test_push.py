"""What a push covers, whether it is configured, and what `stride check` says about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.cli import webhook_report
from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.push import PUSH_METRICS, push_configured, push_covers
from bot.providers.registry import build_providers
from bot.settings import Settings
from tests.standins.providers.google_subscribers import GoogleSubscribers

CREDENTIALS = {"client_id": "id", "client_secret": "client-secret-value"}
SECRETS = ("Bearer hook-secret-987", "notify-secret-0123456789abcdefghijkl", "oura-token-555")


def configured(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_base_url": "https://stride.example",
        "google_health": {**CREDENTIALS, "webhook_secret": SECRETS[0]},
        "withings": {**CREDENTIALS, "notify_enabled": True, "notify_secret": SECRETS[1]},
        "oura": {**CREDENTIALS, "webhook_verification_token": SECRETS[2]},
        "google_fit": CREDENTIALS,
    }
    return make_settings(**{**values, **overrides})


def test_google_health_push_leaves_active_minutes_and_calories_to_the_poller() -> None:
    assert {m for m in Metric if push_covers("google_health", m)} == {
        Metric.STEPS,
        Metric.DISTANCE,
        Metric.FLOORS,
        Metric.SLEEP_MINUTES,
    }
    assert not push_covers("google_health", Metric.ACTIVE_MINUTES)
    assert not push_covers("google_health", Metric.ACTIVE_CALORIES)


def test_withings_and_oura_push_every_metric_they_serve_and_google_fit_none() -> None:
    assert PUSH_METRICS["withings"] == frozenset(Metric)
    assert PUSH_METRICS["oura"] == frozenset(Metric) - {Metric.FLOORS}
    assert not any(push_covers("google_fit", metric) for metric in Metric)


async def test_provider_info_names_the_pushed_metrics_only_where_push_is_configured(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    with_push = configured(make_settings)
    without = make_settings(
        google_health=CREDENTIALS, withings=CREDENTIALS, oura=CREDENTIALS, google_fit=CREDENTIALS
    )
    async with aiohttp.ClientSession() as session:
        pushed = build_providers(with_push, session, clock)
        polled = build_providers(without, session, clock)

    for name in ("google_health", "withings", "oura"):
        assert pushed[name].info.push_metrics == PUSH_METRICS[name]
        assert polled[name].info.push_metrics == frozenset()
        assert push_configured(with_push, name) and not push_configured(without, name)
    assert pushed["google_fit"].info.push_metrics == frozenset()


def test_push_is_not_configured_for_a_provider_without_credentials(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(oura={"webhook_verification_token": "token"})

    assert not push_configured(settings, "oura")


def test_check_prints_the_urls_to_register_and_no_secret(
    make_settings: Callable[..., Settings],
) -> None:
    problems, notes = webhook_report(configured(make_settings))
    text = "\n".join(notes)

    assert problems == []
    assert "push configured at https://stride.example/webhooks/google-health" in text
    assert '"subscriptionCreatePolicy": "AUTOMATIC"' in text
    assert '"dataTypes": ["distance", "floors", "sleep", "steps"]' in text
    assert "https://stride.example/webhooks/withings/<secret>" in text
    assert "push configured at https://stride.example/webhooks/oura" in text
    assert all(secret not in text for secret in SECRETS)


def test_check_says_what_to_set_where_push_is_off(make_settings: Callable[..., Settings]) -> None:
    _problems, notes = webhook_report(
        make_settings(google_health=CREDENTIALS, withings=CREDENTIALS)
    )
    text = "\n".join(notes)

    assert "google_health: push not configured (set GOOGLE_HEALTH__WEBHOOK_SECRET)" in text
    assert "withings: push not configured (set WITHINGS__NOTIFY_ENABLED=true)" in text
    assert "oura: push not configured (set OURA__CLIENT_ID and OURA__CLIENT_SECRET)" in text
    assert "PUBLIC_BASE_URL is not HTTPS" in text


def test_check_reports_a_public_key_that_is_not_p256(
    make_settings: Callable[..., Settings],
) -> None:
    google = {**CREDENTIALS, "webhook_secret": SECRETS[0], "webhook_public_key": "bm90IGEga2V5"}

    problems, _notes = webhook_report(configured(make_settings, google_health=google))

    assert problems == [
        "GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 public key (PEM or base64 DER)"
    ]


def test_check_accepts_a_p256_key(make_settings: Callable[..., Settings]) -> None:
    key = GoogleSubscribers(None).public_key_pem()  # type: ignore[arg-type]
    google = {**CREDENTIALS, "webhook_secret": SECRETS[0], "webhook_public_key": key}

    problems, notes = webhook_report(configured(make_settings, google_health=google))

    assert problems == []
    assert any("GOOGLE-HEALTH-API-SIGNATURE is checked with the public key" in n for n in notes)


@pytest.mark.parametrize("secret", ["no-scheme", "Bearer", "Bearer two words"])
def test_a_google_webhook_secret_must_be_a_whole_authorization_value(
    make_settings: Callable[..., Settings], secret: str
) -> None:
    with pytest.raises(ValueError, match="whole Authorization header value"):
        make_settings(google_health={**CREDENTIALS, "webhook_secret": secret})


def test_a_short_withings_notify_secret_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="at least 32 URL-safe characters"):
        make_settings(withings={**CREDENTIALS, "notify_secret": "short"})


def test_empty_webhook_variables_mean_unset(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        google_health={**CREDENTIALS, "webhook_secret": "", "webhook_public_key": " "},
        withings={**CREDENTIALS, "notify_secret": ""},
        oura={**CREDENTIALS, "webhook_verification_token": ""},
    )

    assert not any(push_configured(settings, name) for name in ("google_health", "oura"))
    assert settings.withings.notify_secret is None
