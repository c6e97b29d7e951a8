"""Findings on JetStream propose an inspection once per cell and year; inspectors decide."""

from __future__ import annotations

from datetime import date

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.findings import Finding, FindingStatus, Mode, Severity, Text
from services.contracts.roles import Role
from services.contracts.subjects import findings_subject
from tests.integration.casework import ADMIN, Casework, published
from tests.tokens import bearer
from tests.waiting import eventually


def finding(month: int, *, status: str = "open", severity: str = "major") -> Finding:
    """A regular-meeting finding for cell cb-9 in `month` of 2025."""
    return Finding(
        rule_id="regular-meeting-monthly",
        cell_id="cb-9",
        scope=f"2025-{month:02d}",
        status=FindingStatus(status),
        severity=Severity(severity),
        mode=Mode.enforce,
        period_start=date(2025, month, 1),
        period_end=date(2025, month, 28),
        observed=0,
        expected="at least 1",
        meeting_ids=[],
        rule_version="v1",
        message=Text(vi="Không sinh hoạt", en="No regular meeting"),
    )


async def send(nc: Client, item: Finding) -> None:
    """Publish a finding the way the rules service does."""
    subject = findings_subject(item.status)
    await nc.jetstream().publish(subject, msgspec.json.encode(item))


# An inspector of the org cell cb-9 registers under.
INSPECTOR_9 = bearer(Role.inspector, org="dk-xa-9")


async def proposals(client: AsyncTestClient) -> list[dict[str, object]]:
    """The proposed cases of cell cb-9 (as an admin: the cell may not be registered)."""
    response = await client.get(
        "/cases", params={"cell_id": "cb-9", "state": "proposed"}, headers=ADMIN
    )
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_three_open_major_findings_propose_one_inspection(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    cell = {
        "specversion": "1.0", "id": "evt-cell-9", "source": "test", "type": "cell.registered",
        "time": "2025-01-01T00:00:00+07:00", "subject": "cb-9",
        "data": {"cell_id": "cb-9", "name": "Chi bộ 9", "org_id": "dk-xa-9",
                 "cell_type": "rural", "has_committee": False,
                 "established_on": "2020-01-01", "dissolved_on": None},
    }  # fmt: skip
    await nc.jetstream().publish("chibo.events.cell.registered", msgspec.json.encode(cell))
    await send(nc, finding(1))
    await send(nc, finding(2, severity="minor"))  # not counted
    await send(nc, finding(3))
    await send(nc, finding(3))  # a redelivery: no second effect
    await send(nc, finding(4, status="resolved"))  # resolved: not counted
    await eventually(
        lambda: db.fetchval("select count(*) from workflow.findings"), lambda n: n == 4
    )
    assert await proposals(workflow) == []
    await send(nc, finding(5))
    await send(nc, finding(6))  # a fourth open major finding proposes nothing more
    found = await eventually(lambda: proposals(workflow), lambda items: len(items) == 1)
    await eventually(
        lambda: db.fetchval("select count(*) from workflow.findings"), lambda n: n == 6
    )
    assert len(await proposals(workflow)) == 1
    case = found[0]
    assert case["org_id"] == "dk-xa-9"
    assert case["year"] == 2025
    assert [f["scope"] for f in case["findings"]] == ["2025-01", "2025-03", "2025-05"]
    messages = await published(nc, 1)
    assert [(s, m["actor"]) for s, _, m in messages] == [
        ("chibo.workflow.case.open", "policy:major-findings-propose-inspection")
    ]

    proposal = Casework(workflow, str(case["id"]))
    await proposal.fire("accept", who=INSPECTOR_9)
    assert (await proposal.trail(INSPECTOR_9))[-1] == ("accept", "proposed", "planned", 2)


async def test_a_dismissed_proposal_is_not_proposed_again(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    for month in (1, 2, 3):
        await send(nc, finding(month))
    found = await eventually(lambda: proposals(workflow), lambda items: len(items) == 1)
    proposal = Casework(workflow, str(found[0]["id"]))
    await proposal.fire("dismiss", who=ADMIN, comment="Đã kiểm tra trong quý")
    await send(nc, finding(7))
    await send(nc, finding(8))
    await eventually(
        lambda: db.fetchval("select count(*) from workflow.findings"), lambda n: n == 5
    )
    assert await proposals(workflow) == []
    assert len(await published(nc, 2)) == 2  # the proposal and its dismissal, nothing more
    assert (await proposal.detail(ADMIN))["case"]["org_id"] is None  # the cell never registered


async def test_a_finding_change_that_arrives_late_does_not_undo_a_newer_one(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    opened = msgspec.structs.replace(finding(1), revision=1)
    resolved = msgspec.structs.replace(finding(1, status="resolved"), revision=2)
    await send(nc, resolved)
    await send(nc, opened)  # older, delivered after the newer one
    for month in (2, 3):
        await send(nc, msgspec.structs.replace(finding(month), revision=1))
    await eventually(
        lambda: db.fetchval("select count(*) from workflow.findings"), lambda n: n == 3
    )
    await eventually(
        lambda: db.fetchval("select sum(revision) from workflow.findings"), lambda n: n == 4
    )
    status = await db.fetchval("select status from workflow.findings where scope = '2025-01'")
    assert status == "resolved"
    assert await proposals(workflow) == []  # two open findings: below the policy's three
