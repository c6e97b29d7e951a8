"""Fetching from a durable pull consumer with Chibo's puller, on a real JetStream."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig

from services.infra.puller import Puller, PullError
from tests.waiting import eventually

STREAM = "CHIBO_TEST_PULLER"


async def _consumer(nc: Client, config: ConsumerConfig | None = None) -> Puller:
    """A stream, a durable consumer on it (`p`, unless `config` says), and a puller for it."""
    config = config or ConsumerConfig(durable_name="p", ack_wait=30)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["chibo.test.puller"])
    await js.add_consumer(STREAM, config)
    assert config.durable_name is not None
    return Puller(nc, STREAM, config.durable_name)


async def _publish(nc: Client, numbers: range) -> None:
    for n in numbers:
        await nc.jetstream().publish("chibo.test.puller", str(n).encode())


async def test_waiting_messages_come_at_once_in_order_and_in_batches(nc: Client) -> None:
    puller = await _consumer(nc)
    await _publish(nc, range(25))
    first = await puller.fetch(10, expires=5)
    rest = await puller.fetch(100, expires=5)  # fewer waiting than asked: no waiting for more
    assert [m.data for m in first + rest] == [str(n).encode() for n in range(25)]
    assert (len(first), len(rest)) == (10, 15)
    for msg in first + rest:
        await msg.ack()
    assert await puller.fetch(10, expires=0.1) == []  # acked: nothing comes back
    await puller.close()


async def test_a_fetch_waits_for_the_next_message(nc: Client) -> None:
    puller = await _consumer(nc)
    fetching = asyncio.ensure_future(puller.fetch(1, expires=5))
    await _waiting(nc, "p")
    await _publish(nc, range(1))
    assert [m.data for m in await fetching] == [b"0"]
    await puller.close()


async def test_a_waiting_fetch_hands_over_what_came_without_waiting_out_its_request(
    nc: Client,
) -> None:
    puller = await _consumer(nc)
    fetching = asyncio.ensure_future(puller.fetch(100, expires=60))
    await _waiting(nc, "p")
    await _publish(nc, range(3))
    taken = await asyncio.wait_for(fetching, 10)  # long before the request's 60 s
    later = await puller.fetch(100, expires=1)  # what the request brought after, if anything
    assert sorted(m.data for m in taken + later) == [b"0", b"1", b"2"]
    await puller.close()


async def test_messages_fetched_but_not_acked_come_again(nc: Client) -> None:
    puller = await _consumer(nc, ConsumerConfig(durable_name="q", ack_wait=0.5))
    await _publish(nc, range(3))
    taken = await puller.fetch(3, expires=1)
    await taken[0].ack()
    again = await puller.fetch(2, expires=3)  # after the ack wait, the two others
    assert sorted(m.data for m in again) == [b"1", b"2"]
    await puller.close()


async def test_a_refused_request_raises(nc: Client) -> None:
    config = ConsumerConfig(durable_name="pushed", deliver_subject="chibo.test.elsewhere")
    puller = await _consumer(nc, config)
    with pytest.raises(PullError, match="409"):  # a push consumer answers no pull request
        await puller.fetch(10, expires=1)
    await puller.close()


async def test_closing_hands_back_what_was_received_but_not_handed_out(nc: Client) -> None:
    first = await _consumer(nc, ConsumerConfig(durable_name="r", ack_wait=2))
    fetching = asyncio.ensure_future(first.fetch(100, expires=60))
    await _waiting(nc, "r")
    fetching.cancel()  # as a consumer that stops mid-fetch; its request stays on the server
    with contextlib.suppress(asyncio.CancelledError):
        await fetching
    await _publish(nc, range(2))  # delivered to the abandoned request
    await eventually(lambda: _leftover(first), lambda count: count == 2)
    await first.close()  # nak'ed: back at once (servers before 2.10 may route them to the
    # abandoned request again, and then they come back after the ack wait)
    second = Puller(nc, STREAM, "r")
    seen: set[bytes] = set()
    for _ in range(5):
        seen |= {m.data for m in await second.fetch(10, expires=2)}
        if seen == {b"0", b"1"}:
            break
    assert seen == {b"0", b"1"}
    await second.close()


async def _leftover(puller: Puller) -> int:
    return len(puller._leftover)


async def _waiting(nc: Client, durable: str) -> None:
    """Until the consumer holds a waiting pull request: the fetch asks, nothing is there yet."""

    async def requests() -> int:
        return (await nc.jetstream().consumer_info(STREAM, durable)).num_waiting or 0

    await eventually(requests, lambda count: count == 1)
