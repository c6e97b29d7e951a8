"""The live rules service: findings open and resolve as events arrive and as periods end."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from nats.aio.client import Client
from nats.aio.msg import Msg

from bench.generate import events as synthetic_events
from services.contracts.calendar import VIETNAM
from services.contracts.codec import decode_event
from services.contracts.findings import Finding
from services.contracts.subjects import FINDINGS_STREAM, event_subject
from services.dev.servers import Servers
from services.infra import database
from services.infra.database import TRANSIENT_ERRORS
from services.rules.adapters.files import read_rules
from services.rules.domain.evaluate import evaluate
from services.rules.domain.facts import InMemoryFacts
from services.rules.metrics import Metrics
from services.rules.service.ingest import ingest
from services.rules.service.judging import Judge
from tests.clock import ManualClock
from tests.factories import cell_registered, dumps, meeting_held, meeting_retracted
from tests.integration.conftest import settled
from tests.waiting import eventually

RULES = Path(__file__).resolve().parents[2] / "rules"


async def publish(nc: Client, events: list[dict[str, Any]]) -> None:
    js = nc.jetstream()
    await asyncio.gather(*(js.publish(event_subject(e["type"]), dumps(e)) for e in events))


async def open_findings(client: AsyncTestClient) -> set[tuple[str, str, str]]:
    keys: set[tuple[str, str, str]] = set()
    after = 0
    while True:
        page = (await client.get("/findings", params={"status": "open", "after": after})).json()
        keys |= {(i["finding"]["rule_id"], i["finding"]["cell_id"], i["finding"]["scope"])
                 for i in page["items"]}  # fmt: skip
        if page["next_after"] is None:
            return keys
        after = page["next_after"]


def backtest(events: list[dict[str, Any]], today: datetime) -> set[tuple[str, str, str]]:
    facts = InMemoryFacts()
    facts.apply_all(decode_event(dumps(e)) for e in events)
    found = evaluate(read_rules(RULES).rules, facts, today.astimezone(VIETNAM).date())
    return {f.key for f in found}


async def published(nc: Client) -> list[Msg]:
    js = nc.jetstream()
    info = await js.stream_info(FINDINGS_STREAM)
    count = info.state.messages
    if not count:
        return []
    sub = await js.subscribe("chibo.findings.>", ordered_consumer=True)
    messages = [await sub.next_msg(timeout=10) for _ in range(count)]
    await sub.unsubscribe()
    return messages


async def test_live_findings_equal_a_backtest_of_the_same_shuffled_events(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection, clock: ManualClock
) -> None:
    history = list(synthetic_events(1500, seed=11))
    random.Random(5).shuffle(history)  # corrections before originals, meetings before cells
    await publish(nc, history)
    await settled(nc, db)

    expected = backtest(history, clock.now())
    assert len(expected) > 100, "the data should produce plenty of violations"
    assert await open_findings(rules) == expected
    messages = await published(nc)
    ids = [m.headers["Nats-Msg-Id"] for m in messages if m.headers]
    assert len(ids) == len(set(ids)), "no finding change is published twice"
    opened = {msgspec.json.decode(m.data, type=Finding).key for m in messages}
    assert expected <= opened


async def test_a_correction_resolves_the_finding_it_caused_and_both_changes_are_published(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    await rules.post("/events", json=cell_registered("c-1", established_on="2024-01-01"))
    short = meeting_held("m-1", "c-1", id="e-short", held_at="2025-11-05T19:00:00+07:00",
                         duration_minutes=45, time="2025-11-05T22:00:00+07:00")  # fmt: skip
    await rules.post("/events", json=short)
    page = (await rules.get("/findings", params={"rule_id": "meeting-duration"})).json()
    assert [i["finding"]["status"] for i in page["items"]] == ["open"]

    fixed = meeting_held("m-1", "c-1", id="e-fixed", held_at="2025-11-05T19:00:00+07:00",
                         duration_minutes=95, time="2025-11-06T08:00:00+07:00")  # fmt: skip
    await rules.post("/events", json=fixed)
    await settled(nc, db)

    page = (await rules.get("/findings", params={"rule_id": "meeting-duration"})).json()
    record = page["items"][0]
    assert (record["finding"]["status"], record["revision"]) == ("resolved", 2)
    changes = [
        (m.subject, m.headers["Nats-Msg-Id"])
        for m in await published(nc)
        if m.headers and "meeting-duration" in m.headers["Nats-Msg-Id"]
    ]
    assert changes == [
        ("chibo.findings.opened", "finding:meeting-duration:c-1:meeting/m-1:r1"),
        ("chibo.findings.resolved", "finding:meeting-duration:c-1:meeting/m-1:r2"),
    ]


async def test_a_retraction_can_open_a_finding(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    await rules.post("/events", json=cell_registered("c-1", established_on="2025-10-01"))
    held = meeting_held("m-10", "c-1", held_at="2025-10-20T19:00:00+07:00")
    await rules.post("/events", json=held)
    month = {"rule_id": "regular-meeting-monthly", "scope": "2025-10", "status": "open"}
    assert (await rules.get("/findings", params=month)).json()["items"] == []
    retraction = meeting_retracted("m-10", "c-1", time="2025-12-01T08:00:00+07:00")
    await rules.post("/events", json=retraction)
    assert len((await rules.get("/findings", params=month)).json()["items"]) == 1


async def test_crossing_a_month_end_judges_silent_cells(
    rules: AsyncTestClient, clock: ManualClock, db: asyncpg.Connection
) -> None:
    await rules.post("/events", json=cell_registered("c-quiet", established_on="2025-11-01",
                                                     has_committee=True))  # fmt: skip
    monthly = {"cell_id": "c-quiet", "scope": "2025-12", "status": "open"}
    assert (await rules.get("/findings", params=monthly)).json()["items"] == []

    clock.set(datetime(2026, 1, 1, 0, 0, 1, tzinfo=VIETNAM))

    async def december() -> set[str]:
        items = (await rules.get("/findings", params=monthly)).json()["items"]
        return {i["finding"]["rule_id"] for i in items}

    found = await eventually(december, lambda rules_found: len(rules_found) == 2)
    assert found == {"regular-meeting-monthly", "committee-meeting-monthly"}
    # The pass records its horizon once every cell is judged, just after the findings appear.
    horizon = await eventually(
        lambda: db.fetchval("select horizon::text from rules.evaluation_state"),
        lambda day: day == "2026-01-01",
    )
    assert horizon == "2026-01-01"


async def test_a_gap_becomes_a_finding_the_day_it_passes_45_days(
    rules: AsyncTestClient, clock: ManualClock
) -> None:
    await rules.post("/events", json=cell_registered("c-gap", established_on="2020-01-01"))
    await rules.post(
        "/events", json=meeting_held("m-last", "c-gap", held_at="2025-11-01T19:00:00+07:00")
    )
    gap = {"cell_id": "c-gap", "rule_id": "regular-meeting-gap", "scope": "since/2025-11-02"}
    assert (await rules.get("/findings", params=gap)).json()["items"] == []

    clock.set(clock.now() + timedelta(days=3))  # 2025-12-18: 47 days after 2025-11-01

    async def gaps() -> list[Any]:
        return list((await rules.get("/findings", params=gap)).json()["items"])

    items = await eventually(gaps, lambda found: len(found) == 1)
    assert items[0]["finding"]["status"] == "open"
    assert items[0]["finding"]["observed"] == 47


async def test_a_meeting_moved_to_another_cell_is_judged_again_on_both(
    rules: AsyncTestClient,
) -> None:
    await rules.post("/events", json=cell_registered("c-a", established_on="2025-01-01"))
    await rules.post("/events", json=cell_registered("c-b", established_on="2025-01-01"))
    wrong = meeting_held("m-x", "c-a", held_at="2025-11-05T19:00:00+07:00", duration_minutes=30,
                         time="2025-11-05T21:00:00+07:00")  # fmt: skip
    await rules.post("/events", json=wrong)
    short = {"rule_id": "meeting-duration", "scope": "meeting/m-x", "status": "open"}
    before = (await rules.get("/findings", params=short)).json()["items"]
    assert [i["finding"]["cell_id"] for i in before] == ["c-a"]

    moved = meeting_held("m-x", "c-b", held_at="2025-11-05T19:00:00+07:00", duration_minutes=30,
                         time="2025-11-06T08:00:00+07:00")  # fmt: skip
    await rules.post("/events", json=moved)
    after = (await rules.get("/findings", params=short)).json()["items"]
    assert [i["finding"]["cell_id"] for i in after] == ["c-b"]
    november = {"rule_id": "regular-meeting-monthly", "scope": "2025-11", "status": "open"}
    left = (await rules.get("/findings", params=november)).json()["items"]
    assert [i["finding"]["cell_id"] for i in left] == ["c-a"]


async def _one_connection(url: str) -> tuple[asyncpg.Pool, int]:
    """A pool of one connection, as a replica of the service, and that connection's pid."""
    pool = await database.create_pool(url, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        return pool, conn.get_server_pid()


async def _waiting_for_findings(db: asyncpg.Connection, pid: int) -> None:
    """Wait until backend `pid` waits for a lock on the findings table."""
    waiting = (
        "select exists (select from pg_locks where pid = $1 and not granted"
        " and relation = 'rules.findings'::regclass)"
    )
    await eventually(lambda: db.fetchval(waiting, pid), bool)


async def _waiting_for_a_row(db: asyncpg.Connection, pid: int) -> None:
    """Wait until backend `pid` waits for another transaction to end (a row it writes)."""
    waiting = (
        "select exists (select from pg_locks where pid = $1 and not granted"
        " and locktype = 'transactionid')"
    )
    await eventually(lambda: db.fetchval(waiting, pid), bool)


async def test_a_move_stored_while_the_original_commits_elsewhere_judges_the_cell_left(
    rules: AsyncTestClient, db: asyncpg.Connection, servers: Servers, clock: ManualClock
) -> None:
    """Two replicas: one stores a meeting in c-a, the other its correction to c-b, whose upsert
    waits on the first one's uncommitted row. The cell left must still be judged again."""
    await rules.post("/events", json=cell_registered("c-a", established_on="2025-01-01"))
    await rules.post("/events", json=cell_registered("c-b", established_on="2025-01-01"))
    held = {"held_at": "2025-11-05T19:00:00+07:00", "duration_minutes": 30}
    wrong = meeting_held("m-x", "c-a", time="2025-11-05T21:00:00+07:00", **held)
    moved = meeting_held("m-x", "c-b", time="2025-11-06T08:00:00+07:00", **held)
    # The replicas: this test's own pools and judge beside the running service.
    (first_pool, first_pid), (second_pool, second_pid) = [
        await _one_connection(servers.database_url) for _ in range(2)
    ]
    judge = Judge(read_rules(RULES), clock, lambda: None, Metrics())
    async with db.transaction():
        # Holds the first replica just before it commits: its findings wait on this lock.
        await db.execute("lock table rules.findings in share mode")
        first = asyncio.create_task(ingest(first_pool, judge, [decode_event(dumps(wrong))], "nats"))
        await _waiting_for_findings(db, first_pid)
        # The second one's upsert waits for the first one's row.
        moved_event = decode_event(dumps(moved))
        second = asyncio.create_task(ingest(second_pool, judge, [moved_event], "nats"))
        await _waiting_for_a_row(db, second_pid)
    await asyncio.gather(first, second)
    await asyncio.gather(first_pool.close(), second_pool.close())

    short = {"rule_id": "meeting-duration", "scope": "meeting/m-x", "status": "open"}
    items = (await rules.get("/findings", params=short)).json()["items"]
    assert [i["finding"]["cell_id"] for i in items] == ["c-b"]
    november = {"rule_id": "regular-meeting-monthly", "scope": "2025-11", "status": "open"}
    left = (await rules.get("/findings", params=november)).json()["items"]
    assert [i["finding"]["cell_id"] for i in left] == ["c-a"]


async def test_a_batch_whose_transaction_fails_leaves_nothing_in_the_meeting_memo(
    rules: AsyncTestClient, db: asyncpg.Connection, servers: Servers, clock: ManualClock
) -> None:
    await rules.post("/events", json=cell_registered("c-a", established_on="2025-01-01"))
    pool, pid = await _one_connection(servers.database_url)
    judge = Judge(read_rules(RULES), clock, lambda: None, Metrics())
    meeting = decode_event(dumps(meeting_held("m-x", "c-a", held_at="2025-11-05T19:00:00+07:00")))
    async with db.transaction():
        await db.execute("lock table rules.findings in share mode")
        storing = asyncio.create_task(ingest(pool, judge, [meeting], "nats"))
        await _waiting_for_findings(db, pid)
        assert len(judge.meetings) == 1  # the meeting it stores, kept to be judged
        # The database goes away in the middle of the batch: nothing of it was stored.
        await db.execute("select pg_terminate_backend($1)", pid)
        failed = await asyncio.gather(storing, return_exceptions=True)
    await pool.close()

    assert isinstance(failed[0], TRANSIENT_ERRORS), failed  # the batch is retried
    assert len(judge.meetings) == 0
    assert await db.fetchval("select count(*) from rules.meetings") == 0


async def test_after_every_single_event_live_findings_equal_a_backtest_of_those_so_far(
    rules: AsyncTestClient, clock: ManualClock
) -> None:
    # Each event is judged over the years it touches only; after each one the open findings
    # must still be what judging everything again gives. The history is built to cross years.
    at = iter(f"2025-12-0{d}T08:00:00+07:00" for d in range(1, 10))
    first = "2025-11-01T08:00:00+07:00"

    def held(meeting_id: str, day: str, **kw: Any) -> dict[str, Any]:
        return meeting_held(meeting_id, "c-y", held_at=f"{day}T19:00:00+07:00", time=first, **kw)

    history = [
        cell_registered("c-y", established_on="2023-01-01", id="reg", time=first),
        held("m-a", "2023-11-20", id="a"),
        held("m-b", "2024-03-10", id="b"),  # a gap from 2023-11-21 across the new year
        held("m-c", "2024-01-01", id="c"),  # cuts it on New Year's day
        meeting_held("m-c", "c-y", held_at="2024-06-01T19:00:00+07:00", time=next(at), id="c2"),
        meeting_held("m-b", "c-y", held_at="2024-03-10T19:00:00+07:00", kind="thematic",
                     topic_groups=[3, 4, 5], time=next(at), id="b2"),  # no longer regular
        meeting_retracted("m-a", "c-y", time=next(at), id="a-x"),
        held("m-d", "2025-02-03T00:30:00+07:00"[:10], id="d"),
        meeting_held("m-d", "c-y", held_at="2024-12-31T17:30:00-05:00", time=next(at), id="d2"),
    ]  # fmt: skip
    for count, event in enumerate(history, start=1):
        assert (await rules.post("/events", json=event)).status_code == 202
        expected = backtest(history[:count], clock.now())
        assert await open_findings(rules) == expected, f"after event {event['id']}"


async def test_a_meeting_on_31_december_opens_and_closes_the_gap_of_the_next_year(
    rules: AsyncTestClient, clock: ManualClock
) -> None:
    # The meeting of 31 December bounds the gap `since/<next year>-01-01`: adding it opens that
    # gap, retracting it must resolve the gap again, though both lie in another year.
    first, later = "2026-01-05T08:00:00+07:00", "2026-01-06T08:00:00+07:00"
    history = [
        cell_registered("c-31", established_on="2023-12-31", id="r31", time=first),
        meeting_held("m-31", "c-31", held_at="2024-12-31T05:00:00+07:00", id="h31", time=first),
        meeting_held("m-30", "c-31", held_at="2024-12-30T23:30:00-05:00", id="h30", time=first),
        meeting_retracted("m-31", "c-31", id="x31", time=later),
        meeting_retracted("m-30", "c-31", id="x30", time=later),
    ]
    for count, event in enumerate(history, start=1):
        assert (await rules.post("/events", json=event)).status_code == 202
        expected = backtest(history[:count], clock.now())
        assert await open_findings(rules) == expected, f"after event {event['id']}"
