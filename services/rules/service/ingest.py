"""Taking events in: a request body's events checked one by one (`accept`), then every batch,
from HTTP or NATS, stored as facts and the cells it touches judged again (`ingest`).

One transaction per batch: the events' rows (the dedupe record), their facts, the findings they
change and the messages announcing those changes commit together, or not at all.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from services.contracts.calendar import vietnam_date
from services.contracts.codec import InvalidEventError, decode_event, encode, split_batch
from services.contracts.events import CellRegisteredEvent, Event, MeetingHeldEvent
from services.contracts.subjects import event_subject
from services.infra import outbox
from services.infra.database import TRANSIENT_ERRORS, Connection
from services.infra.errors import (
    BadRequestError,
    ForbiddenError,
    InvalidInputError,
    PayloadTooLargeError,
)
from services.rules.adapters import repository
from services.rules.adapters.findings import SCHEMA
from services.rules.domain import authority
from services.rules.domain.authority import WriteScope
from services.rules.domain.facts import meeting_fact
from services.rules.service.judging import Judge, Touched


class EventRejection(msgspec.Struct):
    """Why one event of a request was refused: its position, its id if readable, the field."""

    index: int
    id: str | None
    field: str
    message: str


class IngestReport(msgspec.Struct):
    """Which events took effect now, and which had been received before (redeliveries)."""

    accepted: list[str]
    duplicates: list[str]


async def ingest(
    pool: asyncpg.Pool,
    judge: Judge,
    events: Sequence[Event],
    path: str,
    envelopes: Sequence[bytes] | None = None,
) -> IngestReport:
    """Store `events` and re-judge the cells they touch; an event id seen before does nothing.

    `path` names how the events came (`http`, `nats`). Events that came over HTTP are also put
    on `chibo.events.<type>` through the outbox, so every other consumer (the workflow service
    learns cells' organisations there) sees all events whichever way they arrived; this service
    receives them back as redeliveries, which have no effect. `envelopes`, where given, are the
    events' JSON as received (a NATS message's body), stored as they are.
    """
    if not events:
        return IngestReport(accepted=[], duplicates=[])
    started = time.perf_counter()
    fresh: list[Event] = []
    try:
        async with pool.acquire() as conn, conn.transaction():
            fresh, duplicates, touched = await _store(conn, events, envelopes)
            for event in fresh:  # judged in a moment: no need to read them back
                if isinstance(event, MeetingHeldEvent):
                    judge.meetings.put(event.id, meeting_fact(event.data))
            judged = await judge.judge_cells_or_defer(conn, touched)
            announced = judged or 0
            if path == "http" and fresh:
                await outbox.enqueue(conn, SCHEMA, [_on_stream(e) for e in fresh])
                announced += len(fresh)
    except BaseException:
        # Of what the memo holds, only this transaction's own events may not be stored: the
        # rest was read from committed rows.
        judge.meetings.forget(e.id for e in fresh)
        raise
    if announced:
        judge.announce()
    if judged is None:  # only now, committed, is the cleared state visible to the scheduler
        judge.judge_everything_soon()
    metrics = judge.metrics
    metrics.evaluation_seconds.observe(time.perf_counter() - started)
    metrics.events_ingested.labels(path).inc(len(fresh))
    metrics.events_duplicate.labels(path).inc(len(duplicates))
    return IngestReport(accepted=[e.id for e in fresh], duplicates=duplicates)


def _on_stream(event: Event) -> outbox.Message:
    return outbox.Message(
        subject=event_subject(str(event.__struct_config__.tag)),
        msg_id=f"event:{event.id}",
        payload=encode(event),
    )


async def store(pool: asyncpg.Pool, events: Sequence[Event]) -> IngestReport:
    """Store `events` as facts and judge nothing: bulk loading of history for a backtest."""
    async with pool.acquire() as conn, conn.transaction():
        fresh, duplicates, _ = await _store(conn, events)
    return IngestReport(accepted=[e.id for e in fresh], duplicates=duplicates)


async def _store(
    conn: Connection, events: Sequence[Event], envelopes: Sequence[bytes] | None = None
) -> tuple[list[Event], list[str], Touched]:
    """Store the events not seen before; return them, the redelivered ids, and what they touch.

    What they touch is, per cell, the Vietnam years whose judgments may change, or None for
    the whole cell (a registration changes everything). A correction may move a meeting to
    another cell or year: the cell and year it leaves are touched too.
    """
    # Cells first, in one order: batches touching the same cells take turns. The cells their
    # meetings are in now are locked too; one that another transaction moves meanwhile is
    # known from `apply_facts` and locked when judged (a rare deadlock is retried).
    now_in = await repository.meeting_cells(conn, events)
    await repository.lock_cells(conn, repository.touched_cells(events) | now_in)
    new_ids = await repository.insert_new_events(conn, events, envelopes)
    fresh: list[Event] = []
    duplicates: list[str] = []
    for event in events:
        if event.id in new_ids:
            new_ids.discard(event.id)  # a second copy in the same batch is a redelivery too
            fresh.append(event)
        else:
            duplicates.append(event.id)
    applied = await repository.apply_facts(conn, fresh)
    # An org that moved or changed its judging start changes every judgment below it.
    moved = await repository.cells_under(conn, applied.orgs_moved)
    if moved:
        await repository.lock_cells(conn, moved)
    return fresh, duplicates, _touched(fresh, applied.replaced, moved)


def _touched(
    fresh: Sequence[Event], replaced: list[tuple[str, datetime | None]], whole: set[str]
) -> Touched:
    years: dict[str, set[int]] = defaultdict(set)
    whole = set(whole)
    for cell_id, held_at in replaced:
        if held_at is not None:
            years[cell_id].add(vietnam_date(held_at).year)
    for event in fresh:
        match event:
            case CellRegisteredEvent(data=data):
                whole.add(data.cell_id)
            case MeetingHeldEvent(data=data):
                years[data.cell_id].add(vietnam_date(data.held_at).year)
    touched: Touched = {cell: frozenset(found) for cell, found in years.items()}
    touched.update(dict.fromkeys(whole))
    return touched


# Room left in a NATS message for its headers (the message id, at most a few hundred bytes).
MESSAGE_HEADROOM = 4096


async def accept(
    pool: asyncpg.Pool,
    judge: Judge,
    body: bytes,
    *,
    max_events: int,
    max_payload: int,
    scope: WriteScope | None = None,
) -> IngestReport:
    """Store the valid events of a request body, refusing the invalid ones by event and field.

    The body is one CloudEvent (event contract v1) or a JSON array of at most `max_events` of
    them, each within `max_payload`, what the NATS server carries in one message (every event
    is published there too). With a `scope`, events outside it are refused as well (None: a
    trusted source, writing for every org). Some refused: InvalidInputError (or ForbiddenError
    when any lies outside the scope) listing them under `errors`, while the valid ones are
    still stored and listed under `accepted`.
    """
    try:
        raw_events = split_batch(body)
    except InvalidEventError as exc:
        raise BadRequestError(exc.message) from None
    if len(raw_events) > max_events:
        raise PayloadTooLargeError(
            f"{len(raw_events)} events in one request; the limit is {max_events}"
        )
    # A larger event could never leave the outbox, and would hold every message behind it.
    largest = max_payload - MESSAGE_HEADROOM
    events: list[tuple[int, Event]] = []
    rejections: list[EventRejection] = []
    for index, raw in enumerate(raw_events):
        try:
            event = decode_event(raw)
        except InvalidEventError as exc:
            rejections.append(EventRejection(index, _readable_id(raw), exc.field, exc.message))
            continue
        if len(raw) > largest and (size := len(encode(event))) > largest:
            message = f"the event is {size} bytes; NATS carries events of up to {largest}"
            rejections.append(EventRejection(index, event.id, "$", message))
            continue
        events.append((index, event))
    forbidden = await _outside(pool, scope, events) if scope is not None else {}
    rejections += forbidden.values()
    events = [(index, event) for index, event in events if index not in forbidden]
    report = await _stored(pool, judge, events, rejections)
    if rejections:
        rejections.sort(key=lambda rejection: rejection.index)
        error = ForbiddenError if forbidden else InvalidInputError
        what = "refused" if forbidden else "invalid"
        raise error(
            f"{len(rejections)} of {len(raw_events)} events are {what}; the others were stored",
            errors=msgspec.to_builtins(rejections),
            accepted=report.accepted,
            duplicates=report.duplicates,
        )
    return report


async def _outside(
    pool: asyncpg.Pool, scope: WriteScope, events: Sequence[tuple[int, Event]]
) -> dict[int, EventRejection]:
    """The events (by position in the request) that `scope` may not write."""
    batch = [event for _, event in events]
    async with pool.acquire() as conn:
        places = await repository.places(conn, scope, batch)
    return {
        events[r.index][0]: EventRejection(
            events[r.index][0], batch[r.index].id, r.field, r.message
        )
        for r in authority.outside(batch, scope, places)
    }


async def _stored(
    pool: asyncpg.Pool,
    judge: Judge,
    events: Sequence[tuple[int, Event]],
    rejections: list[EventRejection],
) -> IngestReport:
    """Ingest the events in one transaction; if the database refuses it for good, ingest them
    one by one, so that only the events it refuses are lost (each listed in `rejections`)."""
    try:
        return await ingest(pool, judge, [event for _, event in events], "http")
    except TRANSIENT_ERRORS:
        raise
    except asyncpg.PostgresError:
        pass
    accepted: list[str] = []
    duplicates: list[str] = []
    for index, event in events:
        try:
            one = await ingest(pool, judge, [event], "http")
        except TRANSIENT_ERRORS:
            raise
        except asyncpg.PostgresError as exc:
            reason = f"refused by the database: {exc}"
            rejections.append(EventRejection(index, event.id, "$", reason))
            continue
        accepted += one.accepted
        duplicates += one.duplicates
    return IngestReport(accepted=accepted, duplicates=duplicates)


def _readable_id(raw: bytes) -> str | None:
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    event_id = value.get("id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None
