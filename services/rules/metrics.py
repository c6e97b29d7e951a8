"""Prometheus metrics of the rules service, in a registry of its own per app instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """What operators watch: ingestion, dead letters, findings, evaluation latency, lag."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_ingested = Counter(
            "chibo_events_ingested",
            "Events stored (redeliveries not counted), by path",
            ["path"],
            registry=self.registry,
        )
        self.events_duplicate = Counter(
            "chibo_events_duplicate", "Events received again", ["path"], registry=self.registry
        )
        self.events_dead_lettered = Counter(
            "chibo_events_dead_lettered", "Invalid NATS events parked", registry=self.registry
        )
        self.findings_changed = Counter(
            "chibo_findings_changed",
            "Findings opened or resolved",
            ["change"],
            registry=self.registry,
        )
        self.evaluation_seconds = Histogram(
            "chibo_evaluation_seconds",
            "Time to store a batch of events and re-judge the cells it touches",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.consumer_pending = Gauge(
            "chibo_consumer_pending",
            "Events in JetStream not yet delivered to the rules consumer",
            registry=self.registry,
        )
        self.consumer_ack_pending = Gauge(
            "chibo_consumer_ack_pending",
            "Events delivered to the rules consumer and not yet acknowledged",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
