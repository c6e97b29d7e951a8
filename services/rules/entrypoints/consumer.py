"""The JetStream pull consumer that feeds `chibo.events.>` into the ingest handler.

A batch is acked only after its PostgreSQL commit, so a crash at any point means redelivery, and
redelivery has no second effect (the event id is the dedupe key). A message that can never be
valid is parked on `chibo.dlq.events` with the reason and terminated; the rest go on.

Several batches are in hand at once, each stored in its own transaction: while one waits for
PostgreSQL, another is judged in Python, and the next is already fetched. Their order does not
matter: a record replaces another only if it is newer, each cell is judged whole under its lock,
and a correction moving a meeting learns, from the row it replaces, the cell it leaves, even
when that row was committed by a concurrent batch or another replica. The next batch waits
while more findings than the batches in hand could make are still to be published: a relay
that falls behind (or NATS refusing them) slows the consumer instead of growing the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts.codec import InvalidEventError, decode_event
from services.contracts.events import Event
from services.contracts.subjects import EVENTS_STREAM, EVENTS_SUBJECTS, event_subject
from services.infra.consumer import DeadLetters, PullLoop, settle_batch
from services.rules.domain.notices import Notice
from services.rules.service.ingest import ingest
from services.rules.service.judging import Judge

log = logging.getLogger(__name__)


class EventConsumer:
    """Fetches events in batches and stores each in one transaction, several at a time."""

    def __init__(
        self,
        nc: Client,
        pool: asyncpg.Pool,
        judge: Judge,
        dead_letters: DeadLetters,
        *,
        durable: str,
        batch: int,
        ack_wait: float,
        in_flight: int = 1,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._judge = judge
        self._dead = dead_letters
        self._loop = PullLoop(
            nc,
            self.handle,
            stream=EVENTS_STREAM,
            subject=EVENTS_SUBJECTS,
            durable=durable,
            batch=batch,
            ack_wait=ack_wait,
            max_ack_pending=20_000,
            in_flight=in_flight,
            ready=ready,
        )

    async def subscribe(self) -> None:
        """Create (or bind to) the durable consumer; fails loudly at start if NATS refuses."""
        await self._loop.subscribe()

    async def run(self) -> None:
        """Consume until `stop` is called; faults are logged and retried, never fatal."""
        await self._loop.run()

    def stop(self) -> None:
        """Ask the loop to finish its current batch and return."""
        self._loop.stop()

    async def handle(self, messages: Sequence[Msg]) -> None:
        """Dead-letter the invalid messages, store the valid ones, then ack them."""
        valid: list[tuple[Msg, Event]] = []
        for msg in messages:
            try:
                valid.append((msg, _decode(msg)))
            except InvalidEventError as exc:
                await self._dead.park(msg, exc.field, exc.message)
        if valid:
            await self._store(valid)

    async def _store(self, valid: Sequence[tuple[Msg, Event]]) -> None:
        """Store the events in one transaction, by the shared policy (`settle_batch`)."""
        await settle_batch(valid, self._ingest, self._dead)

    async def _ingest(self, taken: Sequence[tuple[Msg, Event]]) -> None:
        events, bodies = [event for _, event in taken], [msg.data for msg, _ in taken]
        report = await ingest(self._pool, self._judge, events, "nats", bodies)
        # An id received before with other content took no effect: a copy goes to the dead
        # letters with why, the message itself is acked with the batch (the first is kept).
        for warning in report.warnings:
            if warning.code == Notice.conflicting_duplicate:
                await self._dead.report(taken[warning.index][0], warning.field, warning.message.en)


def _decode(msg: Msg) -> Event:
    event = decode_event(msg.data)
    expected = event_subject(str(event.__struct_config__.tag))
    if msg.subject != expected:
        raise InvalidEventError(
            f"an event of this type belongs on `{expected}`, not `{msg.subject}`", "$.type"
        )
    return event
