"""Deadlines passing with a driven clock: marked overdue and published once."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.dev.servers import Servers
from services.workflow.service.deadlines import mark_overdue
from tests.clock import ManualClock
from tests.integration.casework import (
    INSPECTOR,
    SHORTCOMINGS,
    START,
    Casework,
    published,
)
from tests.waiting import eventually


async def overdue_cases(client: AsyncTestClient) -> list[str]:
    """Ids of the cases `GET /cases?overdue=true` lists."""
    response = await client.get("/cases", params={"overdue": "true"}, headers=INSPECTOR)
    return [c["id"] for c in response.json()["items"]]


async def test_an_inspection_past_its_length_is_overdue_once(
    workflow: AsyncTestClient, nc: Client, workflow_clock: ManualClock
) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)  # 20 days from 2025-03-03: due 2025-03-22
    workflow_clock.advance(days=19, hours=14)  # 2025-03-22 23:00 in Vietnam: not passed yet
    assert await overdue_cases(workflow) == []
    workflow_clock.advance(hours=1)
    assert await eventually(lambda: overdue_cases(workflow), lambda ids: ids == [case.id])
    messages = await published(nc, 3)
    assert messages[2][0] == "chibo.workflow.case.overdue"
    assert messages[2][1] == f"case-{case.id}-overdue-inspection-2025-03-22"
    assert messages[2][2]["deadline"] == "inspection"
    assert messages[2][2]["due"] == "2025-03-22"
    assert (await case.detail())["case"]["inspection_overdue"] is True
    assert case.version == 2  # marking overdue is not a transition: the version stays


async def test_a_remediation_past_its_due_date_is_overdue_and_counted(
    workflow: AsyncTestClient, nc: Client, workflow_clock: ManualClock
) -> None:
    case = await Casework.open(workflow)
    await case.to_verifying()
    conclusion = {"conclusion": "Còn hạn chế", "shortcomings": SHORTCOMINGS}
    await case.fire("conclude", {**conclusion, "remediation_due": "2025-05-31"})
    workflow_clock.advance(days=100)
    await eventually(lambda: overdue_cases(workflow), lambda ids: ids == [case.id])
    summary = await workflow.get(
        "/orgs/dk-xa-1/cases/summary", params={"year": 2025}, headers=INSPECTOR
    )
    assert summary.json() == {
        "org_id": "dk-xa-1",
        "year": 2025,
        "by_state": {"concluded": 1},
        "overdue_inspections": 0,
        "overdue_remediations": 1,
    }
    overdue = [m for m in await published(nc, 6) if m[0] == "chibo.workflow.case.overdue"]
    assert [m[2]["deadline"] for m in overdue] == ["remediation"]


async def test_replicas_polling_together_mark_each_case_once(
    workflow: AsyncTestClient, nc: Client, workflow_clock: ManualClock, servers: Servers
) -> None:
    # Four pollers besides the service's own claim the same due cases at once.
    cases = [await Casework.open(workflow) for _ in range(5)]
    for case in cases:
        await case.fire("start", START)
    workflow_clock.advance(days=30)
    pool = await asyncpg.create_pool(servers.database_url, min_size=4, max_size=4)
    try:
        marked = await asyncio.gather(
            *(mark_overdue(pool, workflow_clock, batch=2) for _ in range(4))
        )
        marked_later = await mark_overdue(pool, workflow_clock)
    finally:
        await pool.close()
    total = sum(len(some) for some in marked) + len(marked_later)
    assert total <= 5
    await eventually(lambda: overdue_cases(workflow), lambda ids: len(ids) == 5)
    overdue = [m for m in await published(nc, 15) if m[0] == "chibo.workflow.case.overdue"]
    assert len(overdue) == 5
