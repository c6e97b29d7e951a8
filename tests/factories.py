"""Builders of contract-v1 events as JSON-ready dicts, with sensible defaults."""

from __future__ import annotations

import itertools
import json
from typing import Any

_ids = itertools.count(1)


def _envelope(kind: str, subject: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": envelope.pop("id", f"auto-{next(_ids)}"),
        "source": "test-source",
        "type": kind,
        "time": envelope.pop("time", "2024-01-01T08:00:00+07:00"),
        "subject": subject,
        "data": data,
    }
    event.update(envelope)
    return event


def org_registered(
    org_id: str = "org-1", parent_id: str | None = None, **kw: Any
) -> dict[str, Any]:
    """An `org.registered` event."""
    data = {"org_id": org_id, "name": f"Đảng bộ {org_id}", "parent_id": parent_id}
    return _envelope("org.registered", org_id, data, **kw)


def cell_registered(cell_id: str = "cell-1", **kw: Any) -> dict[str, Any]:
    """A `cell.registered` event; data fields may be overridden by keyword."""
    data = {
        "cell_id": cell_id,
        "name": f"Chi bộ {cell_id}",
        "org_id": "org-1",
        "cell_type": "rural",
        "has_committee": False,
        "established_on": "2020-01-01",
        "dissolved_on": None,
    }
    envelope = {k: kw.pop(k) for k in ("id", "time") if k in kw}
    data.update(kw)
    return _envelope("cell.registered", cell_id, data, **envelope)


def meeting_held(meeting_id: str = "m-1", cell_id: str = "cell-1", **kw: Any) -> dict[str, Any]:
    """A `meeting.held` event of a quality regular meeting; fields may be overridden."""
    data = {
        "meeting_id": meeting_id,
        "cell_id": cell_id,
        "kind": "regular",
        "held_at": "2024-03-05T19:30:00+07:00",
        "duration_minutes": 120,
        "includes_thematic": False,
        "members_total": 12,
        "members_exempt": 1,
        "members_present": 10,
        "absences": [{"member_id": "dv-7", "excused": True}],
        "topic_groups": [],
        "criticism_held": True,
        "hcm_study": True,
    }
    envelope = {k: kw.pop(k) for k in ("id", "time") if k in kw}
    data.update(kw)
    return _envelope("meeting.held", cell_id, data, **envelope)


def meeting_retracted(
    meeting_id: str = "m-1", cell_id: str = "cell-1", **kw: Any
) -> dict[str, Any]:
    """A `meeting.retracted` event."""
    data = {"meeting_id": meeting_id, "cell_id": cell_id}
    return _envelope("meeting.retracted", cell_id, data, **kw)


def dumps(event: dict[str, Any]) -> bytes:
    """The event as JSON bytes, as a source would send it."""
    return json.dumps(event, ensure_ascii=False).encode()
