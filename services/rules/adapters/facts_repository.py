"""SQL that writes the facts: events (the dedupe log), orgs, cells and the winning meeting records.

What judging reads back, and the cell locks around it, are in `repository`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from services.contracts.codec import encode
from services.contracts.events import (
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)
from services.infra.database import Connection

_INSERT_EVENTS = """
insert into rules.events (id, type, source, subject, time, envelope)
select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::json[])
on conflict (id) do nothing
returning id
"""

# A record replaces the stored one only when it is newer: (time, event id) orders them the same
# way whatever order they arrive in.
_NEWER = "(excluded.event_time, excluded.event_id) > ({table}.event_time, {table}.event_id)"

_UPSERT_ORG = f"""
insert into rules.orgs (org_id, name, parent_id, event_time, event_id) values ($1, $2, $3, $4, $5)
on conflict (org_id) do update set name = excluded.name, parent_id = excluded.parent_id,
    event_time = excluded.event_time, event_id = excluded.event_id
where {_NEWER.format(table="orgs")}
"""

_UPSERT_CELL = f"""
insert into rules.cells (cell_id, name, org_id, cell_type, has_committee, established_on,
    dissolved_on, event_time, event_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
on conflict (cell_id) do update set name = excluded.name, org_id = excluded.org_id,
    cell_type = excluded.cell_type, has_committee = excluded.has_committee,
    established_on = excluded.established_on, dissolved_on = excluded.dissolved_on,
    event_time = excluded.event_time, event_id = excluded.event_id
where {_NEWER.format(table="cells")}
"""

_MEETING_COLUMNS = (
    "meeting_id, cell_id, retracted, event_time, event_id, kind, held_at, duration_minutes,"
    " includes_thematic, members_total, members_exempt, members_present, absences,"
    " topic_groups, criticism_held, hcm_study"
)
# Meetings arrive by the hundred: one statement over a JSON array of records writes them all.
_UPSERT_MEETINGS = f"""
insert into rules.meetings ({_MEETING_COLUMNS})
select {_MEETING_COLUMNS} from jsonb_to_recordset($1::jsonb) as r(meeting_id text,
    cell_id text, retracted boolean, event_time timestamptz, event_id text, kind text,
    held_at timestamptz, duration_minutes integer, includes_thematic boolean,
    members_total integer, members_exempt integer, members_present integer, absences jsonb,
    topic_groups smallint[], criticism_held boolean, hcm_study boolean)
on conflict (meeting_id) do update set ({_MEETING_COLUMNS}) = (
    excluded.meeting_id, excluded.cell_id, excluded.retracted, excluded.event_time,
    excluded.event_id, excluded.kind, excluded.held_at, excluded.duration_minutes,
    excluded.includes_thematic, excluded.members_total, excluded.members_exempt,
    excluded.members_present, excluded.absences, excluded.topic_groups,
    excluded.criticism_held, excluded.hcm_study),
    (replaced_cell_id, replaced_held_at) = (meetings.cell_id, meetings.held_at)
where {_NEWER.format(table="meetings")}
returning replaced_cell_id, replaced_held_at
"""


async def insert_new_events(
    conn: Connection, events: Sequence[Event], envelopes: Sequence[bytes] | None = None
) -> set[str]:
    """Record events not seen before; return the ids that are new (the rest are redeliveries).

    `envelopes` are the events' JSON as received, one per event, where the caller has it;
    otherwise each event is encoded.
    """
    received = envelopes if envelopes is not None else [encode(e) for e in events]
    rows = await conn.fetch(
        _INSERT_EVENTS,
        [e.id for e in events],
        [e.__struct_config__.tag for e in events],
        [e.source for e in events],
        [e.subject for e in events],
        [e.time for e in events],
        [envelope.decode() for envelope in received],
    )
    return {r["id"] for r in rows}


async def apply_facts(
    conn: Connection, events: Sequence[Event]
) -> list[tuple[str, datetime | None]]:
    """Upsert orgs, cells and meetings, each only where the event is newer than what is kept.

    Returns the cell and time of every meeting record replaced (no time if it was retracted).
    They are read from the rows the upsert locks, which hold the latest committed records, not
    the ones this transaction's snapshot saw: a record committed by another transaction while
    this one waited is the one replaced, and its cell is the one to judge again.
    """
    orgs: list[tuple[object, ...]] = []
    cells: list[tuple[object, ...]] = []
    meetings: list[dict[str, object]] = []
    for event in _latest_per_key(events):
        match event:
            case OrgRegisteredEvent(data=d):
                orgs.append((d.org_id, d.name, d.parent_id, event.time, event.id))
            case CellRegisteredEvent(data=d):
                cells.append(
                    (
                        d.cell_id,
                        d.name,
                        d.org_id,
                        d.cell_type.value,
                        d.has_committee,
                        d.established_on,
                        d.dissolved_on,
                        event.time,
                        event.id,
                    )
                )
            case MeetingHeldEvent(data=d):
                meetings.append(
                    {**msgspec.structs.asdict(d), "retracted": False,
                     "event_time": event.time, "event_id": event.id}
                )  # fmt: skip
            case MeetingRetractedEvent(data=d):
                meetings.append(
                    {"meeting_id": d.meeting_id, "cell_id": d.cell_id, "retracted": True,
                     "event_time": event.time, "event_id": event.id}
                )  # fmt: skip
    if orgs:
        await conn.executemany(_UPSERT_ORG, orgs)
    if cells:
        await conn.executemany(_UPSERT_CELL, cells)
    if not meetings:
        return []
    rows = await conn.fetch(_UPSERT_MEETINGS, encode(meetings).decode())
    return [(r[0], r[1]) for r in rows if r[0] is not None]


def fact_key(event: Event) -> tuple[str, str]:
    """What an event is about: later events with the same key replace earlier ones."""
    match event:
        case OrgRegisteredEvent(data=d):
            return ("org", d.org_id)
        case CellRegisteredEvent(data=d):
            return ("cell", d.cell_id)
        case MeetingHeldEvent(data=d) | MeetingRetractedEvent(data=d):
            return ("meeting", d.meeting_id)


def _latest_per_key(events: Sequence[Event]) -> list[Event]:
    # One statement may not update the same row twice, so a batch keeps only its newest record
    # per key; the database then compares that one with what it holds.
    latest: dict[tuple[str, str], Event] = {}
    for event in events:
        key = fact_key(event)
        kept = latest.get(key)
        if kept is None or (event.time, event.id) > (kept.time, kept.id):
            latest[key] = event
    return list(latest.values())
