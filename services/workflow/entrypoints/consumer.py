"""The workflow's JetStream consumers: which subject feeds which handler, one message at a time.

Each message is taken in its own PostgreSQL transaction under the shared policy
(`services.infra.consumer.settle`): acked once the transaction commits, so a crash means
redelivery, which the idempotent handlers absorb; a passing fault naks it for a later retry;
anything else parks it on `chibo.dlq.workflow` with the reason. One message at a time, so one
that can never be taken never holds back the others.

Findings are decoded leniently: a newer rules service may add (defaulted) fields, and an older
workflow replica must still take its findings.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts import subjects
from services.contracts.codec import decode_event
from services.contracts.events import CellRegisteredEvent, OrgRegisteredEvent
from services.contracts.findings import Finding
from services.infra.consumer import DeadLetters, PullLoop, settle
from services.infra.database import Connection
from services.workflow.service import ingest
from services.workflow.service.handlers import Service
from services.workflow.settings import WorkflowSettings

log = logging.getLogger(__name__)
Handler = Callable[[Service, Connection, bytes], Awaitable[int]]
"""Takes one message in the caller's transaction; returns how many cases it opened."""
_finding = msgspec.json.Decoder(Finding)


async def on_finding(svc: Service, conn: Connection, data: bytes) -> int:
    """A finding opened or resolved: kept, and perhaps a case proposed for its cell."""
    finding = _finding.decode(data)
    opened = await ingest.take_finding(conn, finding, svc.policies, svc.registry, svc.clock.now())
    return len(opened)


async def on_registered(svc: Service, conn: Connection, data: bytes) -> int:
    """A cell or org registered: where it sits in the tree, for who reaches its cases."""
    event = decode_event(data)
    if isinstance(event, CellRegisteredEvent):
        await ingest.take_cell(conn, event)
    elif isinstance(event, OrgRegisteredEvent):
        await ingest.take_org(conn, event)
    return 0


class Subscription(NamedTuple):
    """A durable consumer: the subject it takes from its stream, and the handler it feeds."""

    stream: str
    subject: str
    handler: Handler
    durable: Callable[[WorkflowSettings], str]


SUBSCRIPTIONS = (
    Subscription(
        subjects.FINDINGS_STREAM,
        subjects.FINDINGS_SUBJECTS,
        on_finding,
        lambda s: s.findings_consumer_name,
    ),
    Subscription(
        subjects.EVENTS_STREAM,
        subjects.CELL_REGISTERED,
        on_registered,
        lambda s: s.cells_consumer_name,
    ),
    Subscription(
        subjects.EVENTS_STREAM,
        subjects.ORG_REGISTERED,
        on_registered,
        lambda s: s.orgs_consumer_name,
    ),
)


class MessageConsumer:
    """One subscription's durable consumer, feeding its handler message by message."""

    def __init__(
        self,
        nc: Client,
        svc: Service,
        dead_letters: DeadLetters,
        subscription: Subscription,
        settings: WorkflowSettings,
        *,
        batch: int = 100,
    ) -> None:
        self._svc, self._handler, self._dead = svc, subscription.handler, dead_letters
        self._loop = PullLoop(
            nc,
            self.handle,
            stream=subscription.stream,
            subject=subscription.subject,
            durable=subscription.durable(settings),
            batch=batch,
            ack_wait=settings.consumer_ack_wait_seconds,
        )

    async def subscribe(self) -> None:
        """Create (or bind to) the durable consumer."""
        await self._loop.subscribe()

    def stop(self) -> None:
        """Finish the current batch and return from `run`."""
        self._loop.stop()

    async def run(self) -> None:
        """Consume until stopped; faults are logged and retried, never fatal."""
        await self._loop.run()

    async def handle(self, messages: Sequence[Msg]) -> None:
        """Take each message in its own transaction, whatever happened to the one before."""
        for msg in messages:
            try:
                await settle(msg, functools.partial(self._take, msg), self._dead)
            except Exception:
                # Typically NATS refusing an ack or a dead letter; unacked, it comes back later.
                log.exception("message left for redelivery", extra={"subject": msg.subject})

    async def _take(self, msg: Msg) -> None:
        async with self._svc.pool.acquire() as conn, conn.transaction():
            opened = await self._handler(self._svc, conn, msg.data)
        if opened:  # committed: their `open` messages wait in the outbox
            self._svc.wake()
            self._svc.metrics.cases_opened.labels("policy").inc(opened)
