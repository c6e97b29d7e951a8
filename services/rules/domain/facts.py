"""Facts as the engine reads them: compact meeting records per cell, behind a `FactSource` seam,
and the in-memory source that applies the event contract's semantics to events.

A `MeetingFact` is built once per winning `meeting.held` and never copied; its Vietnam date and
month index are computed at that moment so that every rule groups meetings by integer keys.

The contract's semantics: the same event `id` twice is one event. Per `meeting_id`, per cell and
per org, the record with the latest envelope `time` wins whatever the arrival order, ties going
to the larger event id; a retraction is such a record too. Meetings of cells not registered yet
are kept as pending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Protocol, TypeVar

import msgspec

from services.contracts.calendar import VIETNAM
from services.contracts.events import (
    CellRegistered,
    CellRegisteredEvent,
    CellType,
    Event,
    MeetingHeld,
    MeetingHeldEvent,
    MeetingKind,
    MeetingRetractedEvent,
    OrgRegistered,
    OrgRegisteredEvent,
)
from services.rules.domain.expressions import Name


class MeetingFact(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """One meeting as judged: the winning record of its `meeting_id`, dated in Vietnam time.

    `held_at` is the same instant as the source wrote it, expressed at UTC+07:00.
    """

    meeting_id: str
    cell_id: str
    kind: str
    held_at: datetime
    day: date
    month: int
    duration_minutes: int
    includes_thematic: bool
    members_total: int
    members_exempt: int
    members_present: int
    excused: tuple[str, ...]
    unexcused: tuple[str, ...]
    topic_groups: tuple[int, ...]
    criticism_held: bool
    hcm_study: bool


def meeting_fact(meeting: MeetingHeld) -> MeetingFact:
    """The judged form of a `meeting.held` payload."""
    # Kept in Vietnam time: all meetings then share one tzinfo, which makes sorting them by
    # `held_at` several times faster than comparing datetimes of mixed offsets.
    held_at = meeting.held_at.astimezone(VIETNAM)
    day = held_at.date()
    absences = meeting.absences
    excused: tuple[str, ...] = ()
    unexcused: tuple[str, ...] = ()
    if absences:  # most meetings have none: share the empty tuples
        excused = tuple(a.member_id for a in absences if a.excused)
        unexcused = tuple(a.member_id for a in absences if not a.excused)
    return MeetingFact(
        meeting.meeting_id,
        meeting.cell_id,
        meeting.kind,  # a StrEnum member: compares and hashes as its string
        held_at,
        day,
        day.year * 12 + day.month - 1,  # month_index(day), inlined on the hot path
        meeting.duration_minutes,
        meeting.includes_thematic,
        meeting.members_total,
        meeting.members_exempt,
        meeting.members_present,
        excused,
        unexcused,
        tuple(meeting.topic_groups),
        meeting.criticism_held,
        meeting.hcm_study,
    )


class CellFacts(msgspec.Struct, frozen=True):
    """A registered cell and its meetings, sorted by `held_at` (then `meeting_id`).

    `judged_from` is the `judged_from` of the nearest org above the cell that sets one (its own
    org first): none, and the pack's judging start holds.
    """

    cell: CellRegistered
    meetings: list[MeetingFact]
    judged_from: date | None = None


class FactSource(Protocol):
    """Where an evaluation reads facts: in memory from events, or (later) the fact store."""

    def cells(self) -> Iterator[CellFacts]:
        """Every registered cell, each with all its meetings sorted by `held_at`."""
        ...

    def cell(self, cell_id: str) -> CellFacts | None:
        """One registered cell with its meetings, or None if it is not registered."""
        ...

    def cell_count(self) -> int:
        """How many cells `cells()` yields (for progress reports)."""
        ...


def meeting_order(meeting: MeetingFact) -> tuple[datetime, str]:
    """Sort key of meetings within a cell: when held, then id for a stable order."""
    return meeting.held_at, meeting.meeting_id


def _thematic(m: MeetingFact) -> bool:
    return m.kind == "thematic" or (m.kind == "regular" and m.includes_thematic)


MEETING_NAMES: dict[str, Name] = {
    "kind": Name(attrgetter("kind"), frozenset(MeetingKind)),
    "thematic": Name(_thematic),
    "duration_minutes": Name(attrgetter("duration_minutes"), numeric=True),
    "includes_thematic": Name(attrgetter("includes_thematic")),
    "members_total": Name(attrgetter("members_total"), numeric=True),
    "members_exempt": Name(attrgetter("members_exempt"), numeric=True),
    "members_present": Name(attrgetter("members_present"), numeric=True),
    "members_expected": Name(lambda m: m.members_total - m.members_exempt, numeric=True),
    "attendance_ratio": Name(
        lambda m: m.members_present / (m.members_total - m.members_exempt), numeric=True
    ),
    "absences": Name(lambda m: len(m.excused) + len(m.unexcused), numeric=True),
    "excused_absences": Name(lambda m: len(m.excused), numeric=True),
    "unexcused_absences": Name(lambda m: len(m.unexcused), numeric=True),
    "topic_groups": Name(attrgetter("topic_groups")),
    "criticism_held": Name(attrgetter("criticism_held")),
    "hcm_study": Name(attrgetter("hcm_study")),
}
"""Names a meeting expression may use; `thematic`: a thematic meeting, or a regular one that
also held a thematic session."""

CELL_NAMES: dict[str, Name] = {
    "cell_id": Name(attrgetter("cell_id")),
    "org_id": Name(attrgetter("org_id")),
    "cell_type": Name(lambda c: c.cell_type.value, frozenset(CellType)),
    "has_committee": Name(attrgetter("has_committee")),
}
"""Names an `applies_to` expression may use."""


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
        orgs = self.orgs()
        for cell_id in sorted(self._cells):
            meetings = by_cell.get(cell_id, [])
            meetings.sort(key=meeting_order)
            cell = self._cells[cell_id][1]
            yield CellFacts(cell, meetings, judged_from(orgs, cell.org_id))

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
        cell = registered[1]
        return CellFacts(
            cell, sorted(meetings, key=meeting_order), judged_from(self.orgs(), cell.org_id)
        )

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


def judged_from(orgs: Mapping[str, OrgRegistered], org_id: str) -> date | None:
    """The `judged_from` of `org_id` or, when it sets none, of the nearest org above it that
    does; None when none does (a cycle in the tree ends the walk)."""
    seen: set[str] = set()
    current: str | None = org_id
    while current is not None and current not in seen:
        seen.add(current)
        org = orgs.get(current)
        if org is None:
            return None
        if org.judged_from is not None:
            return org.judged_from
        current = org.parent_id
    return None
