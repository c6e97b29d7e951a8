"""What both services' JetStream pull consumers share: the fetch loop, the dead letters, and the
one policy for what becomes of each message.

The policy (`settle`, `settle_batch`): a message is acked only after its transaction commits; a
transient fault (`services.infra.database.TRANSIENT_ERRORS`) naks it with a delay, to be retried;
anything else means it can never take effect, so it is parked byte for byte on a dead-letter
subject (stream `CHIBO_DLQ`) with the reason, and terminated. No fault ends the loop, and no
message that can never take effect holds back the ones behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg
import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.contracts.codec import InvalidEventError
from services.infra.database import TRANSIENT_ERRORS
from services.infra.lifespan import stopped_within
from services.infra.messaging import FETCH_SECONDS
from services.infra.puller import Puller

log = logging.getLogger(__name__)

RETRY_DELAY_SECONDS = 2.0
BatchHandler = Callable[[Sequence[Msg]], Awaitable[None]]
T = TypeVar("T")


class DeadLetters:
    """Parks poison messages on `subject` with why, then terminates them."""

    def __init__(
        self,
        js: JetStreamContext,
        subject: str,
        *,
        id_prefix: str,
        counted: Callable[[], object] | None = None,
    ) -> None:
        # The prefix keeps two services parking the same stream message from being deduplicated
        # into one record by CHIBO_DLQ's duplicate window.
        self._js, self._subject, self._id_prefix, self._counted = js, subject, id_prefix, counted

    async def park(self, msg: Msg, field: str, reason: str) -> None:
        """Publish `msg` as received with the reason and the field at fault; terminate it."""
        await self.report(msg, field, reason)
        await msg.term()

    async def report(self, msg: Msg, field: str, reason: str) -> None:
        """Publish `msg` as received with the reason and the field at fault, leaving it to be
        settled as usual (a copy that took no effect, kept for an operator to look at)."""
        log.warning(
            "message dead-lettered",
            extra={"subject": msg.subject, "field": field, "reason": reason},
        )
        origin = f"{msg.metadata.stream}-{msg.metadata.sequence.stream}"
        headers = {
            # Header values are single lines; the full reason stays readable anyway.
            "Chibo-Reason": " ".join(reason.split())[:1000],
            "Chibo-Field": field,
            "Chibo-Original-Subject": msg.subject,
            "Nats-Msg-Id": f"{self._id_prefix}-{origin}",
        }
        await self._js.publish(self._subject, msg.data, headers=headers)
        if self._counted is not None:
            self._counted()


async def settle(msg: Msg, take: Callable[[], Awaitable[object]], dead: DeadLetters) -> None:
    """Run `take` (one message's whole effect, committed when it returns), then ack; nak with a
    delay on a passing fault; park and terminate a message that can never take effect."""
    try:
        await take()
    except TRANSIENT_ERRORS as exc:
        log.warning("message failed, will retry: %s", exc, extra={"subject": msg.subject})
        await msg.nak(delay=RETRY_DELAY_SECONDS)
        return
    except Exception as exc:
        await dead.park(msg, *fault_of(exc, msg))
        return
    await msg.ack()


async def settle_batch(
    taken: Sequence[tuple[Msg, T]],
    take: Callable[[Sequence[tuple[Msg, T]]], Awaitable[object]],
    dead: DeadLetters,
) -> None:
    """`settle` for a batch of messages (each with what was read from it) taken in one
    transaction by `take`: all acked once it commits, all naked on a passing fault; on any
    other fault each is taken alone, so only the culprit is parked."""
    try:
        await take(taken)
    except TRANSIENT_ERRORS as exc:
        log.warning("storing a batch failed, will retry: %s", exc)
        for msg, _ in taken:
            await msg.nak(delay=RETRY_DELAY_SECONDS)
        return
    except Exception:
        for one in taken:
            await settle(one[0], functools.partial(take, [one]), dead)
        return
    for msg, _ in taken:
        await msg.ack()


_AT = re.compile(r" - at `([^`]*)`$")


def fault_of(exc: Exception, msg: Msg) -> tuple[str, str]:
    """The field at fault and the reason, as a dead letter's headers carry them."""
    if isinstance(exc, InvalidEventError):
        return exc.field, exc.message
    if isinstance(exc, msgspec.ValidationError):
        # msgspec names the offending field at the end of its message.
        found = _AT.search(str(exc))
        return (found[1] if found else "$"), str(exc)
    # Not the message's shape: something refused it for good, the database most often. The
    # trace is for the operator; the dead letter says what refused it.
    log.exception("message refused", extra={"subject": msg.subject}, exc_info=exc)
    refused_by = "the database" if isinstance(exc, asyncpg.PostgresError) else "the service"
    return "$", f"refused by {refused_by}: {str(exc) or type(exc).__name__}"


class PullLoop:
    """A durable pull consumer on `subject` of `stream`, handing each fetched batch to `handle`.

    A fault in fetching or handling is logged and followed by a pause; messages left unacked
    come back after `ack_wait`, so nothing is lost by carrying on.

    With `in_flight` above 1, the next batch is fetched and handed over while earlier ones are
    still being handled, up to that many at once: for handlers whose effects do not depend on
    the order batches finish in. `ready`, if given, is awaited before each fetch: whatever the
    batches feed (an outbox, say) holds the loop back while it is behind.
    """

    def __init__(
        self,
        nc: Client,
        handle: BatchHandler,
        *,
        stream: str,
        subject: str,
        durable: str,
        batch: int,
        ack_wait: float,
        max_ack_pending: int | None = None,
        in_flight: int = 1,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._js: JetStreamContext = nc.jetstream()
        self._handle = handle
        self._stream, self._subject, self._durable = stream, subject, durable
        self._batch, self._ack_wait, self._max_ack_pending = batch, ack_wait, max_ack_pending
        self._stopping = asyncio.Event()
        self._puller = Puller(nc, stream, durable)
        self._subscribed = False
        self._in_flight, self._ready = in_flight, ready
        self._handling: set[asyncio.Task[bool]] = set()

    async def subscribe(self) -> None:
        """Create (or bind to) the durable consumer; fails loudly at start if NATS refuses."""
        try:
            await self._js.consumer_info(self._stream, self._durable)
        except NotFoundError:
            await self._js.add_consumer(
                self._stream,
                ConsumerConfig(
                    durable_name=self._durable,
                    filter_subject=self._subject,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_wait=self._ack_wait,
                    max_ack_pending=self._max_ack_pending,
                ),
            )
        self._subscribed = True

    def stop(self) -> None:
        """Ask `run` to finish the batch in hand and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `stop` is called; faults are logged and retried, never fatal."""
        assert self._subscribed, "subscribe() first"
        try:
            while not self._stopping.is_set():
                await self._take()
        finally:
            try:
                await asyncio.gather(*self._handling, return_exceptions=True)
            finally:
                await self._puller.close()

    async def _take(self) -> None:
        # Batches that finished are reaped first, and a failed one pauses the loop before the
        # next fetch; with every slot taken, the loop waits for one to finish.
        while True:
            done = {task for task in self._handling if task.done()}
            self._handling -= done
            if any(task.cancelled() or not task.result() for task in done):
                await self._pause()
            if len(self._handling) < self._in_flight:
                break
            await asyncio.wait(self._handling, return_when=asyncio.FIRST_COMPLETED)
        if self._ready is not None:
            try:
                await self._unless_stopped(self._ready())
            except Exception:
                log.exception("waiting to fetch failed on %s", self._subject)
                await self._pause()
                return
            if self._stopping.is_set():
                return
        try:
            messages = await self._fetch_unless_stopped()
        except Exception:
            log.exception("fetch failed on %s", self._subject)
            await self._pause()
            with contextlib.suppress(Exception):  # a deleted consumer is created again
                await self.subscribe()
            return
        if messages:
            self._handling.add(asyncio.create_task(self._handled(messages)))

    async def _handled(self, messages: Sequence[Msg]) -> bool:
        """Hand a batch to the handler; False if it failed (logged)."""
        try:
            await self._handle(messages)
        except Exception:
            log.exception("handling a batch failed on %s", self._subject)
            return False
        return True

    async def _fetch_unless_stopped(self) -> list[Msg]:
        """Up to a batch of messages; none when the wait ends empty or `stop` comes first."""
        fetched = await self._unless_stopped(self._puller.fetch(self._batch, FETCH_SECONDS))
        return fetched or []

    async def _unless_stopped(self, work: Awaitable[T]) -> T | None:
        """`work`'s result, or None if `stop` comes first (then `work` is cancelled).

        Racing waits against `stop` makes a consumer's shutdown immediate.
        """
        doing = asyncio.ensure_future(work)
        waiting = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({doing, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not doing.done():
            doing.cancel()
            return None
        return doing.result()

    async def _pause(self) -> None:
        await stopped_within(self._stopping, RETRY_DELAY_SECONDS)
