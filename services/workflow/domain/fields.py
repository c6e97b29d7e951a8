"""What a trigger's payload may carry: a fixed catalogue of typed fields, strict at the boundary,
and the check of a request's payload against what its trigger takes (400 when it does not).

A definition names, per trigger, which of these fields it takes and which are required; the
type of each field is fixed here, so a YAML author cannot invent shapes the case cannot hold.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Annotated, Any

import msgspec

from services.contracts.calendar import require_span
from services.workflow.domain.definition import Requirement, Trigger
from services.workflow.errors import PayloadError

# PostgreSQL's text and jsonb hold no NUL: text with one is refused here, naming its field,
# instead of failing in storage. (No stored case can hold one, so cases read back still decode.)
NO_NUL_PATTERN = r"^[^\x00]*$"
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=NO_NUL_PATTERN)]
Note = Annotated[str, msgspec.Meta(max_length=2_000, pattern=NO_NUL_PATTERN)]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]


class TeamRole(enum.StrEnum):
    """A team member's part in the inspection: the leader (trưởng đoàn) or a member."""

    leader = "leader"
    member = "member"


class TeamMember(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One person on the inspection team."""

    name: ShortText
    role: TeamRole = TeamRole.member


class FindingRef(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A finding's identity as the rules service publishes it."""

    rule_id: ShortText
    cell_id: ShortText
    scope: ShortText


class Shortcoming(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A shortcoming named in the conclusion notice, optionally linked to findings."""

    text: LongText
    findings: Annotated[list[FindingRef], msgspec.Meta(max_length=100)] = []


class PlannedAction(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One action of the cell's remediation plan as the secretary submits it."""

    text: LongText
    owner: ShortText
    due: date

    def __post_init__(self) -> None:
        require_span("due", self.due)


class ProgressReport(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How far one planned action (numbered from 1, in plan order) has come."""

    action: Annotated[int, msgspec.Meta(ge=1)]
    percent: Percent
    note: Note = ""


class Payload(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True
):
    """Every payload field a trigger may take; a definition picks its subset per trigger."""

    decision_ref: ShortText | None = None
    team: Annotated[list[TeamMember], msgspec.Meta(min_length=1, max_length=50)] | None = None
    started_on: date | None = None
    extension_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None
    self_report: LongText | None = None
    conclusion: LongText | None = None
    shortcomings: Annotated[list[Shortcoming], msgspec.Meta(max_length=100)] | None = None
    remediation_due: date | None = None
    actions: Annotated[list[PlannedAction], msgspec.Meta(min_length=1, max_length=100)] | None = (
        None
    )
    progress: Annotated[list[ProgressReport], msgspec.Meta(min_length=1, max_length=100)] | None = (
        None
    )
    verification_note: LongText | None = None

    def __post_init__(self) -> None:
        require_span("started_on", self.started_on)
        require_span("remediation_due", self.remediation_due)

    def given(self) -> set[str]:
        """The names of the fields this payload carries."""
        return {name for name in self.__struct_fields__ if getattr(self, name) is not None}


_NAMED = re.compile(r"^`(\w+)`")
PAYLOAD_FIELDS = frozenset(Payload.__struct_fields__)
"""The names a definition may list under a trigger's `payload`."""


def decode_payload(name: str, trigger: Trigger, given: dict[str, Any], comment: str) -> Payload:
    """The payload `given` to trigger `name` as a strict `Payload`, holding only fields the
    trigger takes; a trigger that wants a comment gets one."""
    takes = ", ".join(trigger.payload) or "nothing"
    for field in given:
        if field not in trigger.payload:
            raise PayloadError(
                f"`{name}` takes no payload field `{field}`; it takes {takes}", f"payload.{field}"
            )
    try:
        payload = msgspec.convert(given, Payload)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        field = "payload" + path.rstrip("`").removeprefix("$")
        if named := _NAMED.match(message):  # a check of the struct names its field first
            field += f".{named[1]}"
        raise PayloadError(f"{field}: {message}", field) from None
    for field, requirement in trigger.payload.items():
        if requirement == Requirement.required and getattr(payload, field) is None:
            raise PayloadError(f"`{name}` requires payload field `{field}`", f"payload.{field}")
    if trigger.comment_required and not comment.strip():
        raise PayloadError(f"`{name}` requires a comment saying why", "comment")
    return payload
