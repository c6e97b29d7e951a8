"""The transactional outbox: messages written with the change they announce, published after.

A change and its message commit together, so a crash between commit and publish neither loses
the message (the relay finds it on the next pass) nor doubles it (each message carries a
deterministic `Nats-Msg-Id`, which JetStream and consumers dedupe on). Several replicas may relay
at once: rows are claimed with `FOR UPDATE SKIP LOCKED`.

A message the server will never take (larger than NATS carries, or refused for good by its
stream) is set aside in `<schema>.parked` with the reason, in the same transaction that
publishes the rest of its batch: no single row holds back the ones behind it. Each one is
logged and counted; `parked_messages` lists them for an operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter

import asyncpg
import msgspec

from services.infra.database import Connection
from services.infra.publisher import Outgoing, Publisher, PublishError

log = logging.getLogger(__name__)
ACK_TIMEOUT_SECONDS = 10.0


class Message(msgspec.Struct, frozen=True):
    """One message to publish: where, its dedupe id, and its bytes."""

    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str] = {}


async def enqueue(conn: Connection, schema: str, messages: Sequence[Message]) -> None:
    """Write `messages` to `<schema>.outbox` in the caller's transaction, in their order.

    One statement over arrays: a batch of events can change hundreds of findings, and a row per
    statement cost a round of parsing and planning each, on both sides.
    """
    if messages:
        await conn.execute(
            f"insert into {schema}.outbox (subject, msg_id, payload, headers)"
            " select subject, msg_id, payload, headers"
            " from unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])"
            " with ordinality as m(subject, msg_id, payload, headers, n)"
            " order by n on conflict (msg_id) do nothing",
            [m.subject for m in messages],
            [m.msg_id for m in messages],
            [m.payload for m in messages],
            [_NO_HEADERS if not m.headers else _encode(m.headers).decode() for m in messages],
        )


def insert_from(schema: str, rows: str, subject: str, msg_id: str, payload: str) -> str:
    """SQL writing one outbox row (no extra headers) per row of `rows`, from the expressions
    given: for a change that must write its message in its own statement, e.g. a CTE."""
    return (
        f"insert into {schema}.outbox (subject, msg_id, payload)"
        f" select {subject}, {msg_id}, {payload} from {rows}"
    )


_NO_HEADERS = "{}"
_encode = msgspec.json.Encoder().encode


def _headers(stored: str, msg_id: str) -> dict[str, str]:
    # Most messages carry no header but their id: skip decoding an empty object for them.
    extra: dict[str, str] = msgspec.json.decode(stored) if stored != "{}" else {}
    return {**extra, "Nats-Msg-Id": msg_id}


class OutboxRelay:
    """Publishes a schema's outbox to JetStream, promptly when woken, and by polling anyway."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: Publisher,
        schema: str,
        *,
        batch: int = 1000,
        poll_seconds: float = 1.0,
        parked: Callable[[int], object] = lambda _count: None,
    ) -> None:
        self._pool, self._publisher, self._schema = pool, publisher, schema
        self._batch, self._poll, self._parked = batch, poll_seconds, parked
        self._wake = asyncio.Event()
        self._stopping = False
        self._progress = asyncio.Event()  # set after every pass

    def wake(self) -> None:
        """Tell the relay there is something to publish now."""
        self._wake.set()

    async def within(self, backlog: int) -> None:
        """Return once at most `backlog` messages wait in the outbox (every replica's).

        A producer awaits it before taking more work, so that a relay slower than the work
        (or NATS refusing publishes) holds the producer back instead of letting the outbox,
        and the delay before each message, grow without end. The outbox itself is counted
        (at most `backlog` + 1 rows of it): replicas' relays take each other's rows.
        """
        while not self._stopping:
            self._progress.clear()
            async with self._pool.acquire() as conn:
                waiting = await conn.fetchval(
                    f"select count(*) from (select from {self._schema}.outbox limit $1) as w",
                    backlog + 1,
                )
            if waiting <= backlog:
                return
            with contextlib.suppress(TimeoutError):  # a pass here, or another replica's
                await asyncio.wait_for(self._progress.wait(), self._poll)

    def stop(self) -> None:
        """Finish the current pass and return from `run`."""
        self._stopping = True
        self._wake.set()
        self._progress.set()

    async def run(self) -> None:
        """Relay until stopped; faults are logged and retried at the next pass."""
        while not self._stopping:
            self._wake.clear()
            try:
                if await self.relay_once() == self._batch:
                    continue  # more are waiting
            except PublishError as exc:  # NATS away or refusing: expected now and then
                log.warning(
                    "outbox relay could not publish: %s", exc, extra={"schema": self._schema}
                )
            except Exception:
                log.exception("outbox relay failed", extra={"schema": self._schema})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
        try:  # what was committed just before the stop still goes out now
            await self.relay_once()
        except Exception:
            log.exception("last outbox pass failed; the rows wait for the next start")

    async def relay_once(self) -> int:
        """Publish one batch of unpublished messages, oldest first; return how many."""
        published = await self._publish_batch()
        self._progress.set()
        return published

    async def _publish_batch(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            # Losing this commit to a crash only sends the batch again, which JetStream drops
            # as duplicates of their message ids (if resent within the streams' 2-minute
            # duplicate window; consumers dedupe on the same ids after that): no need to wait
            # for the WAL to reach disk, in the queue of the commits that must.
            await conn.execute("set local synchronous_commit = off")
            # Taken and deleted in one statement: the rows stay for the next pass (and no other
            # relay takes them meanwhile) unless the whole batch is published and this commits.
            # (`= any(array(...))`: a semi-join could run the limited subquery more than once.)
            taken = await conn.fetch(
                f"delete from {self._schema}.outbox where id = any(array(select id from"
                f" {self._schema}.outbox order by id limit $1 for update skip locked))"
                " returning id, subject, msg_id, payload, headers",
                self._batch,
            )
            if not taken:
                return 0
            rows = sorted(taken, key=itemgetter(0))  # RETURNING keeps no order
            outgoing = [
                Outgoing(r["subject"], r["payload"], _headers(r["headers"], r["msg_id"]))
                for r in rows
            ]
            refused = {
                n: why for n, m in enumerate(outgoing) if (why := self._publisher.refusal(m))
            }
            sent = [n for n in range(len(rows)) if n not in refused]
            # Pipelined: every message is sent, in order, before any acknowledgement is awaited.
            stored = await self._publisher.publish([outgoing[n] for n in sent], ACK_TIMEOUT_SECONDS)
            refused |= {sent[position]: why for position, why in stored.items()}
            if refused:
                await self._park(conn, [(rows[n], why) for n, why in sorted(refused.items())])
        return len(rows)

    async def _park(self, conn: Connection, refused: list[tuple[asyncpg.Record, str]]) -> None:
        await conn.execute(
            f"insert into {self._schema}.parked (subject, msg_id, payload, headers, size, reason)"
            " select * from unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[],"
            " $5::integer[], $6::text[])",
            [row["subject"] for row, _ in refused],
            [row["msg_id"] for row, _ in refused],
            [row["payload"] for row, _ in refused],
            [row["headers"] for row, _ in refused],
            [len(row["payload"]) for row, _ in refused],
            [why for _, why in refused],
        )
        for row, why in refused:
            log.warning(
                "outbox message parked: the server will never take it",
                extra={"schema": self._schema, "msg_id": row["msg_id"], "reason": why},
            )
        self._parked(len(refused))


class ParkedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """An outbox message set aside because the server will never take it, and why."""

    id: int
    subject: str
    msg_id: str
    size: int
    reason: str
    parked_at: datetime


async def parked_messages(
    conn: Connection, schema: str, after: int, limit: int
) -> list[ParkedMessage]:
    """The parked messages of `schema` after the id `after`, oldest first."""
    rows = await conn.fetch(
        f"select id, subject, msg_id, size, reason, parked_at from {schema}.parked"
        " where id > $1 order by id limit $2",
        after,
        limit,
    )
    return [ParkedMessage(**dict(row)) for row in rows]
