"""Provider pushes (webhooks): what each provider's push covers, and where it arrives.

A push is only a hint to fetch that member's data again, never data. Which metrics a push can
cover comes from each provider's webhook documentation (docs/providers.md):

- Google Health: subscriptions cover altitude, distance, floors, sleep, steps and weight (the
  discovery document); of Stride's metrics that is steps, distance, floors and sleep. Active
  minutes and calories have no push: the poller polls those.
- Withings: `appli` 16 (activity: every activity metric of `getactivity`) and 44 (sleep).
- Oura: the `daily_activity` data type carries every activity metric, `sleep` the sleep.

`push_covers(provider, metric)` answers from that table; `ProviderInfo.push_metrics` is what
the provider receives pushes for in *this* installation (empty when push is not configured);
`push_configured` says whether it is. The public paths and URLs of the webhook routes
(`bot.web.webhooks`) are here too, so the subscription clients register the same URLs the
routes answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.domain import Metric
from bot.settings import Settings

ACTIVITY_METRICS = frozenset(
    {
        Metric.STEPS,
        Metric.DISTANCE,
        Metric.FLOORS,
        Metric.ACTIVE_MINUTES,
        Metric.ACTIVE_CALORIES,
    }
)

# Google Health data types a subscriber can cover (discovery document, `Subscription.dataTypes`)
# mapped to Stride's metrics; altitude and weight are not Stride metrics.
GOOGLE_HEALTH_DATA_TYPES: Mapping[str, Metric] = MappingProxyType(
    {
        "steps": Metric.STEPS,
        "distance": Metric.DISTANCE,
        "floors": Metric.FLOORS,
        "sleep": Metric.SLEEP_MINUTES,
    }
)
# Withings notification categories (`appli`) Stride subscribes each account to.
WITHINGS_APPLIS: Mapping[int, frozenset[Metric]] = MappingProxyType(
    {
        16: ACTIVITY_METRICS,
        44: frozenset({Metric.SLEEP_MINUTES}),
    }
)

# Oura data types Stride subscribes to, and the event types of each.
OURA_DATA_TYPES: Mapping[str, frozenset[Metric]] = MappingProxyType(
    {
        "daily_activity": ACTIVITY_METRICS - {Metric.FLOORS},  # Oura has no floors
        "sleep": frozenset({Metric.SLEEP_MINUTES}),
    }
)
OURA_EVENT_TYPES = ("create", "update")

PUSH_METRICS: Mapping[str, frozenset[Metric]] = MappingProxyType(
    {
        "google_health": frozenset(GOOGLE_HEALTH_DATA_TYPES.values()),
        "withings": frozenset().union(*WITHINGS_APPLIS.values()),
        "oura": frozenset().union(*OURA_DATA_TYPES.values()),
    }
)

GOOGLE_HEALTH_PATH = "/webhooks/google-health"
WITHINGS_PATH = "/webhooks/withings/{secret}"  # the secret is the only authentication
OURA_PATH = "/webhooks/oura"


def push_covers(provider: str, metric: Metric) -> bool:
    """Whether the provider's push (by its documentation) announces new data for `metric`."""
    return metric in PUSH_METRICS.get(provider, frozenset())


def push_configured(settings: Settings, provider: str) -> bool:
    """Whether this installation is set up to receive the provider's pushes."""
    group = settings.oauth_providers().get(provider)
    return group is not None and group[0].enabled and group[0].push_enabled


def google_health_webhook_url(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + GOOGLE_HEALTH_PATH


def withings_webhook_url(public_base_url: str, secret: str) -> str:
    """The notify callback URL. It carries the secret: never log it."""
    return public_base_url.rstrip("/") + WITHINGS_PATH.format(secret=secret)


def oura_webhook_url(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + OURA_PATH
