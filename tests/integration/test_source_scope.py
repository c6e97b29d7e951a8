"""A source token that names an org writes only for that org's subtree; one naming a cell, only
for that cell; an unscoped source (a trusted integration) and an admin write for every org.

    tinh ─┬─ xa-a ── cs-a1 ── cell cb-a1
          └─ xa-b ── cs-b1 ── cell cb-b1 (meeting m-b)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.contracts.roles import Role
from services.rules.app import create_app
from services.rules.settings import RulesSettings
from tests.clock import ManualClock
from tests.factories import cell_registered, meeting_held, meeting_retracted, org_registered
from tests.tokens import ADMIN, bearer

COMMUNE_SOURCE = bearer(Role.source, org="xa-a")


@pytest.fixture
async def rules(
    rules_settings: RulesSettings, clock: ManualClock, clean: None
) -> AsyncIterator[AsyncTestClient]:
    """A rules service taking batches of up to 20 events: one request tells the whole story."""
    settings = msgspec.structs.replace(rules_settings, max_batch_events=20)
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        yield client


async def _tree(rules: AsyncTestClient) -> None:
    events = [
        org_registered("tinh", None, id="o-tinh"),
        org_registered("xa-a", "tinh", id="o-xa-a"),
        org_registered("xa-b", "tinh", id="o-xa-b"),
        org_registered("cs-a1", "xa-a", id="o-cs-a1"),
        org_registered("cs-b1", "xa-b", id="o-cs-b1"),
        cell_registered("cb-a1", org_id="cs-a1", id="c-a1"),
        cell_registered("cb-b1", org_id="cs-b1", id="c-b1"),
        meeting_held("m-b", "cb-b1", id="e-m-b"),
    ]
    stored = await rules.post("/events", json=events, headers=ADMIN)
    assert stored.status_code == 202, stored.text


def _later(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "time": "2024-06-01T08:00:00+07:00"}  # newer than what is kept


async def test_a_communes_source_writes_below_its_commune_and_is_refused_beside_it(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await _tree(rules)
    batch = [
        meeting_held("m-a", "cb-a1", id="ok-meeting"),
        meeting_held("m-x", "cb-b1", id="other-communes-cell"),
        # Registered in the batch, an org and its cell count for the events after them.
        org_registered("cs-a2", "xa-a", id="ok-org"),
        cell_registered("cb-a3", org_id="cs-a2", id="ok-cell"),
        meeting_held("m-a3", "cb-a3", id="ok-meeting-of-new-cell"),
        _later(cell_registered("cb-b1", org_id="cs-a1", id="takes-a-cell")),
        _later(org_registered("xa-b", "xa-a", id="takes-an-org")),
        _later(org_registered("xa-a", "tinh", id="moves-itself")),
        _later(org_registered("cs-a3", None, id="a-root")),
        _later(meeting_retracted("m-b", "cb-a1", id="takes-a-meeting")),
        meeting_held("m-u", "cb-unknown", id="unregistered-cell"),
        {"id": "broken", "type": "meeting.held"},
    ]
    answer = await rules.post("/events", json=batch, headers=COMMUNE_SOURCE)
    assert answer.status_code == 403, answer.text
    problem = answer.json()
    assert problem["detail"] == "8 of 12 events are refused; the others were stored"
    assert sorted(problem["accepted"]) == sorted(
        ["ok-meeting", "ok-org", "ok-cell", "ok-meeting-of-new-cell"]
    )
    refused = {e["id"]: (e["field"], e["message"]) for e in problem["errors"]}
    assert refused == {
        "other-communes-cell": ("data.cell_id", "cell cb-b1 is not registered below org xa-a"),
        "takes-a-cell": ("data.cell_id", "cell cb-b1 is registered outside org xa-a"),
        "takes-an-org": ("data.org_id", "org xa-b is not below org xa-a"),
        "moves-itself": ("data.parent_id", "this token registers orgs only below org xa-a"),
        "a-root": ("data.parent_id", "this token registers orgs only below org xa-a"),
        "takes-a-meeting": ("data.meeting_id", "meeting m-b is of a cell outside org xa-a"),
        "unregistered-cell": (
            "data.cell_id",
            "cell cb-unknown is not registered below org xa-a",
        ),
        "broken": refused["broken"],  # invalid, listed beside the refused ones
    }
    assert [e["index"] for e in problem["errors"]] == [1, 5, 6, 7, 8, 9, 10, 11]
    # Nothing outside the commune moved; everything inside it was stored.
    assert await db.fetchval("select org_id from rules.cells where cell_id = 'cb-b1'") == "cs-b1"
    assert await db.fetchval("select parent_id from rules.orgs where org_id = 'xa-b'") == "tinh"
    assert await db.fetchval("select parent_id from rules.orgs where org_id = 'xa-a'") == "tinh"
    meetings = await db.fetch("select meeting_id, cell_id, retracted from rules.meetings")
    assert sorted(tuple(m) for m in meetings) == [
        ("m-a", "cb-a1", False),
        ("m-a3", "cb-a3", False),
        ("m-b", "cb-b1", False),
    ]
    assert await db.fetchval("select count(*) from rules.events where id = any($1::text[])", [
        "other-communes-cell", "takes-a-cell", "takes-an-org", "moves-itself", "a-root",
        "takes-a-meeting", "unregistered-cell",
    ]) == 0  # fmt: skip


async def test_a_batch_wholly_inside_the_subtree_is_accepted_as_usual(
    rules: AsyncTestClient,
) -> None:
    await _tree(rules)
    batch = [meeting_held("m-a", "cb-a1", id="in-1"), meeting_retracted("m-a", "cb-a1", id="in-2")]
    answer = await rules.post("/events", json=batch, headers=COMMUNE_SOURCE)
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == ["in-1", "in-2"]


async def test_a_cells_source_writes_that_cells_meetings_only(rules: AsyncTestClient) -> None:
    await _tree(rules)
    own = bearer(Role.source, cell="cb-a1")
    batch = [
        meeting_held("m-a", "cb-a1", id="own-meeting"),
        meeting_held("m-x", "cb-b1", id="other-cell"),
        _later(cell_registered("cb-a1", org_id="cs-a1", id="registers-itself")),
        org_registered("cs-a9", "xa-a", id="registers-an-org"),
    ]
    answer = await rules.post("/events", json=batch, headers=own)
    assert answer.status_code == 403
    assert answer.json()["accepted"] == ["own-meeting"]
    refused = {e["id"]: (e["field"], e["message"]) for e in answer.json()["errors"]}
    assert refused == {
        "other-cell": ("data.cell_id", "cell cb-b1 is not registered below cell cb-a1"),
        "registers-itself": ("type", "a token for cell cb-a1 registers no cells"),
        "registers-an-org": ("type", "a token for cell cb-a1 registers no orgs"),
    }


async def test_an_unscoped_source_is_trusted_with_every_org(rules: AsyncTestClient) -> None:
    await _tree(rules)
    trusted = bearer(Role.source)
    batch = [meeting_held("m-x", "cb-b1", id="anywhere"), org_registered("new-root", None)]
    answer = await rules.post("/events", json=batch, headers=trusted)
    assert answer.status_code == 202, answer.text


async def test_an_inspector_writes_for_their_org_s_subtree_only(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await _tree(rules)
    inspector = bearer(Role.inspector, org="xa-a", sub="ubkt-lan")
    batch = [
        cell_registered("cb-a2", org_id="cs-a1", id="c-a2"),  # below xa-a: kept
        meeting_held("m-a2", "cb-a2", id="e-m-a2"),  # of the cell just registered: kept
        meeting_held("m-b2", "cb-b1", id="e-m-b2"),  # beside it: refused
    ]
    answer = await rules.post("/events", json=batch, headers=inspector)
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["accepted"] == ["c-a2", "e-m-a2"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(2, "data.cell_id")]
    assert await db.fetchval("select count(*) from rules.meetings where meeting_id = 'm-b2'") == 0
