"""Builders of contract events for tests, going through the real decoder."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from services.contracts.codec import decode_event
from services.contracts.events import Event
from services.contracts.findings import Finding, FindingStatus
from services.rules.adapters.files import read_rules
from services.rules.domain.evaluate import evaluate
from services.rules.domain.facts import InMemoryFacts
from services.rules.domain.pack import RulePack

RULES = Path(__file__).resolve().parent.parent / "rules"
T0 = "2020-01-01T00:00:00Z"
_counter = iter(range(1, 10**9))


def org(
    org_id: str,
    name: str,
    *,
    parent_id: str | None = None,
    time: str = T0,
    judged_from: str | None = None,
) -> Event:
    """An `org.registered` event."""
    data: dict[str, Any] = {"org_id": org_id, "name": name, "parent_id": parent_id}
    if judged_from is not None:
        data["judged_from"] = judged_from
    return _event("org.registered", org_id, data, time, None)


def _event(kind: str, subject: str, data: dict[str, Any], time: str, event_id: str | None) -> Event:
    raw = {
        "specversion": "1.0",
        "id": event_id or f"e{next(_counter):08d}",
        "source": "tests",
        "type": kind,
        "time": time,
        "subject": subject,
        "data": data,
    }
    return decode_event(msgspec.json.encode(raw))


def cell(
    cell_id: str,
    *,
    cell_type: str = "rural",
    has_committee: bool = False,
    established_on: str = "2024-01-01",
    dissolved_on: str | None = None,
    time: str = T0,
    event_id: str | None = None,
) -> Event:
    """A `cell.registered` event."""
    data = {
        "cell_id": cell_id,
        "name": f"Chi bộ {cell_id}",
        "org_id": "org-1",
        "cell_type": cell_type,
        "has_committee": has_committee,
        "established_on": established_on,
        "dissolved_on": dissolved_on,
    }
    return _event("cell.registered", cell_id, data, time, event_id)


def meeting(
    meeting_id: str,
    cell_id: str,
    held_at: str,
    *,
    time: str = T0,
    event_id: str | None = None,
    **fields: Any,
) -> Event:
    """A `meeting.held` event: by default a model regular meeting of 10 members, all present."""
    data: dict[str, Any] = {
        "meeting_id": meeting_id,
        "cell_id": cell_id,
        "kind": "regular",
        "held_at": held_at,
        "duration_minutes": 120,
        "includes_thematic": False,
        "members_total": 10,
        "members_exempt": 0,
        "absences": [],
        "topic_groups": [],
        "criticism_held": True,
        "hcm_study": True,
    }
    data.update(fields)
    if "members_present" not in data:
        expected = data["members_total"] - data["members_exempt"]
        data["members_present"] = expected - len(data["absences"])
    return _event("meeting.held", cell_id, data, time, event_id)


def retraction(meeting_id: str, cell_id: str, *, time: str, event_id: str | None = None) -> Event:
    """A `meeting.retracted` event."""
    data = {"meeting_id": meeting_id, "cell_id": cell_id}
    return _event("meeting.retracted", cell_id, data, time, event_id)


def monthly(cell_id: str, first: date, months: int, **fields: Any) -> list[Event]:
    """A model regular meeting on the 10th of each of `months` months from `first`."""
    events = []
    for offset in range(months):
        index = first.year * 12 + first.month - 1 + offset
        year, month = divmod(index, 12)
        held_at = f"{year:04d}-{month + 1:02d}-10T08:00:00+07:00"
        events.append(meeting(f"{cell_id}-m{year}{month + 1:02d}", cell_id, held_at, **fields))
    return events


_pack: RulePack | None = None


def default_pack() -> RulePack:
    """The shipped rule pack, loaded once."""
    global _pack
    if _pack is None:
        _pack = read_rules(RULES)
    return _pack


def facts_of(events: Iterable[Event]) -> InMemoryFacts:
    """In-memory facts after applying `events` in order."""
    facts = InMemoryFacts()
    facts.apply_all(events)
    return facts


def judge(events: Iterable[Event], until: str, pack: RulePack | None = None) -> list[Finding]:
    """Open findings of the pack (default: the shipped one) before `until`."""
    rules = (pack or default_pack()).rules
    found = evaluate(rules, facts_of(events), date.fromisoformat(until))
    return [f for f in found if f.status == FindingStatus.open]


def opened(events: Iterable[Event], until: str, rule_id: str) -> set[tuple[str, str]]:
    """`(cell_id, scope)` of the open findings of one rule."""
    return {(f.cell_id, f.scope) for f in judge(events, until) if f.rule_id == rule_id}


def of(cell_id: str, *scopes: str) -> set[tuple[str, str]]:
    """The (cell, scope) identities of one cell's findings over `scopes`."""
    return {(cell_id, scope) for scope in scopes}
