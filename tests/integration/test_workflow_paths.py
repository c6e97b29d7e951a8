"""Every path of the default inspection definition, through the API, with its trail and messages."""

from __future__ import annotations

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from tests.integration.casework import (
    PLAN,
    SECRETARY,
    SHORTCOMINGS,
    START,
    Casework,
    published,
)

DONE = [{"action": 1, "percent": 100}, {"action": 2, "percent": 100}]


async def test_remediation_rejected_once_then_verified_closes_the_case(
    workflow: AsyncTestClient, nc: Client
) -> None:
    case = await Casework.open(workflow)
    await case.to_verifying("Đối chiếu sổ biên bản")
    conclusion = {
        "conclusion": "Chi bộ còn hạn chế",
        "shortcomings": SHORTCOMINGS,
        "remediation_due": "2025-06-30",
    }
    await case.fire("conclude", conclusion)
    await case.fire("submit_plan", {"actions": PLAN}, who=SECRETARY)
    await case.fire("report_progress", {"progress": [{"action": 1, "percent": 50}]}, who=SECRETARY)
    await case.fire("report_remediation", {"progress": DONE}, who=SECRETARY)
    await case.fire("reject_remediation", {"verification_note": "Chưa sinh hoạt bù"})
    await case.fire("submit_plan", {"actions": PLAN[:1]}, who=SECRETARY)
    await case.fire("report_remediation", {"progress": DONE[:1]}, who=SECRETARY)
    response = await case.fire("accept_remediation", {"verification_note": "Đã khắc phục"})

    assert response.json() == {
        "case_id": case.id,
        "trigger": "accept_remediation",
        "from_state": "remediation_reported",
        "state": "closed",
        "version": 12,
    }
    assert await case.trail() == [
        ("open", None, "planned", 1),
        ("start", "planned", "in_progress", 2),
        ("submit_self_report", "in_progress", "self_report_received", 3),
        ("verify", "self_report_received", "verifying", 4),
        ("conclude", "verifying", "concluded", 5),
        ("submit_plan", "concluded", "remediation_planned", 6),
        ("report_progress", "remediation_planned", "remediation_planned", 7),
        ("report_remediation", "remediation_planned", "remediation_reported", 8),
        ("reject_remediation", "remediation_reported", "remediation_planned", 9),
        ("submit_plan", "remediation_planned", "remediation_planned", 10),
        ("report_remediation", "remediation_planned", "remediation_reported", 11),
        ("accept_remediation", "remediation_reported", "closed", 12),
    ]
    detail = await case.detail()
    stored = detail["case"]
    assert stored["shortcomings"][0]["findings"][0]["scope"] == "2025-02"
    assert stored["remediation_due"] == "2025-06-30"
    assert [(a["number"], a["percent"]) for a in stored["actions"]] == [(1, 100)]
    assert [n["note"] for n in stored["verification_notes"]] == [
        "Đối chiếu sổ biên bản",
        "Chưa sinh hoạt bù",
        "Đã khắc phục",
    ]
    assert detail["available_triggers"] == []
    trail = detail["history"]
    assert trail[8]["actor"] == "ubkt-nguyen"
    assert trail[8]["role"] == "inspector"
    assert trail[9]["actor"] == "bt-tran"
    assert trail[9]["payload"] == {"actions": PLAN[:1]}

    messages = await published(nc, 12)
    assert [(subject, msg_id) for subject, msg_id, _ in messages] == [
        (f"chibo.workflow.case.{trigger}", f"case-{case.id}-v{version}")
        for trigger, _, _, version in await case.trail()
    ]
    assert messages[-1][2]["to_state"] == "closed"
    assert messages[-1][2]["version"] == 12


async def test_a_conclusion_without_shortcomings_closes_the_case(
    workflow: AsyncTestClient, nc: Client
) -> None:
    case = await Casework.open(workflow)
    await case.to_verifying()
    response = await case.fire("conclude", {"conclusion": "Thực hiện tốt", "shortcomings": []})
    assert response.json()["state"] == "closed"
    assert [t[2] for t in await case.trail()][-1] == "closed"
    assert [s for s, _, _ in await published(nc, 5)][-1] == "chibo.workflow.case.conclude"


@pytest.mark.parametrize(
    ("steps", "state"),
    [
        ([], "planned"),
        (["start"], "in_progress"),
        (["start", "submit_self_report", "verify", "conclude"], "concluded"),
    ],
)
async def test_cancelling_from_an_open_state_needs_a_reason(
    workflow: AsyncTestClient, nc: Client, steps: list[str], state: str
) -> None:
    payloads = {
        "start": START,
        "submit_self_report": {"self_report": "Báo cáo"},
        "verify": {},
        "conclude": {
            "conclusion": "Còn hạn chế",
            "shortcomings": SHORTCOMINGS,
            "remediation_due": "2025-06-30",
        },
    }
    case = await Casework.open(workflow)
    for step in steps:
        await case.fire(step, payloads[step])
    refused = await case.fire("cancel", expect=400)
    assert refused.json()["field"] == "comment"
    await case.fire("cancel", comment="Tổ chức lại chi bộ")
    assert (await case.trail())[-1] == ("cancel", state, "cancelled", len(steps) + 2)
    messages = await published(nc, len(steps) + 2)
    assert messages[-1][0] == "chibo.workflow.case.cancel"
    assert messages[-1][2]["comment"] == "Tổ chức lại chi bộ"
    await case.fire("start", START, expect=409)


async def test_an_inspection_extends_by_at_most_a_third(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)
    assert (await case.detail())["case"]["inspection_due"] == "2025-03-22"
    await case.fire("extend", {"extension_days": 4}, comment="Chi bộ xa")
    refused = await case.fire("extend", {"extension_days": 3}, comment="Thêm", expect=422)
    assert refused.json()["refusals"] == [
        {
            "guard": "extension_within_limit",
            "reason": "extensions would total 7 days; at most 6 are allowed",
        }
    ]
    await case.fire("extend", {"extension_days": 2}, comment="Thêm")
    assert (await case.detail())["case"]["inspection_due"] == "2025-03-28"


async def test_the_audit_table_refuses_update_and_delete(
    workflow: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await Casework.open(workflow)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("update workflow.audit set actor = 'someone-else'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("delete from workflow.audit")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("truncate workflow.audit cascade")
    assert await db.fetchval("select count(*) from workflow.audit") == 1
