"""What the workflow API takes and answers: `Case…` request and response Structs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from services.workflow.adapters.repository import AuditEntry
from services.workflow.domain.definition import Definition
from services.workflow.domain.fields import FindingRef, Note
from services.workflow.domain.model import Case, Kind

Identifier = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CaseCreate(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Open a case for a cell under the current version of a workflow definition."""

    cell_id: Identifier
    org_id: Identifier
    kind: Kind = Kind.inspection
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    workflow: Identifier = "inspection"
    findings: Annotated[list[FindingRef], msgspec.Meta(max_length=500)] = []
    comment: Note = ""


class TransitionCreate(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Fire `trigger` on a case last read at `expected_version`.

    `payload` carries the fields the trigger takes (see `GET /workflows/{name}`): e.g. `start`
    takes `decision_ref`, `team` and `started_on`; `conclude` takes `conclusion`, `shortcomings`
    and `remediation_due`.
    """

    trigger: Identifier
    expected_version: Annotated[int, msgspec.Meta(ge=1)]
    comment: Note = ""
    # Values stay free-form until the trigger's fields decode them; the key count is bounded.
    payload: Annotated[dict[str, Any], msgspec.Meta(max_length=32)] = {}


class Transitioned(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a transition: where the case is now and its new version."""

    case_id: str
    trigger: str
    from_state: str
    state: str
    version: int


class CaseDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A case with its audit trail and the triggers the caller may fire now."""

    case: Case
    history: list[AuditEntry]
    available_triggers: list[str]


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of cases, newest first; ask again with `offset=next_offset` for more."""

    items: list[Case]
    total: int
    next_offset: int | None


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's cases in a year, for the standing committee's report."""

    org_id: str
    year: int
    by_state: dict[str, int]
    overdue_inspections: int
    overdue_remediations: int


class WorkflowView(msgspec.Struct, frozen=True, kw_only=True):
    """A workflow definition's current version, as data and as a Mermaid diagram."""

    name: str
    version: str
    definition: Definition
    mermaid: str
