"""The outbox relay's backlog, on real PostgreSQL and NATS: producers wait while it is behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client

from services.infra import database, outbox
from services.infra.embedded import Infrastructure
from services.infra.outbox import OutboxRelay
from services.infra.publisher import Publisher

STREAM, SUBJECT = "CHIBO_TEST_OUTBOX", "chibo.test.outbox"


@pytest.fixture
async def pool(servers: Infrastructure, clean: None) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a database with the rules schema (and its outbox)."""
    pool = await database.create_pool(servers.database_url, min_size=1, max_size=2)
    await database.migrate(pool, "rules", "services.rules.migrations")
    yield pool
    await pool.close()


async def _commit(pool: asyncpg.Pool, relay: OutboxRelay, numbers: range) -> None:
    messages = [outbox.Message(SUBJECT, f"m-{n}", str(n).encode()) for n in numbers]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, "rules", messages)
    relay.wake(len(messages))


async def test_a_producer_waits_until_the_relay_has_caught_up(
    pool: asyncpg.Pool, nc: Client
) -> None:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    relay = OutboxRelay(pool, Publisher(nc), "rules", batch=2)
    await _commit(pool, relay, range(3))
    waiting = asyncio.create_task(relay.within(1))
    await asyncio.sleep(0)  # lets it start waiting
    assert not waiting.done()  # three committed, none published

    assert await relay.relay_once() == 2  # a full pass: one may be left
    await asyncio.wait_for(waiting, 5)  # one left: within the backlog of one
    assert (await nc.jetstream().stream_info(STREAM)).state.messages == 2


async def test_a_pass_that_empties_the_outbox_clears_the_backlog(
    pool: asyncpg.Pool, nc: Client
) -> None:
    await nc.jetstream().add_stream(name=STREAM, subjects=[SUBJECT])
    relay = OutboxRelay(pool, Publisher(nc), "rules", batch=10)
    await _commit(pool, relay, range(2))
    relay.wake(50)  # an estimate too high: another replica's relay published its messages
    waiting = asyncio.create_task(relay.within(0))
    assert await relay.relay_once() == 2  # a short pass: nothing else waits
    await asyncio.wait_for(waiting, 5)


async def test_stopping_the_relay_lets_producers_go(pool: asyncpg.Pool, nc: Client) -> None:
    relay = OutboxRelay(pool, Publisher(nc), "rules")
    relay.wake(10)
    waiting = asyncio.create_task(relay.within(0))
    relay.stop()
    await asyncio.wait_for(waiting, 5)


async def test_an_estimate_another_relay_made_wrong_is_checked_against_the_outbox(
    pool: asyncpg.Pool, nc: Client
) -> None:
    relay = OutboxRelay(pool, Publisher(nc), "rules")
    relay.wake(50)  # committed here, then published by another replica's relay
    await asyncio.wait_for(relay.within(0), 5)  # the outbox is empty: no need to wait
