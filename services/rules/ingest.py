"""The ingest handler: store a batch of decoded events as facts, each taking effect once."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import msgspec

from services.contracts.events import Event
from services.rules import repository


class IngestReport(msgspec.Struct):
    """Which events took effect now, and which had been received before (redeliveries)."""

    accepted: list[str]
    duplicates: list[str]


async def ingest(pool: asyncpg.Pool, events: Sequence[Event]) -> IngestReport:
    """Store `events` in one transaction; an event id seen before has no further effect."""
    if not events:
        return IngestReport(accepted=[], duplicates=[])
    async with pool.acquire() as conn, conn.transaction():
        new_ids = await repository.insert_new_events(conn, events)
        fresh: list[Event] = []
        duplicates: list[str] = []
        for event in events:
            if event.id in new_ids:
                new_ids.discard(event.id)  # a second copy in the same batch is a redelivery too
                fresh.append(event)
            else:
                duplicates.append(event.id)
        await repository.apply_facts(conn, fresh)
    return IngestReport(accepted=[e.id for e in fresh], duplicates=duplicates)
