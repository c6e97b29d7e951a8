"""Prometheus metrics every service exposes on `/metrics`, in a registry of its own per app.

Each service adds its own counters to a `ServiceMetrics`; what every service has is its
JetStream consumers' lag, read from the server when the metrics are scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

log = logging.getLogger(__name__)


class ServiceMetrics:
    """A service's registry, with the lag of the durable consumers it watches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.consumer_pending = Gauge(
            "chibo_consumer_pending", "Messages in JetStream not yet delivered to the consumer",
            ["consumer"], registry=self.registry,
        )  # fmt: skip
        self.consumer_ack_pending = Gauge(
            "chibo_consumer_ack_pending", "Messages delivered to the consumer, not acked yet",
            ["consumer"], registry=self.registry,
        )  # fmt: skip
        self.outbox_parked = self.counter(
            "chibo_outbox_parked", "Outbox messages the server will never take, set aside", "schema"
        )
        self._js: JetStreamContext | None = None
        self._consumers: Sequence[tuple[str, str]] = ()

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter of this service's registry, by `labels`."""
        return Counter(name, documentation, labels, registry=self.registry)

    def watch(self, js: JetStreamContext, consumers: Sequence[tuple[str, str]]) -> None:
        """Report the lag of these (stream, durable consumer) pairs at every scrape."""
        self._js, self._consumers = js, consumers

    async def exposition(self) -> bytes:
        """The Prometheus text exposition, the consumers' lag read now (best effort: a lag
        that cannot be read is NaN, and the other metrics still answer)."""
        for stream, durable in self._consumers:
            try:
                assert self._js is not None
                info = await self._js.consumer_info(stream, durable, timeout=1)
                pending, unacked = float(info.num_pending or 0), float(info.num_ack_pending or 0)
            except Exception as exc:
                log.warning("consumer lag unreadable: %s", exc, extra={"consumer": durable})
                pending = unacked = float("nan")
            self.consumer_pending.labels(durable).set(pending)
            self.consumer_ack_pending.labels(durable).set(unacked)
        return generate_latest(self.registry)
