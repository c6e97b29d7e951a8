"""What a sender should hear of although the events were stored: a cell or org not
registered, an id received again with other content (kept as first received, reported on HTTP,
dead-lettered on NATS, counted), a correction older than the record in force."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from services.contracts.subjects import DLQ_EVENTS, event_subject
from tests.factories import cell_registered, dumps, meeting_held, org_registered
from tests.integration.conftest import consumer_idle, dead_letters
from tests.tokens import bearer


def codes(answer: Any) -> list[tuple[int, str, str]]:
    return [(w["index"], w["id"], w["code"]) for w in answer.json()["warnings"]]


async def test_events_naming_what_is_not_registered_are_kept_with_a_warning_and_listed(
    rules: AsyncTestClient,
) -> None:
    events = [
        meeting_held("m-o1", "cb-ghost", held_at="2025-02-10T19:00:00+07:00", id="e-1"),
        meeting_held("m-o2", "cb-ghost", held_at="2025-05-10T19:00:00+07:00", id="e-2"),
        cell_registered("cb-stray", org_id="xa-nowhere", id="e-3"),
        org_registered("xa-child", "tinh-unknown", id="e-4"),
    ]
    answer = await rules.post("/events", json=events)
    assert answer.status_code == 202
    assert codes(answer) == [
        (0, "e-1", "unknown_cell"),
        (1, "e-2", "unknown_cell"),
        (2, "e-3", "unknown_org"),
        (3, "e-4", "unknown_parent"),
    ]
    first = answer.json()["warnings"][0]
    assert first["field"] == "$.data.cell_id"
    assert first["message"]["vi"].startswith("Chi bộ `cb-ghost` chưa được đăng ký")
    assert answer.json()["accepted"] == ["e-1", "e-2", "e-3", "e-4"]

    pending = (await rules.get("/cells/pending")).json()
    assert pending["unregistered"] == [
        {"cell_id": "cb-ghost", "meetings": 2, "first_held_on": "2025-02-10",
         "last_held_on": "2025-05-10"},
    ]  # fmt: skip
    assert pending["without_org"] == [
        {"cell_id": "cb-stray", "name": "Chi bộ cb-stray", "org_id": "xa-nowhere"}
    ]
    secretary = bearer(Role.secretary, cell="cb-stray")
    assert (await rules.get("/cells/pending", headers=secretary)).status_code == 403

    # Registered now: nothing is pending, and the meetings are judged.
    late = [
        org_registered("xa-nowhere", None, id="e-5"),
        cell_registered("cb-ghost", org_id="xa-nowhere", id="e-6"),
    ]
    assert codes(await rules.post("/events", json=late)) == []
    assert (await rules.get("/cells/pending")).json() == {"unregistered": [], "without_org": []}


async def test_an_id_received_again_with_other_content_is_kept_as_first_and_reported(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    first = meeting_held("m-d", "cb-d", duration_minutes=120, id="e-dup")
    assert (await rules.post("/events", json=first)).status_code == 202
    again = await rules.post("/events", json=first)  # a redelivery: silent
    assert (again.json()["duplicates"], again.json()["warnings"]) == (["e-dup"], [])

    other = meeting_held("m-d", "cb-d", duration_minutes=30, id="e-dup")
    answer = await rules.post("/events", json=[other])
    assert answer.status_code == 202
    assert codes(answer) == [(0, "e-dup", "conflicting_duplicate")]
    assert "giữ bản nhận trước" in answer.json()["warnings"][0]["message"]["vi"]
    kept = await db.fetchval("select duration_minutes from rules.meetings where meeting_id = 'm-d'")
    assert kept == 120
    metrics = (await rules.get("/metrics")).text
    assert 'chibo_events_conflicting_total{path="http"} 1.0' in metrics


async def test_a_correction_older_than_the_record_in_force_is_history_and_says_so(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    newer = meeting_held("m-c", "cb-c", duration_minutes=90, id="e-new",
                         time="2025-03-02T08:00:00+07:00")  # fmt: skip
    older = meeting_held("m-c", "cb-c", duration_minutes=60, id="e-old",
                         time="2025-03-01T08:00:00+07:00")  # fmt: skip
    assert codes(await rules.post("/events", json=newer)) == [(0, "e-new", "unknown_cell")]
    answer = await rules.post("/events", json=older)
    assert answer.json()["accepted"] == ["e-old"]
    warned = {w["code"]: w for w in answer.json()["warnings"]}
    assert "`e-new`" in warned["not_in_force"]["message"]["en"]
    assert await db.fetchval("select event_id from rules.meetings where meeting_id = 'm-c'") == (
        "e-new"
    )


async def test_on_nats_an_id_with_other_content_is_dead_lettered_with_why(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    dead = await dead_letters(nc, DLQ_EVENTS)
    js = nc.jetstream()
    subject = event_subject("meeting.held")
    await js.publish(subject, dumps(meeting_held("m-n", "cb-n", duration_minutes=120, id="e-n")))
    await js.publish(subject, dumps(meeting_held("m-n", "cb-n", duration_minutes=120, id="e-n")))
    changed = meeting_held("m-n", "cb-n", duration_minutes=45, id="e-n")
    await js.publish(subject, dumps(changed))
    await consumer_idle(nc)
    parked = await asyncio.wait_for(dead.get(), 10)
    assert parked.headers is not None
    assert parked.headers["Chibo-Field"] == "$.id"
    assert "received before with other content" in parked.headers["Chibo-Reason"]
    assert b'"duration_minutes": 45' in parked.data  # the copy as it came
    assert dead.empty()  # the plain redelivery is no dead letter
    assert (
        await db.fetchval("select duration_minutes from rules.meetings where meeting_id = 'm-n'")
        == 120
    )
