"""The rules service killed in the middle of a stream loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from nats.aio.client import Client

from bench.generate import events as synthetic_events
from services.contracts.calendar import VIETNAM
from services.contracts.codec import decode_event
from services.contracts.subjects import FINDINGS_STREAM, event_subject
from services.rules.adapters.files import read_rules
from services.rules.domain.evaluate import evaluate
from services.rules.domain.facts import InMemoryFacts
from tests.e2e.conftest import ServiceProcess
from tests.factories import dumps
from tests.waiting import eventually

RULES = Path(__file__).resolve().parents[2] / "rules"


async def ready(service: ServiceProcess) -> None:
    async def status() -> int:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(service.url + "/ready")).status_code
        except httpx.TransportError:
            return 0

    await eventually(status, lambda code: code == 200, within=30)


async def count(db: asyncpg.Connection, sql: str) -> int:
    return int(await db.fetchval(sql))


async def published_ids(nc: Client) -> list[str]:
    js = nc.jetstream()
    total = (await js.stream_info(FINDINGS_STREAM)).state.messages
    sub = await js.subscribe("chibo.findings.>", ordered_consumer=True)
    ids = []
    for _ in range(total):
        msg = await sub.next_msg(timeout=10)
        assert msg.headers is not None
        ids.append(msg.headers["Nats-Msg-Id"])
    await sub.unsubscribe()
    return ids


async def test_a_service_killed_mid_stream_loses_nothing_and_publishes_each_change_once(
    rules_process: ServiceProcess, nc: Client, db: asyncpg.Connection
) -> None:
    history = list(synthetic_events(3000, seed=3))
    random.Random(9).shuffle(history)
    unique = len({e["id"] for e in history})
    rules_process.start()
    await ready(rules_process)
    js = nc.jetstream()
    publishing = asyncio.gather(*(js.publish(event_subject(e["type"]), dumps(e)) for e in history))

    # Kill it once part of the stream is stored, while the rest is still arriving.
    await eventually(lambda: count(db, "select count(*) from rules.events"), lambda n: n >= 300)
    rules_process.kill()
    stored_at_kill = await count(db, "select count(*) from rules.events")
    await publishing
    for event in history[:200]:  # a source retrying what it sent before the crash
        await js.publish(event_subject(event["type"]), dumps(event))

    rules_process.start()
    await ready(rules_process)
    total = "select count(*) from rules.events"
    await eventually(lambda: count(db, total), lambda n: n == unique, within=90)
    await eventually(lambda: count(db, "select count(*) from rules.outbox"), lambda n: n == 0)

    assert stored_at_kill < unique, "the kill came too late to test anything"
    facts = InMemoryFacts()
    facts.apply_all(decode_event(dumps(e)) for e in history)
    today = datetime.now(VIETNAM).date()
    expected = {f.key for f in evaluate(read_rules(RULES).rules, facts, today)}
    rows = await db.fetch("select rule_id, cell_id, scope, revision, status from rules.findings")
    assert {(r[0], r[1], r[2]) for r in rows if r["status"] == "open"} == expected
    ids = await published_ids(nc)
    assert len(ids) == len(set(ids)), "a finding change was published twice"
    latest = {f"finding:{r[0]}:{r[1]}:{r[2]}:r{r['revision']}" for r in rows}
    assert latest <= set(ids), "a finding change was never published"
    assert rules_process.stop()


async def test_a_stopped_service_shuts_down_cleanly(
    rules_process: ServiceProcess, nc: Client
) -> None:
    rules_process.start()
    await ready(rules_process)
    assert rules_process.stop()
