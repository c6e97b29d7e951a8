"""A message the server will never take is set aside, and every message behind it goes out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from services.dev.servers import Servers
from services.infra import database, outbox
from services.infra.outbox import OutboxRelay
from services.infra.publisher import Publisher
from tests.tokens import bearer
from tests.waiting import eventually

STREAM, SUBJECT = "CHIBO_TEST_PARKING", "chibo.test.parking"


@pytest.fixture(params=["rules", "workflow"])
async def schema(
    request: pytest.FixtureRequest, servers: Servers, clean: None
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """Each service's schema, with its outbox and its parked messages, on a fresh database."""
    name: str = request.param
    pool = await database.create_pool(servers.database_url, min_size=1, max_size=2)
    await database.migrate(pool, name, f"services.{name}.migrations")
    yield name, pool
    await pool.close()


async def test_an_oversized_message_is_parked_and_the_ones_behind_it_are_published(
    schema: tuple[str, asyncpg.Pool], nc: Client
) -> None:
    name, pool = schema
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=[SUBJECT])
    parked: list[int] = []
    relay = OutboxRelay(pool, Publisher(nc), name, poll_seconds=60, parked=parked.append)
    huge = b"x" * (nc.max_payload + 1)
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(
            conn,
            name,
            [
                outbox.Message(SUBJECT, "before", b"1"),
                outbox.Message(SUBJECT, "huge", huge),
                outbox.Message(SUBJECT, "after", b"2"),
            ],
        )
    assert await relay.relay_once() == 3  # taken: two published, one set aside
    assert (await js.stream_info(STREAM)).state.messages == 2
    assert [(await js.get_msg(STREAM, seq)).data for seq in (1, 2)] == [b"1", b"2"]
    assert parked == [1]
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"select count(*) from {name}.outbox") == 0
        [row] = await conn.fetch(f"select msg_id, subject, size, reason from {name}.parked")
    assert (row["msg_id"], row["subject"], row["size"]) == ("huge", SUBJECT, len(huge))
    assert f"the server takes {nc.max_payload}" in row["reason"]
    assert await relay.relay_once() == 0  # nothing left to retry forever


async def _parked_items(client: AsyncTestClient) -> list[dict[str, object]]:
    answer = await client.get("/outbox/parked")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_an_admin_lists_the_parked_messages_of_each_service(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    big = b"y" * (nc.max_payload + 10)
    for client, name in ((rules, "rules"), (workflow, "workflow")):
        async with db.transaction():  # as the service itself would commit it
            message = outbox.Message("chibo.findings.opened", f"big-{name}", big)
            await outbox.enqueue(db, name, [message])
        [item] = await eventually(
            lambda client=client: _parked_items(client), lambda items: len(items) == 1
        )
        assert item["msg_id"] == f"big-{name}"
        assert item["size"] == len(big)
        assert "the server takes" in str(item["reason"])
        refused = await client.get("/outbox/parked", headers=bearer(Role.viewer, org="x"))
        assert refused.status_code == 403
        metrics = (await client.get("/metrics")).text
        assert f'chibo_outbox_parked_total{{schema="{name}"}} 1.0' in metrics
