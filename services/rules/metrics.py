"""Prometheus metrics of the rules service, beside every service's consumer lag."""

from __future__ import annotations

from prometheus_client import Histogram

from services.infra.metrics import ServiceMetrics


class Metrics(ServiceMetrics):
    """What operators watch: ingestion, dead letters, findings, evaluation latency, lag."""

    def __init__(self) -> None:
        super().__init__()
        self.events_ingested = self.counter(
            "chibo_events_ingested", "Events stored (redeliveries not counted), by path", "path"
        )
        self.events_duplicate = self.counter(
            "chibo_events_duplicate", "Events received again", "path"
        )
        self.events_conflicting = self.counter(
            "chibo_events_conflicting",
            "Events received again under an id with other content (the first is kept)",
            "path",
        )
        self.events_dead_lettered = self.counter(
            "chibo_events_dead_lettered", "Invalid NATS events parked"
        )
        self.findings_changed = self.counter(
            "chibo_findings_changed", "Findings opened or resolved", "change"
        )
        self.evaluation_seconds = Histogram(
            "chibo_evaluation_seconds",
            "Time to store a batch of events and re-judge the cells it touches",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
