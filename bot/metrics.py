"""Prometheus metrics for the service, in a registry of its own per app (no global state).

Labels carry channels, outcomes and reasons only: never a sender, a number or a text.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The counters, gauges and histograms the hotline exports at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "hotline_inbound_total",
            "Inbound messages by channel and outcome (stored, duplicate, refused).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.webhook_rejected = Counter(
            "hotline_webhook_rejected_total",
            "Webhook requests refused, by channel and reason.",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.processed = Counter(
            "hotline_processed_total",
            "Inbound messages run through the engine, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "hotline_processing_seconds",
            "Time to run one inbound message through the engine.",
            registry=self.registry,
        )
        self.outbound = Counter(
            "hotline_outbound_total",
            "Delivery attempts by channel and outcome (sent, retry, failed, suppressed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.outbox_open = Gauge(
            "hotline_outbox_open",
            "Outbox rows not yet handed to a provider, by channel and "
            "status (updated at each scrape).",
            ["channel", "status"],
            registry=self.registry,
        )
        self.inbox_waiting = Gauge(
            "hotline_inbox_waiting",
            "Inbound messages stored and not processed yet, by channel (updated at each scrape).",
            ["channel"],
            registry=self.registry,
        )
        self.oldest_reply_seconds = Gauge(
            "hotline_outbox_oldest_waiting_seconds",
            "Age of the oldest reply not yet handed to the provider, by channel (updated at "
            "each scrape).",
            ["channel"],
            registry=self.registry,
        )
        self.status_callbacks = Counter(
            "hotline_status_callbacks_total",
            "Provider delivery-status callbacks by status and whether they moved a row.",
            ["status", "applied"],
            registry=self.registry,
        )
        self.sweeps = Counter(
            "hotline_sweep_items_total",
            "Items handled by scheduler sweeps, by sweep.",
            ["sweep"],
            registry=self.registry,
        )

    def set_outbox(self, counts: dict[tuple[str, str], int]) -> None:
        """Replace the outbox gauge with fresh counts."""
        self.outbox_open.clear()
        for (channel, status), count in counts.items():
            self.outbox_open.labels(channel=channel, status=status).set(count)

    def render(self) -> bytes:
        """The metrics in Prometheus text format."""
        return generate_latest(self.registry)
