"""What the API answers when a transition may not happen: 400, 401, 403, 404, 409, 422."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from tests.integration.casework import (
    INSPECTOR,
    SECRETARY,
    START,
    Casework,
    published,
    register,
)


async def test_a_secretary_may_not_fire_an_inspectors_trigger(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    refused = await case.fire("start", START, who=SECRETARY, expect=403)
    assert refused.json()["detail"] == "a secretary may not fire `start`; only inspector, admin"
    assert refused.headers["content-type"] == "application/problem+json"


async def test_a_secretary_may_not_open_a_case(workflow: AsyncTestClient) -> None:
    body = {"cell_id": "cb-1", "org_id": "dk-1", "year": 2025}
    assert (await workflow.post("/cases", json=body, headers=SECRETARY)).status_code == 403


async def test_a_caller_without_a_valid_token_is_refused(workflow: AsyncTestClient) -> None:
    del workflow.headers["Authorization"]
    assert (await workflow.get("/cases")).status_code == 401
    response = await workflow.get("/cases", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_payload_that_does_not_match_the_trigger_is_a_bad_request(
    workflow: AsyncTestClient,
) -> None:
    case = await Casework.open(workflow)
    unknown = await case.fire("start", {**START, "conclusion": "sớm"}, expect=400)
    assert unknown.json()["field"] == "payload.conclusion"
    missing = await case.fire("start", {"team": START["team"]}, expect=400)
    assert missing.json()["detail"] == "`start` requires payload field `decision_ref`"
    wrong = await case.fire("start", {**START, "started_on": "3/3/2025"}, expect=400)
    assert wrong.json()["field"] == "payload.started_on"
    bad_role = {**START, "team": [{"name": "A", "role": "chief"}]}
    nested = await case.fire("start", bad_role, expect=400)
    assert nested.json()["field"] == "payload.team[0].role"
    assert (await case.fire("teleport", expect=400)).json()["detail"].startswith("no trigger")
    assert (await case.trail()) == [("open", None, "planned", 1)]


async def test_a_guard_refusal_names_the_guard_and_why(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    leaderless = {**START, "team": [{"name": "Lê Thị B"}]}
    refused = await case.fire("start", leaderless, expect=422)
    assert refused.json()["refusals"] == [
        {"guard": "team_has_leader", "reason": "the team names no leader"}
    ]


async def test_a_trigger_from_another_state_conflicts(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    refused = await case.fire("verify", expect=409)
    assert "fires from self_report_received" in refused.json()["detail"]


async def test_a_stale_version_conflicts(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)
    case.version = 1
    refused = await case.fire("extend", {"extension_days": 1}, comment="x", expect=409)
    assert refused.json()["current_version"] == 2


async def test_an_unknown_case_is_not_found(workflow: AsyncTestClient) -> None:
    response = await workflow.get("/cases/no-such-case", headers=INSPECTOR)
    assert response.status_code == 404


async def test_of_many_inspectors_firing_at_once_exactly_one_wins(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    case = await Casework.open(workflow)
    body = {"trigger": "start", "expected_version": 1, "payload": START}
    responses = await asyncio.gather(
        *(
            workflow.post(f"/cases/{case.id}/transitions", json=body, headers=INSPECTOR)
            for _ in range(24)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 23
    assert (
        await db.fetchval(
            "select count(*) from workflow.audit where case_id = $1 and trigger = 'start'", case.id
        )
        == 1
    )
    messages = await published(nc, 2)
    assert [s for s, _, _ in messages] == [
        "chibo.workflow.case.open",
        "chibo.workflow.case.start",
    ]


async def test_text_postgresql_cannot_hold_is_a_bad_request_naming_the_field(
    workflow: AsyncTestClient,
) -> None:
    # PostgreSQL's text and jsonb hold no NUL.
    finding = {"rule_id": "regular-meeting-monthly", "cell_id": "cb-1", "scope": "2025-02\x00"}
    body = {"cell_id": "cb-1", "org_id": "dk-xa-1", "year": 2025, "findings": [finding]}
    refused = await workflow.post("/cases", json=body, headers=INSPECTOR)
    assert refused.status_code == 400
    assert [e["key"] for e in refused.json()["errors"]] == ["findings[0].scope"]
    nul_comment = await workflow.post(
        "/cases", json={**body, "findings": [], "comment": "a\x00"}, headers=INSPECTOR
    )
    assert nul_comment.status_code == 400
    case = await Casework.open(workflow)
    team = [{"name": "Lê\x00Thị B", "role": "leader"}]
    named = await case.fire("start", {**START, "team": team}, expect=400)
    assert named.json()["field"] == "payload.team[0].name"
    note = await case.fire("start", START, comment="đúng\x00hạn", expect=400)
    assert note.json()["errors"][0]["key"] == "comment"
    # Line breaks stay welcome where text runs to paragraphs.
    await case.fire("start", START, comment="Quyết định số 12.\nĐoàn gồm hai người.")
    assert (await case.trail())[-1][0] == "start"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cell_id": "cb-nowhere", "org_id": "dk-xa-1"}, "cell_id"),
        ({"cell_id": "cb-1", "org_id": "dk-nowhere"}, "org_id"),
        ({"cell_id": "cb-1", "org_id": "dk-xa-2"}, "org_id"),  # registered, but not the cell's
    ],
)
async def test_a_case_for_a_cell_or_org_not_registered_is_refused_by_name(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection, body: dict[str, str], field: str
) -> None:
    await register(nc, db, {"cb-2": "dk-xa-2"})
    answer = await workflow.post("/cases", json={**body, "year": 2025})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


async def test_a_second_open_case_for_a_cell_kind_and_year_is_refused_unless_asked_for(
    workflow: AsyncTestClient,
) -> None:
    body = {"cell_id": "cb-1", "org_id": "dk-xa-1", "year": 2025}
    first = await workflow.post("/cases", json=body)
    assert first.status_code == 201
    second = await workflow.post("/cases", json=body)
    assert second.status_code == 409
    assert second.json()["existing"] == first.json()["id"]
    assert (await workflow.post("/cases", json={**body, "year": 2024})).status_code == 201
    assert (await workflow.post("/cases", json={**body, "allow_another": True})).status_code == 201
    case = Casework(workflow, first.json()["id"])
    await case.fire("cancel", comment="Mở nhầm")
    assert (await workflow.post("/cases", json=body)).status_code == 409  # the third is open


async def test_numbers_sent_as_text_are_refused(workflow: AsyncTestClient) -> None:
    body = {"cell_id": "cb-1", "org_id": "dk-xa-1", "year": "2025"}
    year = await workflow.post("/cases", json=body)
    assert year.status_code == 400
    assert year.json()["field"] == "year"
    case = await Casework.open(workflow)
    start = {"trigger": "start", "expected_version": "1", "payload": START}
    version = await workflow.post(f"/cases/{case.id}/transitions", json=start)
    assert version.status_code == 400
    assert version.json()["field"] == "expected_version"
