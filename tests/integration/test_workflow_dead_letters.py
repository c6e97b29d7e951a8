"""Findings the workflow service can never take are parked with the reason; the rest go on."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.subjects import DLQ_WORKFLOW, FINDINGS_STREAM, findings_subject
from tests.integration.conftest import consumer_idle, dead_letters
from tests.integration.test_workflow_policy import finding, send
from tests.waiting import eventually


async def test_a_poison_finding_is_dead_lettered_and_the_consumer_keeps_going(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    dead = await dead_letters(nc, DLQ_WORKFLOW)
    js = nc.jetstream()
    subject = findings_subject("open")
    wrong_type = msgspec.to_builtins(finding(1)) | {"revision": "two"}
    # Decodes, but PostgreSQL refuses a NUL in text: a database error that no retry can cure.
    refused = msgspec.structs.replace(finding(2), scope="2025-02\x00")
    await js.publish(subject, b"{not json")
    await js.publish(subject, msgspec.json.encode(wrong_type))
    await send(nc, refused)
    await send(nc, finding(3))

    parked = [await asyncio.wait_for(dead.get(), 10) for _ in range(3)]
    assert parked[0].data == b"{not json"
    assert [m.headers["Chibo-Field"] for m in parked] == ["$", "$.revision", "$"]
    assert "Expected `int`, got `str`" in parked[1].headers["Chibo-Reason"]
    assert "0x00" in parked[2].headers["Chibo-Reason"]
    assert {m.headers["Chibo-Original-Subject"] for m in parked} == {subject}
    stored = await eventually(
        lambda: db.fetch("select scope from workflow.findings"), lambda rows: len(rows) == 1
    )
    assert [row["scope"] for row in stored] == ["2025-03"]
    # Terminated, not left to be redelivered forever.
    await consumer_idle(nc, "workflow-findings", FINDINGS_STREAM)


async def test_a_finding_with_a_field_this_version_does_not_know_is_taken(
    workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    # A newer rules service adds defaulted fields; an older workflow replica ignores them.
    newer = msgspec.to_builtins(finding(1)) | {"explanation": {"vi": "…", "en": "…"}}
    await nc.jetstream().publish(findings_subject("open"), msgspec.json.encode(newer))
    stored = await eventually(
        lambda: db.fetch("select scope, status from workflow.findings"), lambda rows: rows
    )
    assert [(r["scope"], r["status"]) for r in stored] == [("2025-01", "open")]
    await consumer_idle(nc, "workflow-findings", FINDINGS_STREAM)
