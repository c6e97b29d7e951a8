"""The live service and `--db` backtests read the same stored facts by two code paths:
`repository.load_cells` decodes the winning events' envelopes, `repository.DatabaseFacts` reads
`rules.meetings` columns as JSON. Findings agree only if both give identical `CellFacts`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest

from services.contracts.events import Event, MeetingHeldEvent
from services.dev.servers import Servers
from services.infra import database
from services.rules.adapters.repository import (
    CELLS,
    ENVELOPES,
    DatabaseFacts,
    MeetingMemo,
    load_cells,
)
from services.rules.domain.facts import meeting_fact
from tests.builders import cell, meeting, retraction
from tests.integration.test_backtest_db import store_history

EARLY, LATE, LATER = "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", "2024-08-01T00:00:00Z"
ABSENT = [
    {"member_id": "p3", "excused": False},
    {"member_id": "p1", "excused": True},
    {"member_id": "p2", "excused": False},
]


def _history() -> list[list[Event]]:
    """Delivery batches with the awkward cases of the contract for both readers."""
    first = [
        cell("c1", cell_type="agency", has_committee=True),
        cell("c2", established_on="2024-02-15", dissolved_on="2024-05-20"),
        # Offsets far from Vietnam's, around month and year ends: 31 Jan at UTC-11:00 is
        # 1 Feb in Vietnam; 1 Mar 05:00 at UTC+14:00 is 29 Feb; 31 Dec 2023 at -05:00 is 2024.
        meeting("m-offset-west", "c1", "2024-01-31T20:30:00-11:00", absences=ABSENT),
        meeting("m-offset-east", "c1", "2024-03-01T05:00:00+14:00", topic_groups=[4, 1, 3]),
        meeting("m-new-year", "c1", "2023-12-31T23:59:59.250-05:00", kind="thematic"),
        meeting("m-utc", "c1", "2024-04-30T17:00:00Z", includes_thematic=True),
        # The same instant twice: ties are ordered by meeting id, code point by code point.
        meeting("m-B", "c1", "2024-05-10T08:00:00+07:00"),
        meeting("m-a", "c1", "2024-05-10T01:00:00Z", members_present=6, criticism_held=False),
        meeting("m-moved", "c1", "2024-03-10T08:00:00+07:00"),
        meeting("m-retracted", "c1", "2024-03-12T08:00:00+07:00"),
        meeting("m-kept", "c2", "2024-04-05T08:00:00+07:00", hcm_study=False),
        meeting("m-pending", "ghost", "2024-04-05T08:00:00+07:00"),  # a cell never registered
    ]
    second = [
        # A correction that moves a meeting to another cell, and one arriving before its
        # original (the original, older, must not win).
        meeting("m-moved", "c2", "2024-03-11T08:00:00+07:00", time=LATE, duration_minutes=90),
        meeting("m-early-fix", "c2", "2024-04-20T08:00:00+07:00", time=LATE, kind="committee"),
        meeting("m-early-fix", "c2", "2024-04-19T08:00:00+07:00", time=EARLY),
        retraction("m-retracted", "c1", time=LATE),
        retraction("m-kept", "c2", time="2019-01-01T00:00:00Z"),  # older: removes nothing
        meeting("m-to-ghost", "c1", "2024-06-01T08:00:00+07:00"),
        cell("late", cell_type="urban"),  # registers after its meetings
        meeting("m-late", "late", "2024-02-29T23:59:00+07:00", members_total=3),
    ]
    third = [
        meeting("m-to-ghost", "ghost", "2024-06-01T08:00:00+07:00", time=LATER),
        meeting("m-moved", "c2", "2024-03-11T08:00:00+07:00", time=EARLY),  # stale: ignored
        cell("c2", cell_type="urban", established_on="2024-02-15", time=LATE),  # a correction
    ]
    return [first, second, third]


@pytest.fixture
def history() -> list[list[Event]]:
    """The delivery batches of one test (event ids are numbered afresh each time)."""
    return _history()


@pytest.fixture
async def url(servers: Servers, clean: None, history: list[list[Event]]) -> str:
    """A database that stored the history through the ingest path."""
    await store_history(servers.database_url, history)
    return servers.database_url


def _read_stored(url: str) -> tuple[list[Any], list[Any]]:
    with DatabaseFacts(url, chunk_cells=2) as stored:
        every = [msgspec.to_builtins(facts) for facts in stored.cells()]
        one_by_one = [msgspec.to_builtins(stored.cell(facts["cell"]["cell_id"])) for facts in every]
    return every, one_by_one


async def test_live_and_backtest_readers_give_identical_cell_facts(
    url: str, history: list[list[Event]]
) -> None:
    conn = await database.create_pool(url, min_size=1, max_size=1)
    try:
        async with conn.acquire() as c:
            ids = [r["cell_id"] for r in await c.fetch("select cell_id from rules.cells")]
            memo = MeetingMemo()
            live = [msgspec.to_builtins(f) for f in await load_cells(c, ids, memo)]
            # Read again, the meetings come from the memo alone, and are the same.
            without_envelopes = c.transaction()
            await without_envelopes.start()
            await c.execute("delete from rules.events")
            again = [msgspec.to_builtins(f) for f in await load_cells(c, ids, memo)]
            # Kept as ingest keeps them, from the events as received: the same facts again.
            received = MeetingMemo()
            for event in (e for batch in history for e in batch):
                if isinstance(event, MeetingHeldEvent):
                    received.put(event.id, meeting_fact(event.data))
            kept = [msgspec.to_builtins(f) for f in await load_cells(c, ids, received)]
            await without_envelopes.rollback()
    finally:
        await conn.close()
    every, one_by_one = await asyncio.to_thread(_read_stored, url)

    assert again == live
    assert kept == live
    assert len(memo) == sum(len(facts["meetings"]) for facts in live)
    by_id = {facts["cell"]["cell_id"]: facts for facts in live}
    assert sorted(by_id) == ["c1", "c2", "late"]  # the pending cell is in neither
    assert [facts["cell"]["cell_id"] for facts in every] == ["c1", "c2", "late"]
    for stored in (every, one_by_one):
        for facts in stored:
            assert facts == by_id[facts["cell"]["cell_id"]]
    meetings = {c: [m[0] for m in facts["meetings"]] for c, facts in by_id.items()}
    assert meetings == {
        "c1": ["m-new-year", "m-offset-west", "m-offset-east", "m-utc", "m-B", "m-a"],
        "c2": ["m-moved", "m-kept", "m-early-fix"],
        "late": ["m-late"],
    }


async def test_a_cells_meetings_are_read_through_indexes(url: str) -> None:
    # A scan of `meetings` or `events` would read every meeting or event ever stored, per batch.
    conn = await database.create_pool(url, min_size=1, max_size=1)
    try:
        async with conn.acquire() as c, c.transaction():
            await c.execute("set local enable_seqscan = off")
            cells = await c.fetchval(f"explain (format json) {CELLS}", ["c1"])
            envelopes = await c.fetchval(f"explain (format json) {ENVELOPES}", ["e-1"])
    finally:
        await conn.close()
    indexes = {
        node.get("Relation Name") or node.get("Index Name"): node.get("Index Name")
        for plan in (cells, envelopes)
        for node in _nodes(json.loads(plan)[0]["Plan"])
        if "Index Name" in node
    }
    assert set(indexes.values()) == {"cells_pkey", "meetings_cell_held", "events_pkey"}, indexes


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]
