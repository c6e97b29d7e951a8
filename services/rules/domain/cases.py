"""Rule authors' test cases: sample facts beside each rule, and the findings they must produce.

A case file `tests/<rule_id>.yaml` lists cases. Each names cells and meetings in a short form
(defaults give a model cell and a model meeting, so a case states only what matters) and/or full
CloudEvents for contract cases (corrections, retractions, duplicates), then the findings that must
and must not be open at the horizon `until`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec

from services.contracts.events import (
    Absence,
    AwareDatetime,
    CellRegistered,
    CellRegisteredEvent,
    CellType,
    Event,
    Identifier,
    MeetingHeld,
    MeetingHeldEvent,
    MeetingKind,
    TopicGroup,
)
from services.contracts.findings import Evidence
from services.rules.domain.model import RuleId

SHORT_FORM_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Envelope time of short-form facts: any full event in the same case supersedes them."""


class CaseCell(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A cell in short form: a rural cell without committee, established 2020-01-01."""

    cell_id: Identifier
    cell_type: CellType = CellType.rural
    has_committee: bool = False
    established_on: date = date(2020, 1, 1)
    dissolved_on: date | None = None


class CaseMeeting(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A meeting in short form: by default a model regular meeting of 10 members, all present."""

    meeting_id: Identifier
    cell_id: Identifier
    held_at: AwareDatetime
    kind: MeetingKind = MeetingKind.regular
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 120
    includes_thematic: bool = False
    members_total: Annotated[int, msgspec.Meta(ge=1)] = 10
    members_exempt: Annotated[int, msgspec.Meta(ge=0)] = 0
    members_present: Annotated[int, msgspec.Meta(ge=0)] | None = None
    absences: list[Absence] = []
    topic_groups: list[TopicGroup] = []
    criticism_held: bool = True
    hcm_study: bool = True


class Expected(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A finding by identity; `rule` defaults to the file's rule, `observed` is checked if given."""

    cell: Identifier
    scope: str
    rule: RuleId | None = None
    observed: Evidence | None = None


class Case(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One scenario: facts, a horizon, and the open findings expected of the file's rule.

    With `exhaustive` (the default) the file's rule must produce exactly the `must` findings.
    """

    name: Annotated[str, msgspec.Meta(min_length=1)]
    until: date
    cells: list[CaseCell] = []
    meetings: list[CaseMeeting] = []
    events: list[Event] = []
    must: list[Expected] = []
    must_not: list[Expected] = []
    exhaustive: bool = True


class CaseFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """`tests/<rule_id>.yaml`: the cases of one rule."""

    rule: RuleId
    cases: Annotated[list[Case], msgspec.Meta(min_length=1)]


def case_events(case: Case) -> list[Event]:
    """Every fact of a case as CloudEvents, short forms first."""
    events: list[Event] = [
        CellRegisteredEvent(
            specversion="1.0",
            id=f"case-cell-{cell.cell_id}",
            source="chibo-rule-tests",
            time=SHORT_FORM_TIME,
            subject=cell.cell_id,
            data=CellRegistered(
                cell_id=cell.cell_id,
                name=cell.cell_id,
                org_id="case-org",
                cell_type=cell.cell_type,
                has_committee=cell.has_committee,
                established_on=cell.established_on,
                dissolved_on=cell.dissolved_on,
            ),
        )
        for cell in case.cells
    ]
    events.extend(_meeting_event(meeting) for meeting in case.meetings)
    events.extend(case.events)
    return events


def _meeting_event(meeting: CaseMeeting) -> MeetingHeldEvent:
    present = meeting.members_present
    if present is None:  # everyone not exempted and not absent was there
        present = meeting.members_total - meeting.members_exempt - len(meeting.absences)
    fields = msgspec.structs.asdict(meeting) | {"members_present": present}
    return MeetingHeldEvent(
        specversion="1.0",
        id=f"case-meeting-{meeting.meeting_id}",
        source="chibo-rule-tests",
        time=SHORT_FORM_TIME,
        subject=meeting.cell_id,
        data=MeetingHeld(**fields),
    )
