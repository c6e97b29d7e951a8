"""Event contract v1: the CloudEvents that source systems publish (docs/events.md).

Every type here is a strict msgspec Struct: unknown fields are refused, identifiers are
constrained, dates and offsets are parsed. New fields get defaults; existing field types never
change (msgspec's schema-evolution rule), so consumers of v1 keep working.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from services.contracts.calendar import require_span

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Identifier = Annotated[str, msgspec.Meta(pattern=IDENTIFIER_PATTERN)]
# Free text never carries control characters (PostgreSQL refuses NUL in text, and no name needs
# a line break), so such an event is refused naming its field instead of failing in storage.
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=PRINTABLE_PATTERN)]
Source = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=PRINTABLE_PATTERN)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
TopicGroup = Annotated[int, msgspec.Meta(ge=1, le=5)]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class CellType(enum.StrEnum):
    """The kinds of party cell, which decide the thematic topic groups that matter."""

    rural = "rural"
    urban = "urban"
    agency = "agency"
    public_service = "public_service"
    enterprise = "enterprise"
    military = "military"
    police = "police"
    other = "other"


class MeetingKind(enum.StrEnum):
    """Regular (monthly), thematic, or cell-committee meeting."""

    regular = "regular"
    thematic = "thematic"
    committee = "committee"


class _Data(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class OrgRegistered(_Data, frozen=True):
    """An organisation in the tree (any depth); `parent_id` is null at the root."""

    org_id: Identifier
    name: Name
    parent_id: Identifier | None
    # No period of the subtree that ends before this day is judged (added in contract v1 with a
    # default: a writer that leaves it out means "as far back as the facts go").
    judged_from: date | None = None

    def __post_init__(self) -> None:
        if self.parent_id == self.org_id:
            raise ValueError("`parent_id` must differ from `org_id`")
        require_span("judged_from", self.judged_from)


class CellRegistered(_Data, frozen=True):
    """A party cell and its attributes; a later registration replaces them."""

    cell_id: Identifier
    name: Name
    org_id: Identifier
    cell_type: CellType
    has_committee: bool
    established_on: date
    dissolved_on: date | None

    def __post_init__(self) -> None:
        require_span("established_on", self.established_on)
        require_span("dissolved_on", self.dissolved_on)
        if self.dissolved_on is not None and self.dissolved_on <= self.established_on:
            raise ValueError("`dissolved_on` must be after `established_on`")


class Absence(_Data, frozen=True):
    """One member missing from a meeting, with or without a reason."""

    member_id: Identifier
    excused: bool


class MeetingHeld(_Data, frozen=True):
    """A meeting as recorded by the source; a later record of the same `meeting_id` replaces it."""

    meeting_id: Identifier
    cell_id: Identifier
    kind: MeetingKind
    held_at: AwareDatetime
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)]
    includes_thematic: bool
    members_total: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    members_exempt: Count
    members_present: Count
    absences: Annotated[list[Absence], msgspec.Meta(max_length=100_000)]
    topic_groups: Annotated[list[TopicGroup], msgspec.Meta(max_length=5)]
    criticism_held: bool
    hcm_study: bool

    def __post_init__(self) -> None:
        require_span("held_at", self.held_at)
        if self.members_exempt >= self.members_total:
            raise ValueError("`members_exempt` must be less than `members_total`")
        expected = self.members_total - self.members_exempt
        if self.members_present + len(self.absences) > expected:
            raise ValueError(
                "`members_present` plus the number of `absences` must not exceed "
                f"`members_total` - `members_exempt` ({expected})"
            )
        members = [a.member_id for a in self.absences]
        if len(set(members)) != len(members):
            raise ValueError("`absences` lists a `member_id` more than once")
        if len(set(self.topic_groups)) != len(self.topic_groups):
            raise ValueError("`topic_groups` lists a group more than once")


class MeetingRetracted(_Data, frozen=True):
    """The source withdraws a meeting it reported."""

    meeting_id: Identifier
    cell_id: Identifier


class _Envelope(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, tag_field="type"
):
    specversion: Literal["1.0"]
    id: Identifier
    source: Source
    time: AwareDatetime
    subject: Identifier
    datacontenttype: Literal["application/json"] | None = None

    def __post_init__(self) -> None:
        require_span("time", self.time)


class OrgRegisteredEvent(_Envelope, tag="org.registered", frozen=True):
    """CloudEvent `org.registered`."""

    data: OrgRegistered


class CellRegisteredEvent(_Envelope, tag="cell.registered", frozen=True):
    """CloudEvent `cell.registered`; `subject` is the cell id."""

    data: CellRegistered

    def __post_init__(self) -> None:
        super().__post_init__()
        _subject_must_be(self.subject, self.data.cell_id)


class MeetingHeldEvent(_Envelope, tag="meeting.held", frozen=True):
    """CloudEvent `meeting.held`; `subject` is the cell id."""

    data: MeetingHeld

    def __post_init__(self) -> None:
        super().__post_init__()
        _subject_must_be(self.subject, self.data.cell_id)


class MeetingRetractedEvent(_Envelope, tag="meeting.retracted", frozen=True):
    """CloudEvent `meeting.retracted`; `subject` is the cell id."""

    data: MeetingRetracted

    def __post_init__(self) -> None:
        super().__post_init__()
        _subject_must_be(self.subject, self.data.cell_id)


def _subject_must_be(subject: str, cell_id: str) -> None:
    if subject != cell_id:
        raise ValueError(f"`subject` must be the cell id `{cell_id}`")


Event = OrgRegisteredEvent | CellRegisteredEvent | MeetingHeldEvent | MeetingRetractedEvent

EVENT_TYPES: tuple[str, ...] = (
    "org.registered",
    "cell.registered",
    "meeting.held",
    "meeting.retracted",
)
