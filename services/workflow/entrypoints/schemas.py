"""What the workflow API takes and answers: `Case…` request and response Structs."""

from __future__ import annotations

import msgspec

from services.workflow.domain.commands import FireTrigger, OpenCase
from services.workflow.domain.definition import Definition


class CaseCreate(OpenCase, frozen=True):
    """The body of `POST /cases`: open a case for a cell under the current version of a workflow."""


class TransitionCreate(FireTrigger, frozen=True):
    """The body of `POST /cases/{id}/transitions`: fire `trigger` on a case last read at
    `expected_version`, with the `payload` fields the trigger takes (`GET /workflows/{name}`)."""


class WorkflowView(msgspec.Struct, frozen=True, kw_only=True):
    """A workflow definition's current version, as data and as a Mermaid diagram."""

    name: str
    version: str
    definition: Definition
    mermaid: str
