"""The workflow's ingest when a cell's finding and its registration are taken at the same time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from services.contracts.codec import decode_event
from services.contracts.events import CellRegisteredEvent
from services.dev.servers import Servers
from services.workflow.adapters.files import read_policies
from services.workflow.service import ingest
from services.workflow.service.registry import Registry
from tests.conftest import ROOT
from tests.factories import cell_registered, dumps
from tests.integration.test_workflow_policy import finding
from tests.waiting import eventually

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
WORKFLOWS = ROOT / "rules" / "workflows"


@pytest.mark.usefixtures("workflow")  # its schema, migrated
async def test_a_case_proposed_while_its_cell_registers_still_gets_the_cells_org(
    db: asyncpg.Connection, servers: Servers
) -> None:
    """The finding's transaction proposes a case before the registration commits; the
    registration, taken meanwhile by another consumer, must fill the case's org all the same,
    or no inspector of that org ever sees the case."""
    registry = Registry()
    registry.load_directory(WORKFLOWS)
    policies = read_policies(WORKFLOWS, registry.definitions())
    event = decode_event(dumps(cell_registered("cb-9", org_id="dk-xa-9")))
    assert isinstance(event, CellRegisteredEvent)
    proposing = await asyncpg.connect(servers.database_url)
    registering = await asyncpg.connect(servers.database_url)
    try:
        for month in (1, 2):
            async with proposing.transaction():
                await ingest.take_finding(proposing, finding(month), policies, registry, NOW)
        async with proposing.transaction():
            # The third open major finding proposes the inspection, the cell's org not known.
            proposed = await ingest.take_finding(proposing, finding(3), policies, registry, NOW)
            assert len(proposed) == 1

            async def register() -> None:
                async with registering.transaction():
                    await ingest.take_cell(registering, event)

            registration = asyncio.create_task(register())
            waiting = "select exists (select from pg_locks where pid = $1 and not granted)"
            # Either it waits for the proposal to commit, or (the race) it is already done.
            await eventually(
                lambda: db.fetchval(waiting, registering.get_server_pid()),
                lambda blocked: blocked or registration.done(),
            )
        await registration
        org = await db.fetchval("select org_id from workflow.cases where id = $1", proposed[0])
        assert org == "dk-xa-9"
    finally:
        await proposing.close()
        await registering.close()
