"""Bulk publishing to JetStream: every message stored once, refusals raised, on a real server."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from services.infra.publisher import Outgoing, Publisher, PublishError

STREAM = "CHIBO_TEST_PUBLISHER"


def _messages(numbers: range) -> list[Outgoing]:
    return [
        Outgoing(f"chibo.test.publisher.{n % 3}", f"m{n}".encode(), {"Nats-Msg-Id": f"m-{n}"})
        for n in numbers
    ]


async def test_a_batch_is_stored_in_order_and_a_resend_stores_nothing_twice(nc: Client) -> None:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["chibo.test.publisher.*"])
    publisher = Publisher(nc)
    await publisher.publish(_messages(range(500)), wait_seconds=10)
    await publisher.publish(_messages(range(250, 750)), wait_seconds=10)  # half sent before
    info = await js.stream_info(STREAM)
    assert info.state.messages == 750
    stored = [(await js.get_msg(STREAM, seq)).data for seq in (1, 500, 750)]
    assert stored == [b"m0", b"m499", b"m749"]
    await publisher.publish([], wait_seconds=1)  # nothing to send returns at once
    await publisher.close()


async def test_a_subject_no_stream_takes_is_refused(nc: Client) -> None:
    publisher = Publisher(nc)
    nowhere = [Outgoing("chibo.test.nowhere", b"x", {"Nats-Msg-Id": "x-1"})]
    with pytest.raises(PublishError, match="503"):
        await publisher.publish(nowhere, wait_seconds=10)
    await publisher.close()
