"""The AsyncAPI description of every NATS subject Chibo reads or writes, built from the Structs.

`docs/asyncapi.yaml` is this document as YAML (`chibo asyncapi > docs/asyncapi.yaml`); a test
keeps the two equal, so the description cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.contracts import subjects
from services.contracts.events import (
    CellRegisteredEvent,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)
from services.contracts.findings import Finding
from services.contracts.workflow import CaseOverdue, CaseTransitioned

_REF = "#/components/schemas/{name}"
_TYPES = (
    OrgRegisteredEvent,
    CellRegisteredEvent,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    Finding,
    CaseTransitioned,
    CaseOverdue,
)


def _channel(address: str, payload: type, description: str, **headers: str) -> dict[str, Any]:
    message: dict[str, Any] = {"payload": {"$ref": _REF.format(name=payload.__name__)}}
    if headers:
        message["headers"] = {
            "type": "object",
            "properties": {k: {"type": "string", "description": v} for k, v in headers.items()},
        }
    return {"address": address, "description": description, "messages": {"message": message}}


def _dead_letter(address: str, description: str) -> dict[str, Any]:
    headers = ("Chibo-Reason", "Chibo-Field", "Chibo-Original-Subject")
    properties = {name: {"type": "string"} for name in headers}
    message = {"headers": {"type": "object", "properties": properties}}
    return {"address": address, "description": description, "messages": {"message": message}}


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document."""
    _, components = msgspec.json.schema_components(_TYPES, ref_template=_REF)
    dedupe = "Deterministic id; JetStream and consumers drop repeats"
    channels = {
        event.__name__: _channel(
            subjects.event_subject(str(event.__struct_config__.tag)),
            event,
            f"Source systems publish `{event.__struct_config__.tag}` (event contract v1).",
        )
        for event in _TYPES[:4]
    }
    channels |= {
        "DeadLetter": _dead_letter(
            subjects.DLQ_EVENTS, "Invalid events, byte for byte as received, with the reason."
        ),
        "WorkflowDeadLetter": _dead_letter(
            subjects.DLQ_WORKFLOW,
            "Findings and registrations the workflow service can never take, byte for byte as "
            "received, with the reason.",
        ),
        "FindingOpened": _channel(
            "chibo.findings.opened",
            Finding,
            "A finding opened or reopened.",
            **{"Nats-Msg-Id": dedupe + ": finding:<rule_id>:<cell_id>:<scope>:r<revision>"},
        ),
        "FindingResolved": _channel(
            "chibo.findings.resolved",
            Finding,
            "A finding no longer violated.",
            **{"Nats-Msg-Id": dedupe + ": finding:<rule_id>:<cell_id>:<scope>:r<revision>"},
        ),
        "CaseTransitioned": _channel(
            subjects.CASE_PREFIX + "{trigger}",
            CaseTransitioned,
            "A case was opened (`open`) or moved by a trigger.",
            **{"Nats-Msg-Id": dedupe + ": case-<case_id>-v<version>"},
        ),
        "CaseOverdue": _channel(
            subjects.CASE_PREFIX + "overdue", CaseOverdue, "A case's deadline passed (once)."
        ),
    }
    operations = {
        f"{verb}{name}": {"action": verb, "channel": {"$ref": f"#/channels/{name}"}}
        for name in channels
        for verb in (("send",) if name in _SENT_BY_SOURCES else ("receive",))
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chibo",
            "version": "1",
            "description": "Subjects on NATS JetStream. Streams: "
            + ", ".join(
                (
                    subjects.EVENTS_STREAM,
                    subjects.DLQ_STREAM,
                    subjects.FINDINGS_STREAM,
                    subjects.WORKFLOW_STREAM,
                )
            ),
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": components},
    }


# From a source system's point of view it sends events and receives everything else.
_SENT_BY_SOURCES = {t.__name__ for t in _TYPES[:4]}
