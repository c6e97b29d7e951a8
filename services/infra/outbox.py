"""The transactional outbox: messages written with the state change, published after the commit.

A service adds rows to `<schema>.outbox` inside the transaction that changes its state, so a
message exists exactly when the change does. `OutboxRelay` publishes unsent rows to JetStream
with their `Nats-Msg-Id` (deterministic, chosen by the caller) and marks them sent. Rows are
claimed with `FOR UPDATE SKIP LOCKED`, so several replicas relay side by side without sending a
row twice at once; a crash between publish and mark means a second publish, which JetStream's
duplicate window drops because the message id is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from services.infra.database import Connection

log = logging.getLogger(__name__)

_TABLE = """
create table if not exists {schema}.outbox (
    id         bigint generated always as identity primary key,
    msg_id     text not null unique,
    subject    text not null,
    body       bytea not null,
    created_at timestamptz not null default now(),
    sent_at    timestamptz
);
create index if not exists outbox_unsent on {schema}.outbox (id) where sent_at is null;
"""


async def create_table(conn: Connection, schema: str) -> None:
    """Create `<schema>.outbox` if missing (idempotent; call after the schema's migrations)."""
    await conn.execute(_TABLE.format(schema=schema))


async def add(conn: Connection, schema: str, subject: str, msg_id: str, body: bytes) -> None:
    """Queue one message in the caller's transaction; the same `msg_id` twice is one message."""
    await conn.execute(
        f"insert into {schema}.outbox (msg_id, subject, body) values ($1, $2, $3)"
        " on conflict (msg_id) do nothing",
        msg_id,
        subject,
        body,
    )


class OutboxRelay:
    """Publishes a schema's unsent outbox rows, oldest first, until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        schema: str,
        *,
        batch: int = 200,
        idle_seconds: float = 0.5,
    ) -> None:
        self._pool, self._js, self._schema = pool, js, schema
        self._batch, self._idle = batch, idle_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """Publish soon: call after committing rows, so messages do not wait for the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current batch and return from `run`."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until `stop`; faults are logged and retried after the idle interval."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                sent = await self.relay_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, NatsError) as exc:
                log.warning("outbox relay failed, will retry: %s", exc)
                sent = 0
            if sent < self._batch:  # caught up: sleep until woken or the next poll
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle)

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows and mark them sent; return how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"select id, msg_id, subject, body from {self._schema}.outbox"
                " where sent_at is null order by id limit $1 for update skip locked",
                self._batch,
            )
            if not rows:
                return 0
            # Awaited together because the acks are the slow part; each publish is written to the
            # connection in call order, so one relay keeps the rows' order.
            await asyncio.gather(
                *(
                    self._js.publish(
                        row["subject"], bytes(row["body"]), headers={"Nats-Msg-Id": row["msg_id"]}
                    )
                    for row in rows
                )
            )
            await conn.execute(
                f"update {self._schema}.outbox set sent_at = now() where id = any($1::bigint[])",
                [row["id"] for row in rows],
            )
        return len(rows)
