"""The JetStream pull consumer that feeds `chibo.events.>` into the ingest handler.

A batch is acked only after its PostgreSQL commit, so a crash at any point means redelivery, and
redelivery has no second effect (the event id is the dedupe key). A message that can never be
valid is parked on `chibo.dlq.events` with the reason and terminated; the rest go on.

Each fetched batch is split into lanes stored concurrently, each in its own transaction: while
one waits for PostgreSQL, another judges in Python. Events that share a cell (the CloudEvents
subject) or a meeting always go to the same lane, so lanes never wait on each other's cell locks,
and a correction moving a meeting to another cell is stored with the record it replaces: the
cell it leaves is seen, and re-judged, as with one transaction per batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence

import asyncpg
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts.codec import InvalidEventError, decode_event
from services.contracts.events import Event, MeetingHeldEvent, MeetingRetractedEvent
from services.contracts.subjects import DLQ_EVENTS, EVENTS_STREAM, EVENTS_SUBJECTS, event_subject
from services.infra.consumer import RETRY_DELAY_SECONDS, DeadLetters, PullLoop
from services.infra.database import TRANSIENT_ERRORS
from services.rules.ingest import ingest
from services.rules.judging import Judge

log = logging.getLogger(__name__)


class EventConsumer:
    """Fetches events in batches and stores each batch in concurrent lanes."""

    def __init__(
        self,
        nc: Client,
        pool: asyncpg.Pool,
        judge: Judge,
        *,
        durable: str,
        batch: int,
        ack_wait: float,
        lanes: int = 1,
    ) -> None:
        self._pool = pool
        self._judge = judge
        self._lanes = lanes
        self._dead = DeadLetters(
            nc.jetstream(),
            DLQ_EVENTS,
            id_prefix="dlq",
            counted=judge.metrics.events_dead_lettered.inc,
        )
        self._loop = PullLoop(
            nc,
            self.handle,
            stream=EVENTS_STREAM,
            subject=EVENTS_SUBJECTS,
            durable=durable,
            batch=batch,
            ack_wait=ack_wait,
            max_ack_pending=20_000,
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
        """Dead-letter the invalid messages, store the valid ones lane by lane, then ack them."""
        valid: list[tuple[Msg, Event]] = []
        for msg in messages:
            try:
                valid.append((msg, _decode(msg)))
            except InvalidEventError as exc:
                await self._dead.park(msg, exc.field, exc.message)
        lanes = split_into_lanes(valid, self._lanes)
        # Every lane finishes (acked, or naked for a retry) before the next fetch.
        results = await asyncio.gather(
            *(self._store(lane) for lane in lanes), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _store(self, valid: Sequence[tuple[Msg, Event]]) -> None:
        """Store one lane's events in one transaction; ack them once it commits."""
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
                await self._dead.park(msg, "$", f"refused by the database: {exc}")
            else:
                await msg.ack()


def split_into_lanes(
    valid: Sequence[tuple[Msg, Event]], count: int
) -> list[list[tuple[Msg, Event]]]:
    """At most `count` non-empty lanes, in arrival order within each; events linked by a cell
    or a meeting, however indirectly, share a lane; the largest groups are spread first."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = key = parent[parent[key]]
        return key

    keys = []
    for _, event in valid:
        key = root("subject:" + event.subject)
        if isinstance(event, MeetingHeldEvent | MeetingRetractedEvent):
            parent[root("meeting:" + event.data.meeting_id)] = key
            parent[root("subject:" + event.data.cell_id)] = key
        keys.append(key)
    groups: dict[str, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        groups[root(key)].append(position)
    lanes: list[list[int]] = [[] for _ in range(count)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(lanes, key=len).extend(group)
    return [[valid[i] for i in sorted(lane)] for lane in lanes if lane]


def _decode(msg: Msg) -> Event:
    event = decode_event(msg.data)
    expected = event_subject(str(event.__struct_config__.tag))
    if msg.subject != expected:
        raise InvalidEventError(
            f"an event of this type belongs on `{expected}`, not `{msg.subject}`", "$.type"
        )
    return event
