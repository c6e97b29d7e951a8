"""The JetStream pull consumer that feeds `chibo.events.>` into the ingest handler.

A batch is acked only after its PostgreSQL commit, so a crash at any point means redelivery, and
redelivery has no second effect (the event id is the dedupe key). A message that can never be
valid is parked on `chibo.dlq.events` with the reason and terminated; the rest go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts.codec import InvalidEventError, decode_event
from services.contracts.events import Event
from services.contracts.subjects import DLQ_EVENTS, EVENTS_STREAM, EVENTS_SUBJECTS, event_subject
from services.infra.database import TRANSIENT_ERRORS
from services.infra.messaging import fetch_unless_stopped
from services.rules.ingest import ingest
from services.rules.judging import Judge

log = logging.getLogger(__name__)

RETRY_DELAY_SECONDS = 2.0


class EventConsumer:
    """Fetches events in batches and stores each batch in one transaction."""

    def __init__(
        self,
        js: JetStreamContext,
        pool: asyncpg.Pool,
        judge: Judge,
        *,
        durable: str,
        batch: int,
        ack_wait: float,
    ) -> None:
        self._js = js
        self._pool = pool
        self._judge = judge
        self._durable = durable
        self._batch = batch
        self._ack_wait = ack_wait
        self._stopping = asyncio.Event()
        self._subscription: JetStreamContext.PullSubscription | None = None

    async def subscribe(self) -> None:
        """Create (or bind to) the durable consumer; fails loudly at start if NATS refuses."""
        self._subscription = await self._js.pull_subscribe(
            EVENTS_SUBJECTS,
            durable=self._durable,
            stream=EVENTS_STREAM,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self._ack_wait,
                max_ack_pending=20_000,
            ),
        )

    async def run(self) -> None:
        """Consume until `stop` is called; faults are logged and retried, never fatal."""
        assert self._subscription is not None, "subscribe() first"
        try:
            await self._consume(self._subscription)
        finally:
            # Late status replies to expired pulls would otherwise hold up the connection's drain.
            await self._subscription.unsubscribe()

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self._stopping.is_set():
            try:
                messages = await fetch_unless_stopped(subscription, self._batch, self._stopping)
            except Exception:
                log.exception("fetch failed")
                await self._pause()
                continue
            try:
                await self.handle(messages)
            except Exception:
                # Unacked messages come back after ack_wait; nothing is lost by carrying on.
                log.exception("handling a batch failed")
                await self._pause()

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return."""
        self._stopping.set()

    async def handle(self, messages: Sequence[Msg]) -> None:
        """Dead-letter the invalid messages, store the valid ones, then ack them."""
        valid: list[tuple[Msg, Event]] = []
        for msg in messages:
            try:
                valid.append((msg, _decode(msg)))
            except InvalidEventError as exc:
                await self._dead_letter(msg, exc.field, exc.message)
        if not valid:
            return
        try:
            await ingest(self._pool, self._judge, [event for _, event in valid], "nats")
        except TRANSIENT_ERRORS as exc:
            log.warning("storing a batch failed, will retry: %s", exc)
            for msg, _ in valid:
                await msg.nak(delay=RETRY_DELAY_SECONDS)
            return
        except Exception:
            # Something in the batch is refused for good; find it by storing one at a time.
            await self._isolate(valid)
            return
        for msg, _ in valid:
            await msg.ack()

    async def _isolate(self, valid: Sequence[tuple[Msg, Event]]) -> None:
        for msg, event in valid:
            try:
                await ingest(self._pool, self._judge, [event], "nats")
            except TRANSIENT_ERRORS:
                await msg.nak(delay=RETRY_DELAY_SECONDS)
            except Exception as exc:
                log.exception("event refused by the store", extra={"subject": msg.subject})
                await self._dead_letter(msg, "$", f"refused by the database: {exc}")
            else:
                await msg.ack()

    async def _dead_letter(self, msg: Msg, field: str, reason: str) -> None:
        log.warning(
            "event dead-lettered", extra={"subject": msg.subject, "field": field, "reason": reason}
        )
        headers = {
            # Header values are single lines; the full reason stays readable anyway.
            "Chibo-Reason": " ".join(reason.split())[:1000],
            "Chibo-Field": field,
            "Chibo-Original-Subject": msg.subject,
            "Nats-Msg-Id": f"dlq-{msg.metadata.stream}-{msg.metadata.sequence.stream}",
        }
        await self._js.publish(DLQ_EVENTS, msg.data, headers=headers)
        await msg.term()
        self._judge.metrics.events_dead_lettered.inc()

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), RETRY_DELAY_SECONDS)


def _decode(msg: Msg) -> Event:
    event = decode_event(msg.data)
    expected = event_subject(str(event.__struct_config__.tag))
    if msg.subject != expected:
        raise InvalidEventError(
            f"an event of this type belongs on `{expected}`, not `{msg.subject}`", "$.type"
        )
    return event
