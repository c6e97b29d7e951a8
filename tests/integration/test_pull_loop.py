"""The pull loop on a real JetStream: batches in hand at once, and a stop that lets them finish."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nats.aio.client import Client
from nats.aio.msg import Msg

from services.infra.consumer import BatchHandler, PullLoop
from tests.waiting import eventually

STREAM, SUBJECT = "CHIBO_TEST_LOOP", "chibo.test.loop"


async def _loop(nc: Client, handle: BatchHandler, in_flight: int) -> PullLoop:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    loop = PullLoop(
        nc, handle, stream=STREAM, subject=SUBJECT, durable="loop", batch=2, ack_wait=30,
        in_flight=in_flight,
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
