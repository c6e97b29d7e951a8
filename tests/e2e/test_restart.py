"""The rules service killed in the middle of a stream loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from nats.aio.client import Client

from services.contracts.subjects import event_subject
from tests.e2e.conftest import ServiceProcess
from tests.factories import cell_registered, dumps, meeting_held
from tests.waiting import eventually

MEETINGS = 3000


async def ready(service: ServiceProcess) -> None:
    async def status() -> int:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(service.url + "/ready")).status_code
        except httpx.TransportError:
            return 0

    await eventually(status, lambda code: code == 200, within=30)


async def count(db: asyncpg.Connection, table: str) -> int:
    return int(await db.fetchval(f"select count(*) from rules.{table}"))


async def test_a_service_killed_mid_stream_loses_nothing_when_it_restarts(
    rules_process: ServiceProcess, nc: Client, db: asyncpg.Connection
) -> None:
    rules_process.start()
    await ready(rules_process)
    js = nc.jetstream()
    await js.publish(event_subject("cell.registered"), dumps(cell_registered("c-1", id="evt-cell")))
    events = [
        meeting_held(f"m-{i}", "c-1", id=f"evt-{i}", held_at=f"2024-03-05T19:{i % 60:02d}:00+07:00")
        for i in range(MEETINGS)
    ]
    publishing = asyncio.gather(
        *(js.publish(event_subject("meeting.held"), dumps(e)) for e in events)
    )

    # Kill it once part of the stream is stored, while the rest is still arriving.
    await eventually(lambda: count(db, "meetings"), lambda n: n >= MEETINGS // 10)
    rules_process.kill()
    stored_at_kill = await count(db, "meetings")
    await publishing
    # Every event published before the restart is re-sent too, as a source retrying would.
    for event in events[:200]:
        await js.publish(event_subject("meeting.held"), dumps(event))

    rules_process.start()
    await ready(rules_process)
    await eventually(lambda: count(db, "events"), lambda n: n == MEETINGS + 1, within=60)

    assert stored_at_kill < MEETINGS, "the kill came too late to test anything"
    assert await count(db, "meetings") == MEETINGS
    assert rules_process.stop()


async def test_a_stopped_service_shuts_down_cleanly(
    rules_process: ServiceProcess, nc: Client
) -> None:
    rules_process.start()
    await ready(rules_process)
    assert rules_process.stop()
