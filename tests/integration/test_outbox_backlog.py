"""The outbox relay's backlog, on real PostgreSQL and NATS: producers wait while it is behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client

from services.dev.servers import Servers
from services.infra import database, outbox
from services.infra.outbox import OutboxRelay
from services.infra.publisher import Publisher

STREAM, SUBJECT = "CHIBO_TEST_OUTBOX", "chibo.test.outbox"


@pytest.fixture
async def pool(servers: Servers, clean: None) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a database with the rules schema (and its outbox)."""
    pool = await database.create_pool(servers.database_url, min_size=1, max_size=2)
    await database.migrate(pool, "rules", "services.rules.migrations")
    yield pool
    await pool.close()


async def _commit(pool: asyncpg.Pool, numbers: range) -> None:
    messages = [outbox.Message(SUBJECT, f"m-{n}", str(n).encode()) for n in numbers]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, "rules", messages)


async def _still_waiting(waiting: asyncio.Task[None]) -> bool:
    """True if `waiting` does not finish within a moment (it is left running)."""
    try:
        await asyncio.wait_for(asyncio.shield(waiting), 0.3)
    except TimeoutError:
        return True
    return False


async def test_a_producer_waits_until_the_relay_has_caught_up(
    pool: asyncpg.Pool, nc: Client
) -> None:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    relay = OutboxRelay(pool, Publisher(nc), "rules", batch=2, poll_seconds=60)
    await _commit(pool, range(3))
    waiting = asyncio.create_task(relay.within(1))
    assert await _still_waiting(waiting)  # three wait to be published

    assert await relay.relay_once() == 2
    await asyncio.wait_for(waiting, 5)  # one left: within the backlog of one, at once
    assert (await nc.jetstream().stream_info(STREAM)).state.messages == 2


async def test_rows_another_replica_published_free_the_producer(
    pool: asyncpg.Pool, nc: Client
) -> None:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    here = OutboxRelay(pool, Publisher(nc), "rules", poll_seconds=0.05)
    await _commit(pool, range(3))
    waiting = asyncio.create_task(here.within(0))
    assert await _still_waiting(waiting)

    elsewhere = OutboxRelay(pool, Publisher(nc), "rules")
    assert await elsewhere.relay_once() == 3  # this relay published nothing
    await asyncio.wait_for(waiting, 5)


async def test_stopping_the_relay_lets_producers_go(pool: asyncpg.Pool, nc: Client) -> None:
    relay = OutboxRelay(pool, Publisher(nc), "rules", poll_seconds=60)
    await _commit(pool, range(3))
    waiting = asyncio.create_task(relay.within(0))
    assert await _still_waiting(waiting)
    relay.stop()
    await asyncio.wait_for(waiting, 5)
