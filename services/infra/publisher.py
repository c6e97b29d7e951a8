"""Publishing to JetStream in bulk: every message sent at once, then every acknowledgement awaited.

nats-py's `publish_async` does this one message at a time with a semaphore wait, a random reply
token read from the OS and a future each, and parses each acknowledgement with the standard
`json` module. The outbox relay publishes every finding change, often a thousand a second: this
publisher sends a batch with one reply subscription shared by all, numbered reply subjects, and
msgspec for the acknowledgements.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


class PublishError(Exception):
    """JetStream did not store a message: what it said, or that it said nothing in time."""


class Outgoing(msgspec.Struct, frozen=True):
    """One message to publish: where, its bytes, and its headers (`Nats-Msg-Id` among them)."""

    subject: str
    payload: bytes
    headers: dict[str, str]


class _Error(msgspec.Struct, frozen=True):
    description: str = ""
    code: int = 0


class _Ack(msgspec.Struct, frozen=True):
    """A JetStream publish acknowledgement: where the message went, or why it did not."""

    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: _Error | None = None


_decode_ack = msgspec.json.Decoder(_Ack).decode


class _Batch:
    """The acknowledgements one `publish` call still waits for."""

    def __init__(self, count: int) -> None:
        self.waiting = count
        self.errors: list[str] = []
        self.done = asyncio.Event()
        if count == 0:
            self.done.set()

    def acknowledged(self, error: str | None) -> None:
        if error is not None:
            self.errors.append(error)
        self.waiting -= 1
        if self.waiting == 0:
            self.done.set()


class Publisher:
    """Publishes batches of messages to JetStream over one NATS connection."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._prefix = ""
        self._subscription: Subscription | None = None
        self._numbers = itertools.count()
        self._pending: dict[str, _Batch] = {}

    async def publish(self, messages: Sequence[Outgoing], wait_seconds: float) -> None:
        """Send `messages` in order and return once JetStream stored each one.

        Raises PublishError naming the first refusal, or the count still unanswered after
        `timeout` seconds; the caller then sends them again, and JetStream drops the ones it
        already stored as duplicates of their `Nats-Msg-Id`.
        """
        if self._subscription is None:
            self._prefix = self._nc.new_inbox() + "."
            self._subscription = await self._nc.subscribe(self._prefix + "*", cb=self._on_ack)
        batch = _Batch(len(messages))
        tokens = []
        try:
            for message in messages:
                token = str(next(self._numbers))
                tokens.append(token)
                self._pending[token] = batch
                await self._nc.publish(
                    message.subject,
                    message.payload,
                    reply=self._prefix + token,
                    headers=message.headers,
                )
            try:
                await asyncio.wait_for(batch.done.wait(), wait_seconds)
            except TimeoutError:
                raise PublishError(
                    f"{batch.waiting} of {len(messages)} unacknowledged after {wait_seconds}s"
                ) from None
        finally:
            for token in tokens:
                self._pending.pop(token, None)
        if batch.errors:
            raise PublishError(f"{len(batch.errors)} messages refused: {batch.errors[0]}")

    async def _on_ack(self, msg: Msg) -> None:
        batch = self._pending.pop(msg.subject[len(self._prefix) :], None)
        if batch is None:
            return  # an answer that came after its batch gave up waiting
        batch.acknowledged(_refusal(msg))

    async def close(self) -> None:
        """Stop listening for acknowledgements."""
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None


def _refusal(msg: Msg) -> str | None:
    """Why JetStream refused the message this acknowledgement answers, or None if it stored it."""
    status = (msg.headers or {}).get("Status")
    if status is not None:  # 503: no stream listens on the subject
        return f"status {status} {(msg.headers or {}).get('Description', '')}".strip()
    try:
        ack = _decode_ack(msg.data)
    except msgspec.DecodeError:
        return f"unreadable acknowledgement {msg.data[:200]!r}"
    if ack.error is not None:
        return f"{ack.error.code} {ack.error.description}"
    if not ack.stream:
        return f"acknowledgement without a stream {msg.data[:200]!r}"
    return None
