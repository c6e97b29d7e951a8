"""Proposals follow their evidence: a proposed case whose findings have all resolved is
withdrawn (audited, published); one an inspector accepted stays."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from tests.factories import cell_registered
from tests.integration.casework import published
from tests.tokens import bearer
from tests.waiting import eventually

INSPECTOR = bearer(Role.inspector, org="xa-1", sub="ubkt-ha")


async def proposal(workflow: AsyncTestClient, cell_id: str) -> dict[str, Any]:
    async def listed() -> list[dict[str, Any]]:
        answer = await workflow.get("/cases", params={"cell_id": cell_id}, headers=INSPECTOR)
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    return (await eventually(listed, lambda items: len(items) == 1))[0]


async def state_of(workflow: AsyncTestClient, case_id: str) -> str:
    answer = await workflow.get(f"/cases/{case_id}", headers=INSPECTOR)
    return str(answer.json()["case"]["state"])


async def test_a_proposal_whose_findings_all_resolve_is_withdrawn(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client
) -> None:
    # Never meeting since 2025-01-01: by the rules clock's 2025-12-15, findings enough for one.
    silent = cell_registered("cb-w", org_id="xa-1", established_on="2025-01-01", id="cr-w1")
    assert (await rules.post("/events", json=silent)).status_code == 202
    case = await proposal(workflow, "cb-w")
    assert case["state"] == "proposed"

    # The founding date was wrong: founded this month, nothing of it has been judged yet.
    fixed = cell_registered(
        "cb-w", org_id="xa-1", established_on="2025-12-01", id="cr-w2",
        time="2025-12-10T08:00:00+07:00",
    )  # fmt: skip
    assert (await rules.post("/events", json=fixed)).status_code == 202
    await eventually(lambda: state_of(workflow, case["id"]), "withdrawn".__eq__)

    detail = (await workflow.get(f"/cases/{case['id']}", headers=INSPECTOR)).json()
    last = detail["history"][-1]
    assert (last["trigger"], last["from_state"], last["to_state"]) == (
        "withdraw", "proposed", "withdrawn",
    )  # fmt: skip
    assert last["actor"] == "policy:major-findings-propose-inspection"
    assert "đã hết vi phạm" in last["comment"]
    assert detail["available_triggers"] == []
    messages = await published(nc, 2)
    ids = [msg_id for subject, msg_id, _ in messages if subject == "chibo.workflow.case.withdraw"]
    assert ids == [f"case-{case['id']}-v2"]


async def test_a_proposal_an_inspector_accepted_stays_when_its_findings_resolve(
    rules: AsyncTestClient, workflow: AsyncTestClient, db: asyncpg.Connection
) -> None:
    silent = cell_registered("cb-a", org_id="xa-1", established_on="2025-01-01", id="cr-a1")
    assert (await rules.post("/events", json=silent)).status_code == 202
    case = await proposal(workflow, "cb-a")
    body = {"trigger": "accept", "expected_version": 1}
    moved = await workflow.post(f"/cases/{case['id']}/transitions", json=body, headers=INSPECTOR)
    assert moved.status_code == 200, moved.text

    fixed = cell_registered(
        "cb-a", org_id="xa-1", established_on="2025-12-01", id="cr-a2",
        time="2025-12-10T08:00:00+07:00",
    )  # fmt: skip
    assert (await rules.post("/events", json=fixed)).status_code == 202

    # Once the workflow service has heard every resolution (each taken in the transaction that
    # would withdraw), the accepted case is still in the plan.
    async def still_open() -> int:
        return int(
            await db.fetchval(
                "select count(*) from workflow.findings where cell_id = 'cb-a' and status = 'open'"
            )
        )

    await eventually(still_open, (0).__eq__)
    assert await state_of(workflow, case["id"]) == "planned"
