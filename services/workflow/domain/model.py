"""The case: what an inspection or supervision of one cell has recorded so far, its audit trail,
and what each transition announces. Pure domain code.

The state machine decides where a trigger moves a case; this module records the payload that came
with it, works out which deadline now runs, and writes the message that tells others.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec

from services.contracts.calendar import VIETNAM
from services.contracts.subjects import case_subject
from services.contracts.workflow import CaseTransitioned
from services.workflow.domain.definition import Definition
from services.workflow.domain.fields import FindingRef, Payload, Shortcoming, TeamMember


class Kind(enum.StrEnum):
    """Inspection (kiểm tra) or supervision (giám sát)."""

    inspection = "inspection"
    supervision = "supervision"


class DeadlineKind(enum.StrEnum):
    """Which deadline runs: the inspection's length or the remediation due date."""

    inspection = "inspection"
    remediation = "remediation"


class Action(msgspec.Struct, kw_only=True):
    """One action of the remediation plan, with its progress."""

    number: int
    text: str
    owner: str
    due: date
    percent: int = 0
    note: str = ""


class VerificationNote(msgspec.Struct, kw_only=True):
    """What an inspector noted while verifying, and when."""

    at: datetime
    actor: str
    note: str


class Case(msgspec.Struct, kw_only=True):
    """One cell's case; `version` counts its transitions and guards concurrent changes."""

    id: str
    cell_id: str
    org_id: str | None
    kind: Kind
    year: int
    state: str
    definition: str
    definition_version: str
    version: int = 1
    findings: list[FindingRef] = []
    decision_ref: str | None = None
    team: list[TeamMember] = []
    started_on: date | None = None
    extension_days: int = 0
    inspection_due: date | None = None
    self_report: str | None = None
    conclusion: str | None = None
    shortcomings: list[Shortcoming] = []
    remediation_due: date | None = None
    actions: list[Action] = []
    verification_notes: list[VerificationNote] = []
    deadline_kind: DeadlineKind | None = None
    deadline_at: datetime | None = None
    inspection_overdue: bool = False
    remediation_overdue: bool = False


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a case's audit trail: who moved it, when, from where to where, and why."""

    version: int
    at: datetime
    actor: str
    role: str
    trigger: str
    from_state: str | None
    to_state: str
    comment: str
    payload: dict[str, Any]


def transition_message(case: Case, entry: AuditEntry) -> tuple[str, str, bytes]:
    """What a transition announces on `chibo.workflow.case.<trigger>`: subject, deterministic
    message id, body."""
    body = CaseTransitioned(
        case_id=case.id,
        cell_id=case.cell_id,
        org_id=case.org_id,
        kind=case.kind,
        year=case.year,
        definition=case.definition,
        definition_version=case.definition_version,
        trigger=entry.trigger,
        from_state=entry.from_state,
        to_state=entry.to_state,
        version=entry.version,
        actor=entry.actor,
        role=entry.role,
        at=entry.at,
        comment=entry.comment,
        payload=entry.payload,
    )
    return case_subject(entry.trigger), f"case-{case.id}-v{case.version}", msgspec.json.encode(body)


def record(case: Case, payload: Payload, actor: str, at: datetime) -> None:
    """Write what the payload carries into the case (guards have already agreed to it)."""
    for name in ("decision_ref", "team", "started_on", "self_report", "conclusion"):
        value = getattr(payload, name)
        if value is not None:
            setattr(case, name, value)
    if payload.shortcomings is not None:
        case.shortcomings = payload.shortcomings
    if payload.remediation_due is not None:
        if payload.remediation_due != case.remediation_due:
            case.remediation_overdue = False  # a new due date gets its own overdue event
        case.remediation_due = payload.remediation_due
    if payload.extension_days is not None:
        case.extension_days += payload.extension_days
    if payload.actions is not None:  # a new plan replaces the old one, progress and all
        case.actions = [
            Action(number=n, text=a.text, owner=a.owner, due=a.due)
            for n, a in enumerate(payload.actions, start=1)
        ]
    for report in payload.progress or []:
        action = case.actions[report.action - 1]
        action.percent, action.note = report.percent, report.note
    if payload.verification_note is not None:
        case.verification_notes.append(
            VerificationNote(at=at, actor=actor, note=payload.verification_note)
        )


def schedule(case: Case, definition: Definition) -> None:
    """Set the inspection due date and the deadline that runs in the case's current state."""
    rules = definition.deadlines
    if rules.inspection and case.started_on is not None:
        length = rules.inspection.days - 1 + case.extension_days  # the start day is day one
        due = case.started_on + timedelta(days=length)
        if due != case.inspection_due:
            case.inspection_overdue = False  # an extension gets its own overdue event
        case.inspection_due = due
    case.deadline_kind, case.deadline_at = None, None
    if rules.inspection and case.state in rules.inspection.while_in and case.inspection_due:
        case.deadline_kind, case.deadline_at = DeadlineKind.inspection, _passes(case.inspection_due)
    elif rules.remediation and case.state in rules.remediation.while_in and case.remediation_due:
        case.deadline_kind = DeadlineKind.remediation
        case.deadline_at = _passes(case.remediation_due)


def _passes(due: date) -> datetime:
    # A due date is a Vietnam calendar day: it has passed once that day is over there.
    return datetime.combine(due + timedelta(days=1), time(0), VIETNAM)
