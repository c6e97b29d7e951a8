"""A JetStream pull consumer that runs one handler per message inside a PostgreSQL transaction.

A message is acked only after its transaction commits, so a crash means redelivery, which the
idempotent handlers absorb. A message that can never be read is logged and terminated; a
transient fault (database away) naks it for a later retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.infra.database import Connection
from services.infra.messaging import fetch_unless_stopped

log = logging.getLogger(__name__)
Handler = Callable[[Connection, bytes], Awaitable[object]]
RETRY_DELAY_SECONDS = 2.0


class PullConsumer:
    """One durable consumer on `subject` of `stream`, feeding `handler` message by message."""

    def __init__(
        self,
        js: JetStreamContext,
        pool: asyncpg.Pool,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: Handler,
        batch: int = 100,
    ) -> None:
        self._js, self._pool, self._handler = js, pool, handler
        self._stream, self._subject, self._durable, self._batch = stream, subject, durable, batch
        self._stopping = asyncio.Event()
        self._subscription: JetStreamContext.PullSubscription | None = None

    async def subscribe(self) -> None:
        """Create (or bind to) the durable consumer."""
        self._subscription = await self._js.pull_subscribe(
            self._subject,
            durable=self._durable,
            stream=self._stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL, ack_wait=30
            ),
        )

    def stop(self) -> None:
        """Finish the current message and return from `run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped; faults are logged and retried, never fatal."""
        assert self._subscription is not None, "subscribe() first"
        try:
            while not self._stopping.is_set():
                for msg in await self._fetch(self._subscription):
                    await self._handle(msg)
        finally:
            await self._subscription.unsubscribe()

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await fetch_unless_stopped(subscription, self._batch, self._stopping)
        except Exception:
            log.exception("fetch failed on %s", self._subject)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RETRY_DELAY_SECONDS)
            return []

    async def _handle(self, msg: Msg) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._handler(conn, msg.data)
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
            log.warning("message refused for good", extra={"subject": msg.subject, "why": str(exc)})
            await msg.term()
            return
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("message failed, will retry: %s", exc)
            await msg.nak(delay=RETRY_DELAY_SECONDS)
            return
        await msg.ack()
