"""Both services together: events in, findings out of the rules service, a case proposed."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from services.contracts.roles import Role
from tests.factories import cell_registered
from tests.tokens import bearer
from tests.waiting import eventually

INSPECTOR = bearer(Role.inspector, org="xa-1")


async def test_a_silent_cell_gets_findings_and_then_a_proposed_inspection(
    rules: AsyncTestClient, workflow: AsyncTestClient
) -> None:
    # Registered at the start of 2025 and never meeting: by 2025-12-15 (the rules clock) eleven
    # months without a regular meeting are open major findings, more than the policy's three.
    silent = cell_registered("cb-silent", org_id="xa-1", established_on="2025-01-01")
    assert (await rules.post("/events", json=silent)).status_code == 202

    async def proposed() -> list[dict[str, object]]:
        response = await workflow.get(
            "/cases", params={"cell_id": "cb-silent", "state": "proposed"}, headers=INSPECTOR
        )
        items: list[dict[str, object]] = response.json()["items"]
        return items

    cases = await eventually(proposed, lambda items: len(items) == 1)
    case = cases[0]
    assert (case["year"], case["org_id"], case["kind"]) == (2025, "xa-1", "inspection")
    linked = case["findings"]
    assert isinstance(linked, list)
    assert "regular-meeting-monthly" in {f["rule_id"] for f in linked}
    open_major = await rules.get(
        "/findings", params={"cell_id": "cb-silent", "status": "open", "limit": 100}
    )
    assert len(open_major.json()["items"]) >= 3
