"""The rules and workflow services in-process (real PostgreSQL and NATS), one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.subjects import EVENTS_STREAM
from services.infra.embedded import Infrastructure
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from services.workflow.app import create_app as create_workflow_app
from services.workflow.settings import WorkflowSettings
from tests.conftest import ROOT
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


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        """The time the test set."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move the clock forward, e.g. `advance(days=21)`."""
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> ManualClock:
    """The workflow service's clock, starting on 2025-03-03 09:00 Vietnam time."""
    return ManualClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))


@pytest.fixture
def workflow_settings(servers: Infrastructure) -> WorkflowSettings:
    """Settings of a workflow service on the session's servers, polling deadlines quickly."""
    return WorkflowSettings(
        database_url=servers.database_url,
        nats_url=servers.nats_url,
        definitions_dir=str(ROOT / "rules" / "workflows"),
        deadline_poll_seconds=0.05,
        outbox_poll_seconds=0.05,
    )


@pytest.fixture
async def workflow(
    workflow_settings: WorkflowSettings, clean: None, clock: ManualClock
) -> AsyncIterator[AsyncTestClient]:
    """A running workflow service whose clock the test drives."""
    async with AsyncTestClient(app=create_workflow_app(workflow_settings, clock)) as client:
        yield client


async def consumer_idle(nc: Client, durable: str = "rules-ingest") -> None:
    """Wait until the rules consumer has taken and acknowledged everything in the stream."""
    js = nc.jetstream()

    async def info() -> tuple[int, int]:
        state = await js.consumer_info(EVENTS_STREAM, durable)
        return state.num_pending or 0, state.num_ack_pending or 0

    await eventually(info, lambda counts: counts == (0, 0))
