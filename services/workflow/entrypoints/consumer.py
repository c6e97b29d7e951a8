"""The workflow's JetStream consumers: one handler per message inside a PostgreSQL transaction.

They follow the shared policy of `services.infra.consumer`: a message is acked only after its
transaction commits, so a crash means redelivery, which the idempotent handlers absorb; a
transient fault naks it for a later retry; any other fault parks it on `chibo.dlq.workflow` with
the reason and terminates it. Messages are taken one at a time, so one poison message never holds
back the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts.codec import InvalidEventError
from services.infra.consumer import RETRY_DELAY_SECONDS, DeadLetters, PullLoop
from services.infra.database import TRANSIENT_ERRORS, Connection

log = logging.getLogger(__name__)
Handler = Callable[[Connection, bytes], Awaitable[object]]
_AT = re.compile(r" - at `([^`]*)`$")


class MessageConsumer:
    """One durable consumer on `subject` of `stream`, feeding `handler` message by message."""

    def __init__(
        self,
        nc: Client,
        pool: asyncpg.Pool,
        dead_letters: DeadLetters,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: Handler,
        ack_wait: float,
        batch: int = 100,
    ) -> None:
        self._pool, self._handler, self._dead = pool, handler, dead_letters
        self._loop = PullLoop(
            nc,
            self.handle,
            stream=stream,
            subject=subject,
            durable=durable,
            batch=batch,
            ack_wait=ack_wait,
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
                await self._take(msg)
            except Exception:
                # Typically NATS refusing an ack or a dead letter; unacked, it comes back later.
                log.exception("message left for redelivery", extra={"subject": msg.subject})

    async def _take(self, msg: Msg) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._handler(conn, msg.data)
        except TRANSIENT_ERRORS as exc:
            log.warning("message failed, will retry: %s", exc)
            await msg.nak(delay=RETRY_DELAY_SECONDS)
            return
        except Exception as exc:
            await self._dead.park(msg, *_why(exc))
            return
        await msg.ack()


def _why(exc: Exception) -> tuple[str, str]:
    """The field at fault and the reason, as the dead-letter headers carry them."""
    if isinstance(exc, InvalidEventError):
        return exc.field, exc.message
    # msgspec names the offending field at the end of its message; anything else is the whole.
    found = _AT.search(str(exc)) if isinstance(exc, msgspec.ValidationError) else None
    return (found[1] if found else "$"), str(exc) or type(exc).__name__
