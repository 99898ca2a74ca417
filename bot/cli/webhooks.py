"""`stride check`'s webhook section: the public URL of each provider's push, what to register,
and whether the push is configured. Secrets are never printed."""

from __future__ import annotations

import json

from bot.errors import ConfigError
from bot.settings import Settings


def webhook_report(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, notes) about the provider webhooks: the public URLs to register and
    whether each provider's push is configured. Secrets are never printed."""
    from bot.providers.push import PUSH_METRICS

    problems: list[str] = []
    notes = ["webhooks (pushes; the scheduled fetch runs either way):"]
    base = settings.public_base_url
    if not base.startswith("https://"):
        notes.append(
            "  note: PUBLIC_BASE_URL is not HTTPS; Google requires HTTPS, Withings HTTPS on "
            "port 443 (or 10 users at most)"
        )
    for provider, describe in (
        ("google_health", _google_health_webhook),
        ("withings", _withings_webhook),
        ("oura", _oura_webhook),
    ):
        lines = describe(settings, problems)
        covered = ", ".join(sorted(metric.value for metric in PUSH_METRICS[provider]))
        notes.append(f"  {provider}: {lines[0]}")
        notes.extend(f"    {line}" for line in [*lines[1:], f"a push announces: {covered}"])
    notes.append("  google_fit: no webhooks (Google Fit has none)")
    return problems, notes


def _push_state(settings: Settings, provider: str, missing: str) -> str | None:
    """Why the provider's push is not configured, or None when it is."""
    from bot.providers.push import push_configured

    if push_configured(settings, provider):
        return None
    group, prefix = settings.oauth_providers()[provider]
    reason = group.disabled_reason(prefix)
    return f"push not configured ({reason or missing})"


def _google_health_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import GOOGLE_HEALTH_DATA_TYPES, google_health_webhook_url
    from bot.web.webhooks.signatures import load_p256_public_key

    health = settings.google_health
    url = google_health_webhook_url(settings.public_base_url)
    state = _push_state(settings, "google_health", "set GOOGLE_HEALTH__WEBHOOK_SECRET")
    if state is not None:
        return [state, f"its URL would be {url}"]
    signatures = "the shared secret alone authenticates (no GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY)"
    if health.webhook_public_key:
        try:
            load_p256_public_key(health.webhook_public_key)
            signatures = f"{health.webhook_signature_header} is checked with the public key"
        except ConfigError as exc:
            problems.extend(exc.problems)
    payload = {
        "endpointUri": url,
        "endpointAuthorization": {"secret": "<the value of GOOGLE_HEALTH__WEBHOOK_SECRET>"},
        "subscriberConfigs": [
            {
                "dataTypes": sorted(GOOGLE_HEALTH_DATA_TYPES),
                "subscriptionCreatePolicy": "AUTOMATIC",
            }
        ],
    }
    return [
        f"push configured at {url}",
        "register it once: POST "
        f"{health.api_base_url}/projects/<project number>/subscribers?subscriberId=stride "
        "(a cloud-platform token of the project) with the JSON body",
        json.dumps(payload),
        signatures,
    ]


def _withings_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import withings_webhook_url
    from bot.providers.withings_notify import secret_file

    url = withings_webhook_url(settings.public_base_url, "<secret>")
    state = _push_state(settings, "withings", "set WITHINGS__NOTIFY_ENABLED=true")
    if state is not None:
        return [state]
    source = (
        "WITHINGS__NOTIFY_SECRET"
        if settings.withings.notify_secret is not None
        else f"generated once in {secret_file(settings.database_path)}"
    )
    return [
        f"push configured at {url} (the secret: {source})",
        "nothing to register: Stride subscribes each account on link (activity and sleep) "
        "and unsubscribes it on unlink and /privacy delete",
    ]


def _oura_webhook(settings: Settings, problems: list[str]) -> list[str]:
    from bot.providers.push import oura_webhook_url

    url = oura_webhook_url(settings.public_base_url)
    state = _push_state(settings, "oura", "set OURA__WEBHOOK_VERIFICATION_TOKEN")
    if state is not None:
        if not settings.oura.enabled:
            return [state]
        return [state, "subscriptions Stride made for this URL earlier are deleted at start"]
    return [
        f"push configured at {url}",
        "nothing to register: Stride creates the app's subscriptions at start, renews them "
        f"{settings.oura.webhook_renew_margin_hours} h before they expire",
    ]
