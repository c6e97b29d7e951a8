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


async def test_a_message_over_the_servers_limit_is_refused_before_anything_is_sent(
    nc: Client,
) -> None:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["chibo.test.publisher.*"])
    publisher = Publisher(nc)
    too_large = Outgoing("chibo.test.publisher.0", b"x" * nc.max_payload, {"Nats-Msg-Id": "big"})
    with pytest.raises(PublishError, match=f"the server takes {nc.max_payload}"):
        await publisher.publish([*_messages(range(3)), too_large], wait_seconds=10)
    assert (await js.stream_info(STREAM)).state.messages == 0
    # The connection is still good for the next batch, and nothing of the first one follows it.
    await publisher.publish(_messages(range(3, 6)), wait_seconds=10)
    assert (await js.stream_info(STREAM)).state.messages == 3
    await publisher.close()


async def test_headers_arrive_and_a_line_break_in_a_value_cannot_split_them(nc: Client) -> None:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["chibo.test.publisher.*"])
    publisher = Publisher(nc)
    headers = {"Nats-Msg-Id": "h-1", "Chibo-Note": "one\r\nFake: header"}
    await publisher.publish([Outgoing("chibo.test.publisher.1", b"body", headers)], 10)
    stored = await js.get_msg(STREAM, 1)
    assert stored.data == b"body"
    assert stored.headers == {"Nats-Msg-Id": "h-1", "Chibo-Note": "one  Fake: header"}
    await publisher.close()
