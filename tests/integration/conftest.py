"""The rules and workflow services in-process (real PostgreSQL and NATS), one per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts.calendar import VIETNAM
from services.contracts.subjects import EVENTS_STREAM
from services.dev.servers import Servers
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from services.workflow.app import create_app as create_workflow_app
from services.workflow.settings import WorkflowSettings
from tests.clock import ManualClock
from tests.conftest import ROOT
from tests.tokens import ADMIN, AUTH
from tests.waiting import eventually


def on(servers: Servers) -> dict[str, Any]:
    """The settings every service needs to run on the session's servers."""
    return {"database_url": servers.database_url, "nats_url": servers.nats_url, "auth": AUTH}


@pytest.fixture
def rules_settings(servers: Servers) -> RulesSettings:
    """Settings of a rules service on the session's servers, with small limits to test them."""
    return RulesSettings(
        **on(servers),
        max_batch_events=5,
        max_body_bytes=64 * 1024,
        consumer_batch=50,
    )


TODAY = datetime(2025, 12, 15, 10, 0, tzinfo=VIETNAM)


@pytest.fixture
def clock() -> ManualClock:
    """The services' clock, stopped at 2025-12-15 10:00 in Vietnam until a test moves it."""
    return ManualClock(TODAY)


@pytest.fixture
async def rules(
    rules_settings: RulesSettings, clock: ManualClock, clean: None
) -> AsyncIterator[AsyncTestClient]:
    """A running rules service (lifespan included: migrations, streams, consumer, scheduler),
    called as an admin unless a test sends another token."""
    async with AsyncTestClient(app=create_rules_app(rules_settings, clock)) as client:
        client.headers.update(ADMIN)
        yield client


@pytest.fixture
def workflow_clock() -> ManualClock:
    """The workflow service's clock, starting on 2025-03-03 09:00 Vietnam time."""
    return ManualClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))


@pytest.fixture
def workflow_settings(servers: Servers) -> WorkflowSettings:
    """Settings of a workflow service on the session's servers, polling deadlines quickly."""
    return WorkflowSettings(
        **on(servers),
        definitions_dir=str(ROOT / "rules" / "workflows"),
        deadline_poll_seconds=0.05,
        outbox_poll_seconds=0.05,
    )


@pytest.fixture
async def workflow(
    workflow_settings: WorkflowSettings,
    clean: None,
    workflow_clock: ManualClock,
    nc: Client,
    db: asyncpg.Connection,
) -> AsyncIterator[AsyncTestClient]:
    """A running workflow service whose clock the test drives, called as an admin unless a
    test sends another token; it knows cell cb-1 of org dk-xa-1, the default case's."""
    from tests.integration.casework import register

    app = create_workflow_app(workflow_settings, workflow_clock)
    async with AsyncTestClient(app=app) as client:
        client.headers.update(ADMIN)
        await register(nc, db)
        yield client


async def settled(nc: Client, db: asyncpg.Connection) -> None:
    """Wait until every event is consumed and every finding message published."""
    await consumer_idle(nc)
    await eventually(lambda: db.fetchval("select count(*) from rules.outbox"), lambda n: n == 0)


async def dead_letters(nc: Client, subject: str) -> asyncio.Queue[Msg]:
    """A queue receiving every message parked on the dead-letter `subject` from now on."""
    parked: asyncio.Queue[Msg] = asyncio.Queue()
    await nc.jetstream().subscribe(subject, cb=parked.put, ordered_consumer=True)
    return parked


async def consumer_idle(
    nc: Client, durable: str = "rules-ingest", stream: str = EVENTS_STREAM
) -> None:
    """Wait until a consumer (the rules one unless named) has taken and acknowledged, or
    terminated, everything in its stream."""
    js = nc.jetstream()

    async def info() -> tuple[int, int]:
        state = await js.consumer_info(stream, durable)
        return state.num_pending or 0, state.num_ack_pending or 0

    await eventually(info, lambda counts: counts == (0, 0))
