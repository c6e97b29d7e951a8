"""The rules and workflow services in-process (real PostgreSQL and NATS), one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.subjects import EVENTS_STREAM
from services.infra.embedded import Infrastructure
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from services.workflow.app import create_app as create_workflow_app
from services.workflow.settings import WorkflowSettings
from tests.waiting import eventually


@pytest.fixture
def rules_settings(servers: Infrastructure) -> RulesSettings:
    """Settings of a rules service on the session's servers, with small limits to test them."""
    return RulesSettings(
        database_url=servers.database_url,
        nats_url=servers.nats_url,
        max_batch_events=5,
        max_body_bytes=64 * 1024,
        consumer_batch=50,
    )


@pytest.fixture
async def rules(rules_settings: RulesSettings, clean: None) -> AsyncIterator[AsyncTestClient]:
    """A running rules service (lifespan included: migrations, streams, consumer)."""
    async with AsyncTestClient(app=create_rules_app(rules_settings)) as client:
        yield client


@pytest.fixture
async def workflow(servers: Infrastructure, clean: None) -> AsyncIterator[AsyncTestClient]:
    """A running workflow service."""
    settings = WorkflowSettings(database_url=servers.database_url, nats_url=servers.nats_url)
    async with AsyncTestClient(app=create_workflow_app(settings)) as client:
        yield client


async def consumer_idle(nc: Client, durable: str = "rules-ingest") -> None:
    """Wait until the rules consumer has taken and acknowledged everything in the stream."""
    js = nc.jetstream()

    async def info() -> tuple[int, int]:
        state = await js.consumer_info(EVENTS_STREAM, durable)
        return state.num_pending or 0, state.num_ack_pending or 0

    await eventually(info, lambda counts: counts == (0, 0))
