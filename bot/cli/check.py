"""`stride check`: validate the configuration without connecting anywhere.

The report has problems (exit 1), warnings (a setting that works here but not for the
members: a loopback or plain-http `PUBLIC_BASE_URL` while providers or Apple Health need it,
`/metrics` open to others without `METRICS_TOKEN`, a variable that is not a setting) and
notes: the enabled providers with the redirect URI to register with each (the one
`bot.linking.links.redirect_uri` that `/link` sends), Apple Health and its upload addresses,
where `/metrics` listens, the publish sinks (and where messages go when none is configured),
and the webhooks. Never a secret.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bot.cli.common import settings_or_report
from bot.cli.env_names import misnamed_variable_warnings
from bot.cli.webhooks import webhook_report
from bot.crypto import EncryptionKeyError, parse_keys
from bot.errors import ConfigError
from bot.linking.links import redirect_uri
from bot.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(slots=True)
class ConfigurationReport:
    """What `stride check` prints: problems make it fail, warnings and notes do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def configuration_report(settings: Settings) -> ConfigurationReport:
    """The whole report for these settings. Secrets are never part of it."""
    report = ConfigurationReport()
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        report.problems.append(
            "DISCORD_TOKEN is not set: create a bot in the Discord developer portal "
            "and put its token in DISCORD_TOKEN (see README)"
        )
    report.notes.append(_encryption_note(settings, report.problems))
    report.notes.extend(provider_notes(settings))
    report.warnings.extend(public_url_warnings(settings))
    report.notes.append(metrics_note(settings))
    report.warnings.extend(metrics_warnings(settings))
    report.problems.extend(publish_problems(settings))
    report.notes.extend(sink_notes(settings))
    webhook_problems, webhook_notes = webhook_report(settings)
    report.problems.extend(webhook_problems)
    report.notes.extend(webhook_notes)
    return report


def _encryption_note(settings: Settings, problems: list[str]) -> str:
    if settings.token_encryption_keys is None:
        return (
            "token encryption: TOKEN_ENCRYPTION_KEYS not set; a key file will be generated "
            f"beside the database ({settings.database_path.parent}/stride.key)"
        )
    try:
        keys = parse_keys(settings.token_encryption_keys.get_secret_value())
    except EncryptionKeyError as exc:
        problems.append(str(exc))
        return "token encryption: TOKEN_ENCRYPTION_KEYS is not usable"
    return f"token encryption: {len(keys)} key(s) configured"


def provider_notes(settings: Settings) -> list[str]:
    """Each provider, enabled or why not; the redirect URI to register for the enabled."""
    notes = ["providers:"]
    for name, (provider, prefix) in settings.oauth_providers().items():
        reason = provider.disabled_reason(prefix)
        if reason is not None:
            notes.append(f"  {name}: disabled ({reason})")
            continue
        notes.append(f"  {name}: enabled")
        uri = redirect_uri(settings.public_base_url, name)
        notes.append(f"    redirect URI to register: {uri}")
    notes.append(
        "  sandbox: "
        + (
            "enabled (anyone can enter made-up data: for testing only)"
            if settings.sandbox.enabled
            else "disabled (set SANDBOX__ENABLED=true)"
        )
    )
    notes.extend(apple_health_notes(settings))
    return notes


def apple_health_notes(settings: Settings) -> list[str]:
    """Apple Health, enabled or not, and the pattern of its upload addresses."""
    from bot.providers.apple_health.service import upload_address

    if not settings.apple_health.enabled:
        return ["  apple_health: disabled (set APPLE_HEALTH__ENABLED=true)"]
    address = upload_address(settings.public_base_url, "{upload id}")
    return [
        "  apple_health: enabled (nothing to register)",
        f"    upload addresses: {address}, one per member with its secret, from /link "
        "apple_health; members' iPhones must reach it",
    ]


def metrics_note(settings: Settings) -> str:
    """Where `/metrics` listens (`bot.web.listeners`), and whether it needs a token."""
    token = "bearer token required" if settings.metrics_token else "no METRICS_TOKEN"
    if settings.metrics_port is None:
        return (
            f"metrics: /metrics is served on the public port, {settings.web_host}:"
            f"{settings.web_port} (METRICS_PORT is empty); {token}"
        )
    return (
        f"metrics: /metrics listens on {settings.metrics_host}:{settings.metrics_port}, apart "
        f"from the public port; {token}"
    )


def metrics_warnings(settings: Settings) -> list[str]:
    """`/metrics` where others reach it without `METRICS_TOKEN`."""
    if settings.metrics_token is not None:
        return []
    if settings.metrics_port is None:
        return [
            "/metrics is served on the public port (METRICS_PORT is empty) without "
            "METRICS_TOKEN: whoever reaches Stride's public address can read it. Set "
            "METRICS_TOKEN and keep /metrics out of the reverse proxy, or give it its own "
            "METRICS_PORT (docs/deploy.md)"
        ]
    if not is_loopback_host(settings.metrics_host):
        return [
            f"METRICS_HOST is {settings.metrics_host}, not loopback, and METRICS_TOKEN is not "
            "set: whoever reaches that address can read /metrics. Set METRICS_TOKEN"
        ]
    return []


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(name: str) -> bool:
    host = name.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# What a PUBLIC_BASE_URL that others cannot use (or should not) breaks, for whom.
LOOPBACK_HARM = {
    "oauth": "the link and callback pages would open on each member's own machine",
    "apple_health": "members' iPhones could not reach their Apple Health upload address",
}
PLAIN_HTTP_HARM = {
    "oauth": "authorization codes and live pages would cross the network unencrypted, and "
    "providers expect HTTPS redirect URIs",
    "apple_health": "members' iPhones would send their upload secret and health data unencrypted",
}


def public_url_users(settings: Settings) -> list[str]:
    """Who must reach PUBLIC_BASE_URL: members' browsers (an OAuth provider is enabled),
    members' iPhones (Apple Health is)."""
    users = []
    if any(group.enabled for group, _ in settings.oauth_providers().values()):
        users.append("oauth")
    if settings.apple_health.enabled:
        users.append("apple_health")
    return users


def public_url_warnings(settings: Settings) -> list[str]:
    """PUBLIC_BASE_URL that the members' browsers or iPhones cannot use (or should not),
    when a provider or Apple Health is enabled, and names in the environment that are not
    settings."""
    warnings = misnamed_variable_warnings(os.environ, Path(".env"))
    users = public_url_users(settings)
    base = settings.public_base_url
    if users and is_loopback(base):
        harm = "; ".join(LOOPBACK_HARM[user] for user in users)
        warnings.append(
            f"PUBLIC_BASE_URL is {base}, a loopback address: {harm}. Set it to Stride's "
            "public HTTPS address (docs/deploy.md)"
        )
    elif users and urlsplit(base).scheme != "https":
        harm = "; ".join(PLAIN_HTTP_HARM[user] for user in users)
        warnings.append(
            f"PUBLIC_BASE_URL is {base}, plain http: {harm}. Put Stride behind HTTPS "
            "(docs/deploy.md)"
        )
    return warnings


def publish_problems(settings: Settings) -> list[str]:
    """Publish settings that would switch publishing (or one sink) off at run time."""
    from bot.publish.keys import MIN_SECRET_LENGTH
    from bot.publish.service import mqtt_tls_context
    from bot.publish.sinks import check_topic_template

    problems: list[str] = []
    secret = settings.publish.secret
    if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        problems.append(f"PUBLISH__SECRET must be at least {MIN_SECRET_LENGTH} characters long")
    if settings.publish.mqtt.host:
        try:
            check_topic_template(settings.publish.mqtt.topic_template)
            mqtt_tls_context(settings.publish.mqtt)  # a CA file that is missing or not PEM
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


def sink_notes(settings: Settings) -> list[str]:
    """Each publish sink, and where messages go when none is configured (the file sink's
    default, as `bot.publish.service.sinks_from_settings` builds it)."""
    from bot.publish.service import DEFAULT_FILE_NAME

    publish = settings.publish
    sinks = (
        ("streamr", publish.streamr),
        ("mqtt", publish.mqtt),
        ("webhook", publish.webhook),
        ("file", publish.file),
    )
    notes = ["publish sinks (used once an admin runs /publish enable):"]
    nothing_configured = all(sink.disabled_reason() is not None for _, sink in sinks)
    for sink_name, sink in sinks:
        reason = sink.disabled_reason()
        if sink_name == "file" and nothing_configured:
            default = settings.database_path.resolve().parent / DEFAULT_FILE_NAME
            notes.append(
                f"  file: enabled by default, as no sink is configured: messages go to "
                f"{default} (set PUBLISH__FILE__PATH to choose the file)"
            )
            continue
        notes.append(f"  {sink_name}: " + ("enabled" if reason is None else f"disabled ({reason})"))
    return notes


def cmd_check(out: TextIO, err: TextIO) -> int:
    settings = settings_or_report(err)
    if settings is None:
        return 1
    report = configuration_report(settings)
    for line in report.notes:
        print(line, file=out)
    for line in report.warnings:
        print(f"warning: {line}", file=err)
    for line in report.problems:
        print(f"error: {line}", file=err)
    if report.problems:
        return 1
    suffix = f", with {len(report.warnings)} warning(s)" if report.warnings else ""
    print(f"configuration OK{suffix}", file=out)
    return 0
