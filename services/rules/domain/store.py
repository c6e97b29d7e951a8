"""Facts kept in memory, applying the event contract's semantics (DESIGN.md, "Event contract v1").

The same event `id` twice is one event. Per `meeting_id`, per cell and per org, the record with
the latest envelope `time` wins whatever the arrival order, ties going to the larger event id;
a retraction is such a record too. Meetings of cells not registered yet are kept as pending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from services.contracts.events import (
    CellRegistered,
    CellRegisteredEvent,
    Event,
    MeetingHeld,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegistered,
    OrgRegisteredEvent,
)
from services.rules.domain.facts import CellFacts, MeetingFact, meeting_fact, meeting_order

_T = TypeVar("_T")
Version = tuple[datetime, str]
"""Which record wins: the envelope time, then the event id."""


class InMemoryFacts:
    """A `FactSource` built by applying events in any order."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._orgs: dict[str, tuple[Version, OrgRegistered]] = {}
        self._cells: dict[str, tuple[Version, CellRegistered]] = {}
        self._meetings: dict[str, tuple[Version, MeetingFact | None]] = {}

    def apply(self, event: Event) -> bool:
        """Take one event into account; False when its id was already applied."""
        if event.id in self._seen:
            return False
        self._seen.add(event.id)
        version = (event.time, event.id)
        match event:
            case MeetingHeldEvent(data=data):
                self._meeting(data.meeting_id, version, data)
            case MeetingRetractedEvent(data=data):
                self._meeting(data.meeting_id, version, None)
            case CellRegisteredEvent(data=data):
                _replace(self._cells, data.cell_id, version, data)
            case OrgRegisteredEvent(data=data):
                _replace(self._orgs, data.org_id, version, data)
        return True

    def apply_all(self, events: Iterable[Event]) -> None:
        """Apply every event of `events`."""
        for event in events:
            self.apply(event)

    def _meeting(self, meeting_id: str, version: Version, data: MeetingHeld | None) -> None:
        current = self._meetings.get(meeting_id)
        if current is not None and current[0] >= version:
            return  # a stale correction: history, but it does not win
        self._meetings[meeting_id] = (version, None if data is None else meeting_fact(data))

    def orgs(self) -> dict[str, OrgRegistered]:
        """The current attributes of every registered org."""
        return {org_id: org for org_id, (_, org) in self._orgs.items()}

    def cells(self) -> Iterator[CellFacts]:
        """Every registered cell with its current meetings, sorted by `held_at`."""
        by_cell = self._meetings_by_cell()
        for cell_id in sorted(self._cells):
            meetings = by_cell.get(cell_id, [])
            meetings.sort(key=meeting_order)
            yield CellFacts(self._cells[cell_id][1], meetings)

    def cell_count(self) -> int:
        """How many cells are registered."""
        return len(self._cells)

    def cell(self, cell_id: str) -> CellFacts | None:
        """One registered cell with its current meetings, or None if it is not registered."""
        registered = self._cells.get(cell_id)
        if registered is None:
            return None
        meetings = [
            fact
            for _, fact in self._meetings.values()
            if fact is not None and fact.cell_id == cell_id
        ]
        return CellFacts(registered[1], sorted(meetings, key=meeting_order))

    def pending(self) -> dict[str, list[MeetingFact]]:
        """Current meetings of cells not registered yet, by cell id: kept, judged once known."""
        by_cell = self._meetings_by_cell()
        return {
            cell: sorted(ms, key=meeting_order)
            for cell, ms in by_cell.items()
            if cell not in self._cells
        }

    def _meetings_by_cell(self) -> dict[str, list[MeetingFact]]:
        by_cell: dict[str, list[MeetingFact]] = defaultdict(list)
        for _, fact in self._meetings.values():
            if fact is not None:
                by_cell[fact.cell_id].append(fact)
        return by_cell


def _replace(table: dict[str, tuple[Version, _T]], key: str, version: Version, value: _T) -> None:
    current = table.get(key)
    if current is None or current[0] < version:
        table[key] = (version, value)
