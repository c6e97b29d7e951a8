"""`POST /events`: events from source systems without NATS."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post

from services.contracts.codec import InvalidEventError, decode_event, encode, split_batch
from services.contracts.events import Event
from services.contracts.roles import Role
from services.infra.auth.http import allow
from services.infra.errors import BadRequestError, InvalidInputError, PayloadTooLargeError
from services.rules.entrypoints.deps import JudgeDep, Pool, SettingsDep
from services.rules.service.ingest import IngestReport, ingest

# Room left in a NATS message for its headers (the message id, at most a few hundred bytes).
MESSAGE_HEADROOM = 4096


class EventRejection(msgspec.Struct):
    """Why one event of a request was refused: its position, its id if readable, the field."""

    index: int
    id: str | None
    field: str
    message: str


@post(
    "/events",
    tags=["events"],
    summary="Publish one CloudEvent or a JSON array of them",
    status_code=202,
    guards=[allow(Role.source, Role.admin)],
)
async def post_events(
    request: Request[Any, Any, Any], pool: Pool, judge: JudgeDep, settings: SettingsDep
) -> Response[IngestReport]:
    """Store the valid events of the body; refuse the invalid ones naming each event and field.

    The body is one CloudEvent (event contract v1) or a JSON array of at most
    `CHIBO_RULES_MAX_BATCH_EVENTS` of them, within `CHIBO_RULES_MAX_BODY_BYTES`, each within
    what the NATS server carries in one message (it is published there too). All valid: 202
    with the accepted ids and the ids received before. Some invalid: 422 problem details listing
    them under `errors`, while the valid ones are still stored and listed under `accepted`.
    """
    try:
        raw_events = split_batch(await request.body())
    except InvalidEventError as exc:
        raise BadRequestError(exc.message) from None
    if len(raw_events) > settings.max_batch_events:
        raise PayloadTooLargeError(
            f"{len(raw_events)} events in one request; the limit is {settings.max_batch_events}"
        )
    # Every event is also published on NATS (through the outbox), which carries at most this
    # much: a larger one could never leave the outbox, and would hold every message behind it.
    largest = request.app.state.nats.max_payload - MESSAGE_HEADROOM
    events: list[Event] = []
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
        events.append(event)
    report = await ingest(pool, judge, events, "http")
    if rejections:
        raise InvalidInputError(
            f"{len(rejections)} of {len(raw_events)} events are invalid; the others were stored",
            errors=msgspec.to_builtins(rejections),
            accepted=report.accepted,
            duplicates=report.duplicates,
        )
    return Response(report, status_code=202)


def _readable_id(raw: bytes) -> str | None:
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    event_id = value.get("id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None
