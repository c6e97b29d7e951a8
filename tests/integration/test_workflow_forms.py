"""What the workflow API tells a page so it can draw forms and lists: each state and trigger in
both languages, each payload field with its type, whether it is required and its label; and the
case list narrowed to a year, to open cases, or to the caller's own."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from services.contracts.subjects import event_subject
from tests.factories import dumps, org_registered
from tests.integration.casework import INSPECTOR, START, Casework, register
from tests.tokens import bearer
from tests.waiting import eventually


async def test_every_trigger_describes_its_form(workflow: AsyncTestClient) -> None:
    view = (await workflow.get("/workflows/inspection")).json()
    states = {s["name"]: s for s in view["states"]}
    assert states["planned"]["title"] == {"vi": "Trong kế hoạch", "en": "planned"}
    assert states["planned"]["initial"]
    assert not states["planned"]["final"]
    assert states["closed"]["final"]
    triggers = {t["name"]: t for t in view["triggers"]}
    start = triggers["start"]
    assert start["title"] == {"vi": "Quyết định kiểm tra", "en": "decision issued, team assigned"}
    assert start["roles"] == ["inspector", "admin"]
    assert start["moves"] == [
        {"source": "planned", "to": "in_progress", "guards": ["team_has_leader"]}
    ]
    fields = {f["name"]: f for f in start["fields"]}
    assert fields["decision_ref"] == {
        "name": "decision_ref", "type": "text", "required": True, "max_length": 200,
        "title": {"vi": "Số quyết định kiểm tra", "en": "decision number"},
        "minimum": None, "maximum": None, "min_items": None, "max_items": None, "default": None,
        "choices": [], "items": [],
    }  # fmt: skip
    assert fields["started_on"]["type"] == "date"
    team = fields["team"]
    assert (team["type"], team["min_items"], team["max_items"]) == ("list", 1, 50)
    name, role = team["items"]
    assert (name["name"], name["type"], name["required"]) == ("name", "text", True)
    assert (role["type"], role["required"], role["default"]) == ("choice", False, "member")
    assert [(c["value"], c["title"]["vi"]) for c in role["choices"]] == [
        ("leader", "Trưởng đoàn"),
        ("member", "Thành viên"),
    ]
    progress = {f["name"]: f for f in triggers["report_progress"]["fields"]}["progress"]
    percent = {f["name"]: f for f in progress["items"]}["percent"]
    assert (percent["type"], percent["minimum"], percent["maximum"]) == ("integer", 0, 100)
    shortcomings = {f["name"]: f for f in triggers["conclude"]["fields"]}["shortcomings"]
    assert [(f["name"], f["type"]) for f in shortcomings["items"]] == [
        ("text", "long_text"),
        ("findings", "findings"),
    ]
    assert triggers["dismiss"]["comment_required"]
    assert triggers["dismiss"]["fields"] == []
    # The OpenAPI document describes the same shapes.
    schema = (await workflow.get("/schema/openapi.json")).json()
    assert {"FieldSpec", "TriggerSpec", "StateSpec"} <= set(schema["components"]["schemas"])


async def test_a_case_s_own_version_is_described_too(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    version = (await case.detail())["case"]["definition_version"]
    described = await workflow.get(f"/workflows/inspection/versions/{version}")
    assert described.status_code == 200
    assert described.json() == (await workflow.get("/workflows/inspection")).json()
    assert (await workflow.get("/workflows/inspection/versions/0000")).status_code == 404


async def test_cases_are_listed_by_year_open_and_mine(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    await register(nc, db, {"cb-1": "dk-xa-1", "cb-2": "dk-xa-1"})
    mine = await Casework.open(workflow)  # opened by ubkt-nguyen (INSPECTOR)
    other = bearer(Role.inspector, org="dk-xa-1", sub="ubkt-pham")
    theirs = await workflow.post(
        "/cases", json={"cell_id": "cb-2", "org_id": "dk-xa-1", "year": 2024}, headers=other
    )
    assert theirs.status_code == 201
    teamed = Casework(workflow, theirs.json()["id"])
    team = [{"name": "ubkt-pham", "role": "leader"}, {"name": "ubkt-nguyen"}]
    await teamed.fire("start", START | {"team": team}, who=other)
    gone = await Casework.open(workflow, cell_id="cb-2")
    await gone.fire("cancel", comment="nhầm chi bộ")

    async def ids(who: dict[str, str], **query: str) -> set[str]:
        answer = await workflow.get("/cases", params=query, headers=who)
        assert answer.status_code == 200, answer.text
        return {c["id"] for c in answer.json()["items"]}

    assert await ids(INSPECTOR, year="2024") == {teamed.id}
    assert await ids(INSPECTOR, open="true") == {mine.id, teamed.id}
    assert await ids(INSPECTOR, open="false") == {gone.id}
    # Opened by them, or naming them on its team; the other inspector opened one only.
    assert await ids(INSPECTOR, mine="true") == {mine.id, gone.id, teamed.id}
    assert await ids(other, mine="true") == {teamed.id}
    assert await ids(INSPECTOR, mine="true", open="true", year="2025") == {mine.id}
    assert (await workflow.get("/cases", params={"year": "1800"})).status_code == 400
    # The cases of a few cells at once, as the org page asks for the cells of its table's page.
    assert await ids(INSPECTOR, cells="cb-1") == {mine.id}
    assert await ids(INSPECTOR, cells="cb-1,cb-2", open="true") == {mine.id, teamed.id}
    assert await ids(INSPECTOR, cells="cb-9") == set()
    for wrong in ("cb-1,", "cb 1", ",".join(f"c-{n}" for n in range(201))):
        refused = await workflow.get("/cases", params={"cells": wrong})
        assert refused.status_code == 400, wrong


async def test_an_org_s_cases_include_those_of_the_orgs_below_it(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    js = nc.jetstream()
    await js.publish(
        event_subject("org.registered"), dumps(org_registered("dk-thon", "dk-xa-1", id="o-t"))
    )
    await register(nc, db, {"cb-1": "dk-xa-1", "cb-t": "dk-thon"})
    await eventually(
        lambda: db.fetchval("select parent_id from workflow.orgs where org_id = 'dk-thon'"),
        "dk-xa-1".__eq__,
    )
    upper = await Casework.open(workflow)
    lower = await Casework.open(workflow, cell_id="cb-t", org_id="dk-thon")

    async def ids(org_id: str) -> set[str]:
        answer = await workflow.get("/cases", params={"org_id": org_id})
        return {c["id"] for c in answer.json()["items"]}

    assert await ids("dk-xa-1") == {upper.id, lower.id}
    assert await ids("dk-thon") == {lower.id}
