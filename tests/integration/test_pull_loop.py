"""The pull loop on a real JetStream: batches in hand at once, and a stop that lets them finish."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from nats.aio.client import Client
from nats.aio.msg import Msg

from services.infra.consumer import BatchHandler, PullLoop
from tests.waiting import eventually

STREAM, SUBJECT = "CHIBO_TEST_LOOP", "chibo.test.loop"
Gate = Callable[[], Awaitable[None]]


async def _loop(
    nc: Client, handle: BatchHandler, in_flight: int, ready: Gate | None = None
) -> PullLoop:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    loop = PullLoop(
        nc, handle, stream=STREAM, subject=SUBJECT, durable="loop", batch=2, ack_wait=30,
        in_flight=in_flight, ready=ready,
    )  # fmt: skip
    await loop.subscribe()
    return loop


async def test_later_batches_are_handled_while_the_first_is_still_in_hand(nc: Client) -> None:
    release = asyncio.Event()
    seen: list[list[bytes]] = []
    finished = 0

    async def handle(messages: Sequence[Msg]) -> None:
        nonlocal finished
        seen.append([m.data for m in messages])
        if len(seen) == 1:
            await release.wait()  # the first batch is slow
        for msg in messages:
            await msg.ack()
        finished += 1

    loop = await _loop(nc, handle, in_flight=3)
    for n in range(6):
        await nc.jetstream().publish(SUBJECT, str(n).encode())
    running = asyncio.create_task(loop.run())

    # The two batches after it are fetched and handled while the first one waits.
    async def batches_seen() -> int:
        return len(seen)

    await eventually(batches_seen, lambda n: n == 3)
    loop.stop()
    release.set()
    await running

    assert finished == 3  # the stop waited for every batch in hand
    assert sorted(b for batch in seen for b in batch) == [str(n).encode() for n in range(6)]
    js = nc.jetstream()
    await eventually(
        lambda: js.consumer_info(STREAM, "loop"),
        lambda info: (info.num_pending, info.num_ack_pending) == (0, 0),
    )


async def test_nothing_is_fetched_while_the_loop_is_held_back(nc: Client) -> None:
    handled: list[bytes] = []
    opened = asyncio.Event()
    asked = 0

    async def ready() -> None:  # as the outbox relay's `within`, while it is behind
        nonlocal asked
        asked += 1
        await opened.wait()

    async def handle(messages: Sequence[Msg]) -> None:
        for msg in messages:
            handled.append(msg.data)
            await msg.ack()

    loop = await _loop(nc, handle, in_flight=1, ready=ready)
    for n in range(4):
        await nc.jetstream().publish(SUBJECT, str(n).encode())
    running = asyncio.create_task(loop.run())

    async def times_asked() -> int:
        return asked

    await eventually(times_asked, lambda n: n == 1)  # the loop is at the gate, before fetching
    info = await nc.jetstream().consumer_info(STREAM, "loop")
    assert (info.delivered.consumer_seq, info.num_pending) == (0, 4)

    opened.set()

    async def count() -> int:
        return len(handled)

    await eventually(count, lambda n: n == 4)
    loop.stop()
    await running


async def test_a_failure_before_fetching_pauses_the_loop_and_it_goes_on(nc: Client) -> None:
    handled: list[bytes] = []
    failures = 0

    async def ready() -> None:  # the database is away once
        nonlocal failures
        if not failures:
            failures += 1
            raise ConnectionRefusedError("the database is away")

    async def handle(messages: Sequence[Msg]) -> None:
        for msg in messages:
            handled.append(msg.data)
            await msg.ack()

    loop = await _loop(nc, handle, in_flight=1, ready=ready)
    await nc.jetstream().publish(SUBJECT, b"0")
    running = asyncio.create_task(loop.run())

    async def count() -> int:
        return len(handled)

    await eventually(count, lambda n: n == 1)
    loop.stop()
    await running
    assert failures == 1
