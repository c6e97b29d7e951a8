"""Scope and roles in practice: a commune's inspector, a cell's secretary, a read-only viewer."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from services.contracts.subjects import EVENTS_STREAM, event_subject
from tests.factories import cell_registered, dumps
from tests.integration.casework import START
from tests.integration.conftest import consumer_idle
from tests.integration.world import build_world
from tests.tokens import bearer
from tests.waiting import eventually

COMMUNE_INSPECTOR = bearer(Role.inspector, org="xa-a")
SECRETARY = bearer(Role.secretary, cell="cb-a1")
VIEWER = bearer(Role.viewer, org="xa-a")


async def test_an_inspector_of_a_commune_sees_its_grassroots_cells_and_nothing_beside(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    world = await build_world(rules, workflow, nc, db)
    cells = (await rules.get("/cells", headers=COMMUNE_INSPECTOR)).json()["items"]
    assert [c["cell_id"] for c in cells] == ["cb-a1", "cb-a2"]
    page = (await rules.get("/findings?limit=1000", headers=COMMUNE_INSPECTOR)).json()
    assert {f["finding"]["cell_id"] for f in page["items"]} == {"cb-a1", "cb-a2"}
    other = await rules.get("/findings", params={"cell_id": "cb-b1"}, headers=COMMUNE_INSPECTOR)
    assert other.json()["items"] == []
    cases = (await workflow.get("/cases", headers=COMMUNE_INSPECTOR)).json()
    # The admin's case on cb-a1, and any the findings policy has proposed by now for the
    # commune's cells (cb-a2 too, depending on timing): none beside, so none of cb-b1.
    seen = {c["cell_id"] for c in cases["items"]}
    assert "cb-a1" in seen
    assert seen <= {"cb-a1", "cb-a2"}
    hidden = await workflow.get(f"/cases/{world.case['cb-b1']}", headers=COMMUNE_INSPECTOR)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"no case {world.case['cb-b1']}"  # as if it did not exist
    summary = await rules.get("/orgs/tinh/summary?period=2025", headers=COMMUNE_INSPECTOR)
    assert summary.status_code == 404  # the province is above the commune


async def test_a_secretary_cannot_fire_an_inspectors_trigger_even_on_their_own_cell(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    world = await build_world(rules, workflow, nc, db)
    case = f"/cases/{world.case['cb-a1']}"
    assert (await workflow.get(case, headers=SECRETARY)).json()["available_triggers"] == []
    body = {"trigger": "start", "expected_version": 1, "payload": START}
    refused = await workflow.post(f"{case}/transitions", json=body, headers=SECRETARY)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "a secretary may not fire `start`; only inspector, admin"
    started = await workflow.post(f"{case}/transitions", json=body, headers=COMMUNE_INSPECTOR)
    assert started.status_code == 200
    report = {"trigger": "submit_self_report", "expected_version": 2,
              "payload": {"self_report": "Báo cáo tự kiểm tra"}}  # fmt: skip
    fired = await workflow.post(f"{case}/transitions", json=report, headers=SECRETARY)
    assert fired.status_code == 200, fired.text
    trail = (await workflow.get(case, headers=SECRETARY)).json()["history"]
    assert (trail[-1]["actor"], trail[-1]["role"]) == ("test-secretary", "secretary")


async def test_a_viewer_cannot_write_anything(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    world = await build_world(rules, workflow, nc, db)
    case = world.case["cb-a1"]
    writes = [
        (rules, "/events", {}),
        (rules, "/rules/reload", None),
        (workflow, "/cases", {"cell_id": "cb-a1", "org_id": "cs-a1", "year": 2025}),
        (workflow, f"/cases/{case}/transitions", {"trigger": "accept", "expected_version": 1}),
        (workflow, f"/cases/{case}/transitions", {"trigger": "cancel", "expected_version": 1}),
    ]
    for client, path, body in writes:
        answer = await client.post(path, json=body, headers=VIEWER)
        assert answer.status_code == 403, (path, answer.text)
    detail = (await workflow.get(f"/cases/{case}", headers=VIEWER)).json()
    assert detail["case"]["version"] == 1
    assert detail["available_triggers"] == []


async def test_a_cell_that_moves_to_another_org_takes_its_cases_with_it(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    world = await build_world(rules, workflow, nc, db)
    case = world.case["cb-b1"]
    js = nc.jetstream()
    later = cell_registered("cb-b1", org_id="cs-a1", time="2024-06-01T08:00:00+07:00")
    await js.publish(event_subject("cell.registered"), dumps(later))
    moved = lambda: db.fetchval("select org_id from workflow.cases where id = $1", case)  # noqa: E731
    assert await eventually(moved, lambda org: org == "cs-a1") == "cs-a1"
    inspector_b = bearer(Role.inspector, org="xa-b")
    assert (await workflow.get(f"/cases/{case}", headers=inspector_b)).status_code == 404
    start = {"trigger": "start", "expected_version": 1, "payload": START}
    fired = await workflow.post(f"/cases/{case}/transitions", json=start, headers=inspector_b)
    assert fired.status_code == 403
    assert (await workflow.get(f"/cases/{case}", headers=COMMUNE_INSPECTOR)).status_code == 200
    # An older registration arriving now does not move it back.
    older = cell_registered("cb-b1", org_id="cs-b1", time="2023-01-01T08:00:00+07:00")
    await js.publish(event_subject("cell.registered"), dumps(older))
    await consumer_idle(nc, "workflow-cells", EVENTS_STREAM)
    assert await moved() == "cs-a1"
