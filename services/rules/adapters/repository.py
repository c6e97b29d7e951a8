"""The facts in PostgreSQL: events (the dedupe log), orgs, cells and the winning meeting records,
written as events arrive and read back for judging — live, a few cells at a time under their
locks, or in bulk for a backtest (`DatabaseFacts`). The caller owns the transaction.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
import msgspec

from services.contracts.codec import encode
from services.contracts.events import (
    CellRegistered,
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)
from services.infra.auth import scope as scope_sql
from services.infra.database import Connection, newer
from services.infra.errors import StartupError
from services.rules.domain.authority import Places, WriteScope
from services.rules.domain.facts import CellFacts, MeetingFact, meeting_fact, meeting_order

# Advisory-lock namespace of cells: one transaction at a time judges a given cell.
_CELL_LOCKS = 7301
_meeting_decoder = msgspec.json.Decoder(MeetingHeldEvent)
# The registered cells among `$1`, each with the ids of the events that recorded its current
# meetings (read through the partial index of current meetings per cell).
CELLS = """
select cell_id, name, org_id, cell_type, has_committee, established_on, dissolved_on,
    rules.judged_from(org_id) as judged_from,
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
        CellFacts(
            registered_cell(c),
            sorted((known[e] for e in c["event_ids"]), key=meeting_order),
            c["judged_from"],
        )
        for c in cells
    ]


async def cell_ids(conn: Connection) -> list[str]:
    """Every registered cell's id."""
    return [r["cell_id"] for r in await conn.fetch("select cell_id from rules.cells")]


async def cell_exists(conn: Connection, cell_id: str) -> bool:
    """Whether the cell is registered."""
    return bool(await conn.fetchval("select 1 from rules.cells where cell_id = $1", cell_id))


def registered_cell(row: asyncpg.Record) -> CellRegistered:
    """A cell as registered, from a row of `rules.cells`."""
    return msgspec.convert({name: row[name] for name in _CELL_FIELDS}, CellRegistered)


_CELL_FIELDS = CellRegistered.__struct_fields__


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


async def places(conn: Connection, scope: WriteScope, events: Sequence[Event]) -> Places:
    """Where the orgs, cells and meetings the events name are now, and the scope's subtree."""
    org_ids = [e.data.org_id for e in events if isinstance(e, OrgRegisteredEvent)]
    meeting_ids = [
        e.data.meeting_id for e in events if isinstance(e, MeetingHeldEvent | MeetingRetractedEvent)
    ]
    meetings = {
        r[0]: r[1]
        for r in await conn.fetch(
            "select meeting_id, cell_id from rules.meetings where meeting_id = any($1::text[])",
            meeting_ids,
        )
    }
    cell_ids = touched_cells(events) | set(meetings.values())
    cells = {
        r[0]: r[1]
        for r in await conn.fetch(
            "select cell_id, org_id from rules.cells where cell_id = any($1::text[])",
            list(cell_ids),
        )
    }
    subtree: set[str] = set()
    if scope.org is not None:
        rows = await conn.fetch(
            f"with recursive {scope_sql.subtree('rules')} select org_id from subtree", scope.org
        )
        subtree = {r[0] for r in rows}
    existing = await conn.fetch(
        "select org_id from rules.orgs where org_id = any($1::text[])", org_ids
    )
    return Places(subtree=subtree, orgs={r[0] for r in existing}, cells=cells, meetings=meetings)


def touched_cells(events: Sequence[Event]) -> set[str]:
    """The cells whose judgment `events` may change (org registrations change none)."""
    return {e.subject for e in events if not isinstance(e, OrgRegisteredEvent)}


_INSERT_EVENTS = """
insert into rules.events (id, type, source, subject, time, envelope)
select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::json[])
on conflict (id) do nothing
returning id
"""

# A record replaces the stored one only when it is newer: (time, event id) orders them the same
# way whatever order they arrive in.

# Returns the orgs whose place or judging start may have moved: new ones (cells may have named
# them already) and those whose parent or `judged_from` the newer record changed.
_UPSERT_ORGS = f"""
with incoming as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::timestamptz[],
        $6::text[]) as i(org_id, name, parent_id, judged_from, event_time, event_id)
), kept as (
    select o.org_id, o.parent_id, o.judged_from from rules.orgs o
    where o.org_id in (select org_id from incoming)
), upserted as (
    insert into rules.orgs (org_id, name, parent_id, judged_from, event_time, event_id)
    select org_id, name, parent_id, judged_from, event_time, event_id from incoming
    on conflict (org_id) do update set name = excluded.name, parent_id = excluded.parent_id,
        judged_from = excluded.judged_from, event_time = excluded.event_time,
        event_id = excluded.event_id
    where {newer("orgs")}
    returning org_id, parent_id, judged_from
)
select u.org_id from upserted u left join kept k using (org_id)
where k.org_id is null or k.parent_id is distinct from u.parent_id
    or k.judged_from is distinct from u.judged_from
"""
# The cells in the subtrees of the orgs `$1`.
_CELLS_UNDER = """
with recursive under(org_id) as (
    select unnest($1::text[])
    union
    select o.org_id from rules.orgs o join under u on o.parent_id = u.org_id
)
select cell_id from rules.cells where org_id in (select org_id from under)
"""

_UPSERT_CELL = f"""
insert into rules.cells (cell_id, name, org_id, cell_type, has_committee, established_on,
    dissolved_on, event_time, event_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
on conflict (cell_id) do update set name = excluded.name, org_id = excluded.org_id,
    cell_type = excluded.cell_type, has_committee = excluded.has_committee,
    established_on = excluded.established_on, dissolved_on = excluded.dissolved_on,
    event_time = excluded.event_time, event_id = excluded.event_id
where {newer("cells")}
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
where {newer("meetings")}
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


class Applied(msgspec.Struct, frozen=True):
    """What storing facts moved: the cell and time of every meeting record replaced (no time if
    it was retracted), and the orgs whose place or judging start may have changed."""

    replaced: list[tuple[str, datetime | None]]
    orgs_moved: list[str]


async def cells_under(conn: Connection, org_ids: Sequence[str]) -> set[str]:
    """The registered cells in the subtrees of `org_ids`."""
    return {r[0] for r in await conn.fetch(_CELLS_UNDER, list(org_ids))} if org_ids else set()


async def apply_facts(conn: Connection, events: Sequence[Event]) -> Applied:
    """Upsert orgs, cells and meetings, each only where the event is newer than what is kept.

    Returns the cell and time of every meeting record replaced (no time if it was retracted),
    and the orgs whose parent or judging start changed.
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
                orgs.append((d.org_id, d.name, d.parent_id, d.judged_from, event.time, event.id))
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
    moved: list[str] = []
    if orgs:
        columns = [list(column) for column in zip(*orgs, strict=True)]
        moved = [r[0] for r in await conn.fetch(_UPSERT_ORGS, *columns)]
    if cells:
        await conn.executemany(_UPSERT_CELL, cells)
    if not meetings:
        return Applied([], moved)
    rows = await conn.fetch(_UPSERT_MEETINGS, encode(meetings).decode())
    return Applied([(r[0], r[1]) for r in rows if r[0] is not None], moved)


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


VIETNAM_SESSION = {"timezone": "<+07>-07"}  # POSIX notation for UTC+07:00, no daylight saving
_CELLS_WITH_MEETINGS = """
select c.cell_id, c.name, c.org_id, c.cell_type, c.has_committee, c.established_on,
    c.dissolved_on, rules.judged_from(c.org_id) as judged_from, (
        select coalesce(json_agg(json_build_array(
            m.meeting_id, m.cell_id, m.kind, m.held_at, m.held_at::date,
            extract(year from m.held_at)::int * 12 + extract(month from m.held_at)::int - 1,
            m.duration_minutes, m.includes_thematic, m.members_total, m.members_exempt,
            m.members_present,
            jsonb_path_query_array(m.absences, '$[*] ? (@.excused == true).member_id'),
            jsonb_path_query_array(m.absences, '$[*] ? (@.excused == false).member_id'),
            m.topic_groups, m.criticism_held, m.hcm_study
        ) order by m.held_at, m.meeting_id collate "C"), '[]')::text
        from rules.meetings m
        where m.cell_id = c.cell_id and not m.retracted
    ) as meetings
from rules.cells c
"""
_CELLS_AFTER = f"""{_CELLS_WITH_MEETINGS}
where c.cell_id collate "C" > $1 order by c.cell_id collate "C" limit $2
"""
_ONE_CELL = f"{_CELLS_WITH_MEETINGS} where c.cell_id = $1"
_COUNT = "select count(*) from rules.cells"

_T = TypeVar("_T")
_meetings = msgspec.json.Decoder(list[MeetingFact])


class DatabaseFacts:
    """The `--db` fact source: the stored facts as a `FactSource`; a context manager.

    Cells are read in chunks ordered by id, so memory holds one chunk of cells however long the
    history. Only winning, non-retracted records of registered cells are read: retracted
    meetings and pending ones (cell not registered) are never judged. Orders use the C
    collation, so cells and meetings come out exactly as the in-memory source sorts them.

    PostgreSQL shapes each cell's meetings as one JSON array of `MeetingFact` rows, which msgspec
    decodes straight into the engine's records: the per-meeting work runs in the database
    server, beside the engine, instead of row by row in Python. The session's time zone is
    UTC+07:00, so `held_at`, its date and its month come out in Vietnam time, as `meeting_fact`
    makes them. Queries run on an event loop in a thread of their own, so that while the engine
    judges one chunk of cells, PostgreSQL is already producing the next.
    """

    def __init__(self, url: str, chunk_cells: int = 500) -> None:
        self.url, self.chunk_cells = url, chunk_cells
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stored-facts")
        self._conn: asyncpg.Connection | None = None

    def __enter__(self) -> DatabaseFacts:
        self._thread.start()
        connecting = asyncpg.connect(self.url, server_settings=VIETNAM_SESSION)
        try:
            self._conn = self._submit(connecting).result()
        except (OSError, asyncpg.PostgresError) as exc:
            self._stop()
            raise StartupError(f"cannot read the stored facts: {exc}") from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._conn is not None:
                self._submit(self._conn.close()).result()
                self._conn = None
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def cells(self) -> Iterator[CellFacts]:
        """Every registered cell by id, each with its judged meetings sorted by `held_at`."""
        pending = self._submit(self._fetch(_CELLS_AFTER, "", self.chunk_cells))
        try:
            while True:
                chunk = pending.result()
                if not chunk:
                    return
                after = chunk[-1]["cell_id"]
                pending = self._submit(self._fetch(_CELLS_AFTER, after, self.chunk_cells))
                yield from _cell_facts(chunk)
        finally:
            pending.result()  # the connection is free again before anyone closes it

    def cell(self, cell_id: str) -> CellFacts | None:
        """One registered cell with its judged meetings, or None if it is not registered."""
        found = self._submit(self._fetch(_ONE_CELL, cell_id)).result()
        return next(_cell_facts(found), None)

    def cell_count(self) -> int:
        """How many cells are registered."""
        return int(self._submit(self._fetch(_COUNT)).result()[0][0])

    async def _fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        if self._conn is None:
            raise RuntimeError("DatabaseFacts is used outside its `with` block")
        return await self._conn.fetch(query, *args)

    def _submit(self, work: Coroutine[Any, Any, _T]) -> Future[_T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)


def _cell_facts(rows: Sequence[asyncpg.Record]) -> Iterator[CellFacts]:
    for row in rows:
        yield CellFacts(registered_cell(row), _meetings.decode(row["meetings"]), row["judged_from"])
