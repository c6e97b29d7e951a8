"""SQL that reads the facts for judging: cells' locks, and cells with their meetings as judged.

The writes that store events as facts are in `facts_repository`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

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
from services.rules.engine.facts import CellFacts, MeetingFact, meeting_fact, meeting_order

# Advisory-lock namespace of cells: one transaction at a time judges a given cell.
_CELL_LOCKS = 7301
_meeting_decoder = msgspec.json.Decoder(MeetingHeldEvent)
# The winning envelope of every current meeting of the cells `$1`. `event_id` sorts with the C
# collation and `events.id` with the default one: compared as they are, the join takes C, which
# the primary key of `events` cannot serve, so every batch read the whole events table.
# Equality means the same under both, so the comparison is made in the index's collation.
MEETING_ENVELOPES = """
select e.envelope::text as envelope from rules.meetings m
join rules.events e on e.id = m.event_id collate "default"
where m.cell_id = any($1::text[]) and not m.retracted
"""


async def lock_cells(conn: Connection, cell_ids: Iterable[str]) -> None:
    """Hold every cell's lock until the transaction ends, taken in one order to avoid deadlock."""
    await conn.execute(
        "select pg_advisory_xact_lock($1, k) from"
        " (select distinct hashtext(c) as k from unnest($2::text[]) as c order by k) as keys",
        _CELL_LOCKS,
        list(set(cell_ids)),
    )


async def load_cells(conn: Connection, cell_ids: Sequence[str]) -> list[CellFacts]:
    """The registered cells among `cell_ids`, each with its current meetings, as judged.

    Meetings are rebuilt from the winning events' envelopes with the contract's own decoder,
    so the live service and a backtest over the same events read identical facts.
    """
    cells = await conn.fetch(
        "select cell_id, name, org_id, cell_type, has_committee, established_on, dissolved_on"
        " from rules.cells where cell_id = any($1::text[]) order by cell_id",
        list(cell_ids),
    )
    if not cells:
        return []
    envelopes = await conn.fetch(MEETING_ENVELOPES, [c["cell_id"] for c in cells])
    by_cell: dict[str, list[MeetingFact]] = defaultdict(list)
    for row in envelopes:
        fact = meeting_fact(_meeting_decoder.decode(row["envelope"]).data)
        by_cell[fact.cell_id].append(fact)
    return [
        CellFacts(
            CellRegistered(**{**dict(c), "cell_type": CellType(c["cell_type"])}),
            sorted(by_cell.get(c["cell_id"], []), key=meeting_order),
        )
        for c in cells
    ]


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
