"""Ingestion into the rules service over HTTP and NATS, against real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.subjects import DLQ_EVENTS, event_subject
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from tests.clock import ManualClock
from tests.factories import cell_registered, dumps, meeting_held, meeting_retracted, org_registered
from tests.integration.conftest import consumer_idle, dead_letters
from tests.tokens import ADMIN
from tests.waiting import eventually

EARLY, LATE = "2024-03-06T09:00:00+07:00", "2024-03-07T09:00:00+07:00"


async def publish(nc: Client, *events: dict[str, Any]) -> None:
    js = nc.jetstream()
    for event in events:
        await js.publish(event_subject(event["type"]), dumps(event))


async def meeting(db: asyncpg.Connection, meeting_id: str = "m-1") -> asyncpg.Record:
    row = await db.fetchrow("select * from rules.meetings where meeting_id = $1", meeting_id)
    assert row is not None, f"meeting {meeting_id} not stored"
    return row


def told(answer: Any) -> dict[str, Any]:
    """What an ingest answer says was accepted and what was received before."""
    body = answer.json()
    return {"accepted": body["accepted"], "duplicates": body["duplicates"]}


async def test_an_event_redelivered_over_http_and_nats_takes_effect_once(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    event = meeting_held(id="evt-once")
    first = await rules.post("/events", content=dumps(event))
    again = await rules.post("/events", content=dumps(event))
    await publish(nc, event, event)
    await consumer_idle(nc)

    assert first.status_code == 202
    assert told(first) == {"accepted": ["evt-once"], "duplicates": []}
    assert told(again) == {"accepted": [], "duplicates": ["evt-once"]}
    # The cell is not registered: the first answer warns of it, the redelivery says nothing.
    assert [w["code"] for w in first.json()["warnings"]] == ["unknown_cell"]
    assert again.json()["warnings"] == []
    assert await db.fetchval("select count(*) from rules.events") == 1
    assert await db.fetchval("select count(*) from rules.meetings") == 1


async def test_the_same_event_twice_in_one_batch_is_one_event(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    event = meeting_held(id="evt-twice")
    response = await rules.post("/events", json=[event, event])
    assert told(response) == {"accepted": ["evt-twice"], "duplicates": ["evt-twice"]}
    assert [w["code"] for w in response.json()["warnings"]] == ["unknown_cell"]  # once
    assert await db.fetchval("select count(*) from rules.events") == 1


async def test_a_correction_that_arrives_before_the_record_it_corrects_still_wins(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    correction = meeting_held(id="evt-fix", time=LATE, duration_minutes=95)
    original = meeting_held(id="evt-orig", time=EARLY, duration_minutes=60)
    await publish(nc, correction, original)
    await consumer_idle(nc)

    row = await meeting(db)
    assert (row["duration_minutes"], row["event_id"]) == (95, "evt-fix")
    assert await db.fetchval("select count(*) from rules.events") == 2  # history is kept


async def test_a_stale_correction_loses(rules: AsyncTestClient, db: asyncpg.Connection) -> None:
    await rules.post("/events", json=meeting_held(id="evt-new", time=LATE, members_present=9))
    await rules.post("/events", json=meeting_held(id="evt-old", time=EARLY, members_present=5))
    assert (await meeting(db))["members_present"] == 9


async def test_records_with_the_same_time_are_ordered_by_event_id_in_any_arrival_order(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    # A batch holding both, and then each order separately, all end on the larger id.
    b = meeting_held("m-b", id="evt-B", time=EARLY, duration_minutes=100)
    a = meeting_held("m-b", id="evt-a", time=EARLY, duration_minutes=50)
    await rules.post("/events", json=[a, b])
    c = meeting_held("m-c", id="evt-B2", time=EARLY, duration_minutes=100)
    d = meeting_held("m-c", id="evt-a2", time=EARLY, duration_minutes=50)
    await rules.post("/events", json=d)
    await rules.post("/events", json=c)
    assert (await meeting(db, "m-b"))["duration_minutes"] == 50  # "a" > "B" byte-wise
    assert (await meeting(db, "m-c"))["duration_minutes"] == 50


@pytest.mark.parametrize(
    ("held_at", "retracted_at", "arrival", "retracted"),
    [
        (EARLY, LATE, "held first", True),
        (EARLY, LATE, "retraction first", True),  # arriving first still removes the older one
        (LATE, EARLY, "retraction first", False),  # recorded again after its retraction
    ],
)
async def test_the_later_of_a_meeting_and_its_retraction_wins_whatever_the_arrival_order(
    rules: AsyncTestClient,
    db: asyncpg.Connection,
    held_at: str,
    retracted_at: str,
    arrival: str,
    retracted: bool,
) -> None:
    held = meeting_held(id="evt-held", time=held_at)
    retraction = meeting_retracted(id="evt-retract", time=retracted_at)
    for event in [held, retraction] if arrival == "held first" else [retraction, held]:
        await rules.post("/events", json=event)
    row = await meeting(db)
    assert row["retracted"] is retracted
    assert (row["held_at"] is None) is retracted


async def test_a_batch_with_one_bad_event_stores_the_good_ones_and_names_the_bad_field(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    good, later_good = meeting_held("m-1", id="evt-1"), meeting_held("m-2", id="evt-3")
    bad = meeting_held("m-bad", id="evt-2", duration_minutes=0)
    response = await rules.post("/events", json=[good, bad, later_good])

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["accepted"] == ["evt-1", "evt-3"]
    assert problem["errors"] == [
        {
            "index": 1,
            "id": "evt-2",
            "field": "$.data.duration_minutes",
            "message": "Expected `int` >= 1",
        }
    ]
    stored = await db.fetch("select meeting_id from rules.meetings order by 1")
    assert [r["meeting_id"] for r in stored] == ["m-1", "m-2"]


async def test_an_event_too_large_for_nats_is_refused_and_the_others_stored(
    rules_settings: RulesSettings, clock: ManualClock, clean: None, db: asyncpg.Connection
) -> None:
    # Every event is published on NATS too: one larger than a NATS message would stay in the
    # outbox for good, and hold back every message after it.
    settings = msgspec.structs.replace(rules_settings, max_body_bytes=8 * 1024 * 1024)
    absent = [{"member_id": f"dv-{n:06d}", "excused": True} for n in range(30_000)]
    huge = meeting_held("m-huge", id="evt-huge", members_total=40_000, members_present=9_999,
                        absences=absent)  # fmt: skip
    small = meeting_held("m-1", id="evt-small")
    async with AsyncTestClient(app=create_rules_app(settings, clock)) as client:
        client.headers.update(ADMIN)
        response = await client.post("/events", json=[huge, small])
        assert response.status_code == 422
        problem = response.json()
        assert problem["accepted"] == ["evt-small"]
        [error] = problem["errors"]
        assert (error["index"], error["id"], error["field"]) == (0, "evt-huge", "$")
        assert "NATS carries events of up to" in error["message"]
        # The relay is not stuck: the small event's copy for NATS is published.
        await eventually(lambda: db.fetchval("select count(*) from rules.outbox"), lambda n: n == 0)


async def test_a_body_that_is_not_json_is_a_bad_request(rules: AsyncTestClient) -> None:
    response = await rules.post("/events", content=b"[{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


async def test_a_batch_over_the_limit_is_refused_whole(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    response = await rules.post("/events", json=[meeting_held(f"m-{i}") for i in range(6)])
    assert response.status_code == 413
    assert "limit is 5" in response.json()["detail"]
    assert await db.fetchval("select count(*) from rules.events") == 0


async def test_a_body_over_the_byte_limit_is_refused(rules: AsyncTestClient) -> None:
    response = await rules.post("/events", content=b" " * (65 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_malformed_nats_message_is_dead_lettered_and_the_consumer_keeps_going(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    dead = await dead_letters(nc, DLQ_EVENTS)
    js = nc.jetstream()
    misrouted = meeting_held("m-2", id="evt-misrouted")
    await js.publish("chibo.events.meeting.held", b"{not json")
    await js.publish("chibo.events.cell.registered", dumps(misrouted))
    await js.publish("chibo.events.meeting.held", dumps(meeting_held(duration_minutes=2000)))
    await publish(nc, meeting_held("m-1", id="evt-good"))
    await consumer_idle(nc)

    parked = [await asyncio.wait_for(dead.get(), 10) for _ in range(3)]
    assert parked[0].data == b"{not json"
    reasons = {m.headers["Chibo-Field"]: m.headers["Chibo-Reason"] for m in parked}
    assert reasons.keys() == {"$", "$.type", "$.data.duration_minutes"}
    assert "not valid JSON" in reasons["$"]
    assert parked[1].headers["Chibo-Original-Subject"] == "chibo.events.cell.registered"
    assert await db.fetchval("select array_agg(id) from rules.events") == ["evt-good"]


async def test_cells_and_orgs_keep_their_latest_registration(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await rules.post(
        "/events",
        json=[
            org_registered("xa-1", id="o-late", time=LATE, parent_id="huyen-1"),
            org_registered("xa-1", id="o-early", time=EARLY, parent_id=None),
            cell_registered("c-1", id="c-early", time=EARLY, has_committee=False),
            cell_registered("c-1", id="c-late", time=LATE, has_committee=True),
        ],
    )
    await rules.post(
        "/events", json=cell_registered("c-1", id="c-stale", time=EARLY, cell_type="urban")
    )
    org = await db.fetchrow("select * from rules.orgs where org_id = 'xa-1'")
    cell = await db.fetchrow("select * from rules.cells where cell_id = 'c-1'")
    assert org is not None
    assert org["parent_id"] == "huyen-1"
    assert cell is not None
    assert (cell["has_committee"], cell["cell_type"]) == (True, "rural")


async def test_a_meeting_for_a_cell_not_registered_yet_is_kept(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await rules.post("/events", json=meeting_held("m-9", cell_id="c-new"))
    assert (await meeting(db, "m-9"))["cell_id"] == "c-new"
    await rules.post("/events", json=cell_registered("c-new"))
    assert await db.fetchval("select count(*) from rules.cells") == 1


async def test_the_stored_envelope_is_the_event_as_received(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    event = meeting_held(id="evt-raw", held_at="2024-03-31T20:00:00-05:00")
    await rules.post("/events", json=event)
    stored = json.loads(await db.fetchval("select envelope from rules.events"))
    assert stored["data"]["held_at"] == "2024-03-31T20:00:00-05:00"
    assert stored["type"] == "meeting.held"


async def test_an_event_from_nats_is_stored_byte_for_byte_as_published(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    event = meeting_held(id="evt-as-sent", held_at="2024-03-31T20:00:00-05:00")
    sent = json.dumps(event, indent=1, ensure_ascii=False)  # not how Chibo would encode it
    await nc.jetstream().publish(event_subject("meeting.held"), sent.encode())
    await consumer_idle(nc)
    assert await db.fetchval("select envelope::text from rules.events") == sent
    assert (await meeting(db))["held_at"].isoformat() == "2024-04-01T01:00:00+00:00"


async def test_both_services_are_live_and_ready(
    rules: AsyncTestClient, workflow: AsyncTestClient
) -> None:
    for client in (rules, workflow):
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")


async def test_migrations_apply_once_however_often_the_service_starts(
    rules_settings: Any, db: asyncpg.Connection
) -> None:
    from services.rules.app import create_app

    for _ in range(2):
        async with AsyncTestClient(app=create_app(rules_settings)):
            pass
    names = await db.fetch("select name from rules.schema_migrations order by name")
    own = [f.name for f in resources.files("services.rules.migrations").iterdir()]
    shared = [f"infra/{f.name}" for f in resources.files("services.infra.migrations").iterdir()]
    shipped = sorted(name for name in own + shared if name.endswith(".sql"))
    assert [r["name"] for r in names] == shipped
