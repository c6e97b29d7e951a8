"""What people ask of the workflow: open a case, fire a trigger on one. Imperatives, strict."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from services.contracts.events import Identifier
from services.workflow.domain.fields import FindingRef, Note
from services.workflow.domain.model import Kind


class OpenCase(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Open a case for a cell under the current version of a workflow definition."""

    cell_id: Identifier
    org_id: Identifier
    kind: Kind = Kind.inspection
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    workflow: Identifier = "inspection"
    findings: Annotated[list[FindingRef], msgspec.Meta(max_length=500)] = []
    comment: Note = ""
    # Open it even though the cell has an open case of the same kind and year (409 otherwise).
    allow_another: bool = False


class FireTrigger(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
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
