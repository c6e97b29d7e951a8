"""SQL that reads the facts for judging: cells' locks, and cells with their meetings as judged.

The writes that store events as facts are in `facts_repository`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import asyncpg
import msgspec

from services.contracts.events import (
    CellRegistered,
    CellType,
    Event,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)
from services.infra.database import Connection
from services.rules.domain.facts import CellFacts, MeetingFact, meeting_fact, meeting_order

# Advisory-lock namespace of cells: one transaction at a time judges a given cell.
_CELL_LOCKS = 7301
_meeting_decoder = msgspec.json.Decoder(MeetingHeldEvent)
# The registered cells among `$1`, each with the ids of the events that recorded its current
# meetings (read through the partial index of current meetings per cell).
CELLS = """
select cell_id, name, org_id, cell_type, has_committee, established_on, dissolved_on,
    array(select m.event_id from rules.meetings m
          where m.cell_id = c.cell_id and not m.retracted) as event_ids
from rules.cells c where cell_id = any($1::text[]) order by cell_id
"""
# The envelopes of the events `$1`, by primary key.
ENVELOPES = "select id, envelope::text from rules.events where id = any($1::text[])"
MEETINGS_KEPT = 200_000


class MeetingMemo:
    """Meetings as judged, by the id of the event that recorded each, the most recent kept.

    A stored event never changes, so neither does the meeting read from it: judging a cell again
    reads only which events hold its meetings, and decodes only the envelopes not seen lately.
    """

    def __init__(self, kept: int = MEETINGS_KEPT) -> None:
        self._kept = kept
        self._facts: OrderedDict[str, MeetingFact] = OrderedDict()

    def get(self, event_id: str) -> MeetingFact | None:
        """The meeting `event_id` recorded, if kept; it is then kept the longest."""
        fact = self._facts.get(event_id)
        if fact is not None:
            self._facts.move_to_end(event_id)
        return fact

    def put(self, event_id: str, fact: MeetingFact) -> None:
        """Keep the meeting `event_id` recorded, forgetting the least recently used beyond the
        limit."""
        self._facts[event_id] = fact
        self._facts.move_to_end(event_id)
        while len(self._facts) > self._kept:
            self._facts.popitem(last=False)

    def forget(self, event_ids: Iterable[str]) -> None:
        """Forget the meetings of `event_ids` (events whose storing was rolled back)."""
        for event_id in event_ids:
            self._facts.pop(event_id, None)

    def __len__(self) -> int:
        return len(self._facts)


async def lock_cells(conn: Connection, cell_ids: Iterable[str]) -> None:
    """Hold every cell's lock until the transaction ends, taken in one order to avoid deadlock."""
    await conn.execute(
        "select pg_advisory_xact_lock($1, k) from"
        " (select distinct hashtext(c) as k from unnest($2::text[]) as c order by k) as keys",
        _CELL_LOCKS,
        list(set(cell_ids)),
    )


async def load_cells(
    conn: Connection, cell_ids: Sequence[str], memo: MeetingMemo | None = None
) -> list[CellFacts]:
    """The registered cells among `cell_ids`, each with its current meetings, as judged.

    Meetings are rebuilt from the winning events' envelopes with the contract's own decoder,
    so the live service and a backtest over the same events read identical facts; those `memo`
    holds are not read again.
    """
    cells = await conn.fetch(CELLS, list(cell_ids))
    if memo is None:
        memo = MeetingMemo()
    known: dict[str, MeetingFact] = {}
    missing: list[str] = []
    for cell in cells:
        for event_id in cell["event_ids"]:
            fact = memo.get(event_id)
            if fact is None:
                missing.append(event_id)
            else:
                known[event_id] = fact
    if missing:
        for event_id, envelope in await conn.fetch(ENVELOPES, missing):
            known[event_id] = fact = meeting_fact(_meeting_decoder.decode(envelope).data)
            memo.put(event_id, fact)
    return [
        CellFacts(registered_cell(c), sorted((known[e] for e in c["event_ids"]), key=meeting_order))
        for c in cells
    ]


def registered_cell(row: asyncpg.Record) -> CellRegistered:
    """A cell as registered, from a row of `rules.cells`."""
    return CellRegistered(
        cell_id=row["cell_id"],
        name=row["name"],
        org_id=row["org_id"],
        cell_type=CellType(row["cell_type"]),
        has_committee=row["has_committee"],
        established_on=row["established_on"],
        dissolved_on=row["dissolved_on"],
    )


async def meeting_cells(conn: Connection, events: Sequence[Event]) -> set[str]:
    """The cells the stored records of the events' meetings are in, as this moment sees them."""
    meeting_ids = [
        e.data.meeting_id for e in events if isinstance(e, MeetingHeldEvent | MeetingRetractedEvent)
    ]
    if not meeting_ids:
        return set()
    rows = await conn.fetch(
        "select distinct cell_id from rules.meetings where meeting_id = any($1::text[])",
        meeting_ids,
    )
    return {r[0] for r in rows}


def touched_cells(events: Sequence[Event]) -> set[str]:
    """The cells whose judgment `events` may change (org registrations change none)."""
    return {e.subject for e in events if not isinstance(e, OrgRegisteredEvent)}
