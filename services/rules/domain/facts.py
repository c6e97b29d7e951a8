"""Facts as the engine reads them: compact meeting records per cell, behind a `FactSource` seam.

A `MeetingFact` is built once per winning `meeting.held` and never copied; its Vietnam date and
month index are computed at that moment so that every rule groups meetings by integer keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from operator import attrgetter
from typing import Protocol

import msgspec

from services.contracts.calendar import VIETNAM
from services.contracts.events import CellRegistered, CellType, MeetingHeld, MeetingKind
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
    """A registered cell and its meetings, sorted by `held_at` (then `meeting_id`)."""

    cell: CellRegistered
    meetings: list[MeetingFact]


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
    "duration_minutes": Name(attrgetter("duration_minutes")),
    "includes_thematic": Name(attrgetter("includes_thematic")),
    "members_total": Name(attrgetter("members_total")),
    "members_exempt": Name(attrgetter("members_exempt")),
    "members_present": Name(attrgetter("members_present")),
    "members_expected": Name(lambda m: m.members_total - m.members_exempt),
    "attendance_ratio": Name(lambda m: m.members_present / (m.members_total - m.members_exempt)),
    "absences": Name(lambda m: len(m.excused) + len(m.unexcused)),
    "excused_absences": Name(lambda m: len(m.excused)),
    "unexcused_absences": Name(lambda m: len(m.unexcused)),
    "topic_groups": Name(attrgetter("topic_groups")),
    "criticism_held": Name(attrgetter("criticism_held")),
    "hcm_study": Name(attrgetter("hcm_study")),
}
"""Names a meeting expression may use; `thematic` is DESIGN.md's definition."""

CELL_NAMES: dict[str, Name] = {
    "cell_id": Name(attrgetter("cell_id")),
    "org_id": Name(attrgetter("org_id")),
    "cell_type": Name(lambda c: c.cell_type.value, frozenset(CellType)),
    "has_committee": Name(attrgetter("has_committee")),
}
"""Names an `applies_to` expression may use."""
