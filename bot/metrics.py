"""Prometheus metrics, kept in a registry of their own (one per running app, none global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "stride_http_requests",
            "HTTP requests served by the web server",
            ["route", "status"],
            registry=self.registry,
        )
        self.interactions = Counter(
            "stride_interactions",
            "Discord app-command invocations by outcome",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.provider_requests = Counter(
            "stride_provider_requests",
            "Requests sent to wearable providers",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.daily_run_seconds = Histogram(
            "stride_daily_run_seconds",
            "Wall time of one daily run",
            registry=self.registry,
            buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
        )
        self.linked_accounts = Gauge(
            "stride_linked_accounts",
            "Linked provider accounts by status",
            ["status"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
