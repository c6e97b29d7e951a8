"""The rules service's settings, read from `CHIBO_RULES_*` (and DATABASE_URL, NATS_URL)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.infra.settings import ServiceSettings

PREFIX = "CHIBO_RULES_"


class RulesSettings(ServiceSettings, kw_only=True, frozen=True):
    """Everything the rules service needs to start; see the README for each variable."""

    port: int = 8001
    # The rule pack: validated at start (an invalid pack stops the start) and watched after.
    rules_dir: str = "rules"
    rules_watch_seconds: float = 2.0
    # POST /events accepts at most this many events per request, and this many bytes.
    max_batch_events: int = 1000
    max_body_bytes: int = 10 * 1024 * 1024
    # PostgreSQL connections per process: requests, the consumer's batches in flight, the
    # outbox relay and the scheduler.
    pool_size: int = 16
    # Unsent outbox rows are looked for this often when nothing wakes the relay.
    outbox_poll_seconds: float = 1.0
    # The NATS consumer fetches this many events at a time, each batch stored in one
    # transaction, and has this many batches in hand at once.
    consumer_batch: int = 1000
    consumer_in_flight: Annotated[int, msgspec.Meta(ge=1, le=16)] = 5
    consumer_name: str = "rules-ingest"
    # Unacknowledged events (a crashed instance's batch) are redelivered after this long.
    consumer_ack_wait_seconds: float = 30.0
    # How long JetStream keeps events after they are stored in PostgreSQL.
    stream_max_age_days: float = 30.0
    # Replicas of the JetStream streams: 3 on a production cluster (see deploy/).
    stream_replicas: int = 1
